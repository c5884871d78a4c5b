# Installing Graft like desktop software: man pages, the Debian package (CPack).
#   cmake --build build --target package   ->  build/graft_<version>_<arch>.deb
# The package installs under /usr whatever CMAKE_INSTALL_PREFIX says; the LibTorch module lands
# in /usr/${GRAFT_PLUGIN_DIR} (lib/graft with the default prefix), which graft-cli finds relative
# to its own executable (core/tensor/tensorengine.cpp), so an unpacked copy works from anywhere.
# tests/package/check_package.sh (ctest's package_install) builds, unpacks and runs it.

# Man pages: docs/man/*.1.in with the version filled in, gzipped as Debian policy wants
# (-n: no name or time stamp in the header, so the same page gives the same bytes).
set(GRAFT_MAN_PAGES graft graft-cli)
set(_graft_man_outputs)
foreach(page IN LISTS GRAFT_MAN_PAGES)
  configure_file(${PROJECT_SOURCE_DIR}/docs/man/${page}.1.in ${PROJECT_BINARY_DIR}/man/${page}.1 @ONLY)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${page}.1.gz
    COMMAND gzip -9nkf ${page}.1
    DEPENDS ${PROJECT_BINARY_DIR}/man/${page}.1
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/man
    COMMENT "Compressing man page ${page}.1"
    VERBATIM)
  list(APPEND _graft_man_outputs ${PROJECT_BINARY_DIR}/man/${page}.1.gz)
endforeach()
add_custom_target(graft_man_pages ALL DEPENDS ${_graft_man_outputs})
install(FILES ${_graft_man_outputs} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# Menu entry and icon: dpkg's triggers (desktop-file-utils' on share/applications,
# hicolor-icon-theme's and GTK's on share/icons/hicolor) refresh the caches, so the package
# needs no maintainer scripts.
install(FILES resources/graft.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES resources/icons/graft.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
# The same icon as PNG in the theme's fixed sizes, rendered from the SVG with QtSvg.
add_executable(graft_render_icon resources/icons/render_icon.cpp)
target_link_libraries(graft_render_icon PRIVATE Qt6::Svg Qt6::Gui)
set(GRAFT_ICON_SIZES 48 64 128 256)
set(_graft_icon_outputs)
foreach(size IN LISTS GRAFT_ICON_SIZES)
  set(_dir ${PROJECT_BINARY_DIR}/icons/${size}x${size})
  add_custom_command(OUTPUT ${_dir}/graft.png
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_dir}
    COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
            $<TARGET_FILE:graft_render_icon> ${PROJECT_SOURCE_DIR}/resources/icons/graft.svg ${size} ${_dir}/graft.png
    DEPENDS graft_render_icon ${PROJECT_SOURCE_DIR}/resources/icons/graft.svg
    COMMENT "Rendering the ${size}x${size} icon"
    VERBATIM)
  list(APPEND _graft_icon_outputs ${_dir}/graft.png)
  install(FILES ${_dir}/graft.png DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps)
endforeach()
add_custom_target(graft_icons ALL DEPENDS ${_graft_icon_outputs})
install(FILES resources/python/graft_export.py DESTINATION ${CMAKE_INSTALL_DATADIR}/graft/python)

# --- The Debian package ---------------------------------------------------------------------
execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE _graft_deb_arch
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _graft_dpkg_result)
if(NOT _graft_dpkg_result EQUAL 0 OR _graft_deb_arch STREQUAL "")
  set(_graft_deb_arch amd64)
endif()

set(GRAFT_PACKAGE_MAINTAINER "Graft maintainers <maintainers@users.noreply.r-seed-ca9beda3.example>"
  CACHE STRING "Maintainer field of the Debian package")

# Runtime dependencies, Debian 12 package names, with at least the versions dpkg-shlibdeps
# derives from the binaries (package_install checks both: every library the binaries and the
# module link is covered, with a version no lower than dpkg-shlibdeps asks, and nothing else is
# declared but the plugin below). graft-cli links QtCore, zlib, libdeflate and simdjson; graft adds Widgets, Gui
# (which holds the X11 platform plugin) and Charts (QtConcurrent::run is header-only: no
# libqt6concurrent6); the LibTorch module links libtorch1.13 (libtorch, libtorch_cpu, libc10).
# libqt6svg6 is linked by nothing: it holds the SVG image and icon-engine plugins Qt loads to
# draw the window icon (:/icons/graft.svg).
set(GRAFT_DEB_DEPENDS
  "libc6 (>= 2.34)"
  "libgcc-s1 (>= 3.0)"
  "libstdc++6 (>= 12)"
  "zlib1g (>= 1:1.2.11.dfsg)"
  "libdeflate0 (>= 1.0)"
  "libsimdjson14 (>= 3.0.1)"
  "libqt6core6 (>= 6.4.0)"
  "libqt6gui6 (>= 6.4.0)"
  "libqt6widgets6 (>= 6.4.0)"
  "libqt6charts6 (>= 6.4.0)"
  "libqt6svg6 (>= 6.4.0)"
  "libtorch1.13 (>= 1.13.1+dfsg)")
list(JOIN GRAFT_DEB_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
# Wayland sessions run Qt natively with it (XWayland otherwise); the exporter needs Python.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME graft)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Graft")
set(CPACK_PACKAGE_CONTACT "${GRAFT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "move pretrained weights between models (PyTorch to Equinox, Flax...)")
set(CPACK_PACKAGE_DESCRIPTION
  "Graft lists a source checkpoint (PyTorch state_dict, safetensors, numpy) and a target\n\
(an Equinox model's skeleton, a Flax npz, another PyTorch checkpoint) without loading them,\n\
matches source keys to target leaves, shows every mismatch with its fix, and writes a file\n\
the target framework loads directly, atomically and bit-exact.\n\
.\n\
This package holds the desktop workbench (graft), the command line tool (graft-cli:\n\
inspect, map, convert, diff), the LibTorch module that transforms tensor data, and\n\
graft_export.py, which exports an Equinox model's skeleton.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${_graft_deb_arch})
set(CPACK_DEBIAN_FILE_NAME "graft_${PROJECT_VERSION}_${_graft_deb_arch}.deb")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
include(CPack)
