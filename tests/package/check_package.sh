#!/usr/bin/env bash
# package_install (ctest): builds the Debian package from the build tree with cpack, checks its
# file name and control fields (Depends against what dpkg-shlibdeps derives from the packaged
# binaries), unpacks it with `dpkg-deb -x` into a scratch root and runs that graft-cli as a user
# would: --help, inspect, and a convert that needs the LibTorch module, which it must find
# inside the unpacked root (checked with the dynamic loader's own log), byte for byte what the
# build tree's graft-cli writes. Then the man pages (every command and option the programs'
# --help lists), the desktop file, the icon and the Python exporter.
#   check_package.sh BUILD_DIR SOURCE_DIR VERSION FIXTURE_DIR
# Needs cpack (cmake), dpkg-deb, dpkg-shlibdeps (dpkg-dev) and desktop-file-validate
# (desktop-file-utils): scripts/setup.sh installs them.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 BUILD_DIR SOURCE_DIR VERSION FIXTURE_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd -P)
source_dir=$(cd "$2" && pwd)
version=$3
fixtures=$4
work="$build/tests/package_install"
started=$(date +%s.%N)

fail() { echo "package_install: FAIL: $*" >&2; exit 1; }
note() { echo "package_install: $*"; }

for tool in cpack dpkg-deb dpkg-shlibdeps desktop-file-validate readelf; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (run scripts/setup.sh)"
done
# A sanitizer build (scripts/sanitize.sh) is not a package: its binaries need libasan/libubsan.
if readelf -d "$build/app/graft-cli" | grep -qE 'NEEDED.*lib(a|ub|t)san'; then
  note "skipped: $build is a sanitizer build"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work/out"

# --- 1. Build the package -------------------------------------------------------------------
arch=$(dpkg --print-architecture)
deb="$work/out/graft_${version}_${arch}.deb"
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack failed (is the whole build tree built? cmake --build $build)"
fi
[ -f "$deb" ] || fail "expected $deb; cpack wrote: $(ls "$work/out")"
note "built $(basename "$deb"): $(stat -c %s "$deb") bytes in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"

# --- 2. Control fields ----------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = graft ] || fail "Package is '$(field Package)', not graft"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', not $arch"
depends=$(field Depends)
note "Depends: $depends"
IFS=',' read -r -a declared <<<"$depends"

dpkg-deb -x "$deb" "$work/root"
root="$work/root"

# Every package dpkg-shlibdeps derives from the packaged ELF files (binaries and the module)
# must be declared, with a version at least as high.
mapfile -t elves < <(find "$root" -type f \( -path '*/bin/*' -o -name '*.so' \) | sort)
[ ${#elves[@]} -ge 3 ] || fail "expected graft, graft-cli and the module, found: ${elves[*]}"
mkdir -p "$work/shlibs/debian"
touch "$work/shlibs/debian/control"
derived=$(cd "$work/shlibs" && dpkg-shlibdeps -O --warnings=0 "${elves[@]}") || fail "dpkg-shlibdeps failed"
derived=${derived#shlibs:Depends=}
note "dpkg-shlibdeps derives: $derived"
IFS=',' read -r -a needed <<<"$derived"
for item in "${needed[@]}"; do
  item=$(echo "$item" | xargs)
  name=${item%% *}
  want=$(sed -n 's/.*(>= \(.*\))/\1/p' <<<"$item")
  found=""
  for entry in "${declared[@]}"; do
    entry=$(echo "$entry" | xargs)
    [ "${entry%% *}" = "$name" ] && found=$entry
  done
  [ -n "$found" ] || fail "Depends lacks $name (needed: $item; cmake/Packaging.cmake GRAFT_DEB_DEPENDS)"
  if [ -n "$want" ]; then
    have=$(sed -n 's/.*(>= \(.*\))/\1/p' <<<"$found")
    [ -n "$have" ] && dpkg --compare-versions "$have" ge "$want" ||
      fail "Depends has '$found', the binaries need '$item'"
  fi
done
# Nothing else is declared, but the one runtime plugin package no binary links: libqt6svg6
# (Qt's SVG image and icon-engine plugins draw the window icon).
names() { tr ',' '\n' <<<"$1" | awk 'NF { print $1 }'; }
for name in $(names "$depends"); do
  [ "$name" = libqt6svg6 ] && continue
  names "$derived" | grep -qxF "$name" || fail "Depends declares $name, which no packaged binary links"
done
for name in libqt6core6 libqt6widgets6 libtorch1.13; do
  names "$depends" | grep -qxF "$name" || fail "Depends does not name $name"
done

# --- 3. What goes where ---------------------------------------------------------------------
for path in usr/bin/graft usr/bin/graft-cli usr/share/applications/graft.desktop \
            usr/share/icons/hicolor/scalable/apps/graft.svg usr/share/graft/python/graft_export.py \
            usr/share/man/man1/graft.1.gz usr/share/man/man1/graft-cli.1.gz; do
  [ -f "$root/$path" ] || fail "the package lacks /$path (it has: $(cd "$root" && find . -type f | sort | tr '\n' ' '))"
done
for size in 48 64 128 256; do
  png="$root/usr/share/icons/hicolor/${size}x${size}/apps/graft.png"
  [ -f "$png" ] || fail "the package lacks the ${size}x${size} icon"
  # PNG: 8-byte signature, IHDR length and type, then width and height as big-endian 32-bit.
  read -r -a ihdr < <(od -An -tu1 -j16 -N8 "$png")
  [ "$(( (ihdr[2] << 8) + ihdr[3] ))x$(( (ihdr[6] << 8) + ihdr[7] ))" = "${size}x${size}" ] ||
    fail "icons/hicolor/${size}x${size}/apps/graft.png is not ${size}x${size}"
done
module=$(find "$root/usr/lib" -name libgraft_torch.so)
[ -n "$module" ] || fail "the package holds no libgraft_torch.so under /usr/lib"
note "module at /${module#"$root"/}"
cmp -s "$root/usr/share/graft/python/graft_export.py" "$source_dir/resources/python/graft_export.py" ||
  fail "the packaged graft_export.py differs from resources/python/graft_export.py"
for elf in "${elves[@]}"; do
  ! readelf -d "$elf" | grep -qE 'RPATH|RUNPATH' || fail "${elf#"$root"} keeps an RPATH: $(readelf -d "$elf" | grep -E 'RPATH|RUNPATH')"
  ! readelf -S "$elf" | grep -q '\.debug_info' || fail "${elf#"$root"} is not stripped"
done
desktop-file-validate "$root/usr/share/applications/graft.desktop" || fail "graft.desktop does not validate"
grep -qx 'Exec=graft %F' "$root/usr/share/applications/graft.desktop" || fail "graft.desktop does not run graft"
grep -qx 'Icon=graft' "$root/usr/share/applications/graft.desktop" || fail "graft.desktop's Icon is not graft"

# --- 4. Run the unpacked graft-cli ----------------------------------------------------------
cli="$root/usr/bin/graft-cli"
built_cli="$build/app/graft-cli"
run() { env -u GRAFT_PLUGIN_DIR "$@"; }
[ "$(run "$cli" --version)" = "graft-cli $version" ] || fail "--version says '$(run "$cli" --version)'"
run "$cli" --help >"$work/help.txt" || fail "graft-cli --help failed"
run "$built_cli" --help | cmp -s - "$work/help.txt" || fail "the packaged graft-cli --help differs from the build tree's"
grep -q '^commands:' "$work/help.txt" || fail "graft-cli --help lists no commands"
example="$source_dir/resources/examples/tiny_vgg.pth"
for arguments in "inspect $example" "inspect $example --json"; do
  # shellcheck disable=SC2086
  run "$cli" $arguments >"$work/inspect.txt" || fail "graft-cli $arguments failed"
  # shellcheck disable=SC2086
  run "$built_cli" $arguments | cmp -s - "$work/inspect.txt" || fail "graft-cli $arguments differs from the build tree's"
done
grep -q 'features.0.weight' "$work/inspect.txt" || fail "inspect does not list features.0.weight"

# Flax targets need every kernel transposed: only the LibTorch module does that.
source_pth="$fixtures/mapping/mlp.pth"
target_npz="$fixtures/mapping/mlp_flax.npz"
[ -f "$source_pth" ] && [ -f "$target_npz" ] || fail "fixtures missing in $fixtures/mapping (run ctest's make_fixtures)"
LD_DEBUG=files LD_DEBUG_OUTPUT="$work/loader" run "$cli" convert "$source_pth" "$target_npz" -o "$work/packaged.npz" \
  >"$work/convert.txt" 2>&1 || { cat "$work/convert.txt" >&2; fail "the packaged graft-cli convert failed"; }
loaded=$(cat "$work"/loader.* | sed -n 's/.*file=\([^ ]*libgraft_torch\.so\) .*generating link map.*/\1/p' | sort -u)
[ -n "$loaded" ] || fail "convert did not load the LibTorch module (a Flax target needs transposes)"
[ "$loaded" = "$module" ] || fail "the packaged graft-cli loaded $loaded, not its own $module"
run "$built_cli" convert "$source_pth" "$target_npz" -o "$work/built.npz" >/dev/null ||
  fail "the build tree's graft-cli convert failed"
cmp "$work/packaged.npz" "$work/built.npz" || fail "the packaged graft-cli wrote other bytes than the build tree's"
run "$cli" diff "$work/packaged.npz" "$fixtures/mapping/mlp_flax_expected.npz" >"$work/diff.txt" ||
  { cat "$work/diff.txt" >&2; fail "the converted file differs from mlp_flax_expected.npz"; }

# --- 5. Man pages cover what --help lists ---------------------------------------------------
man_text() { zcat "$root/usr/share/man/man1/$1.1.gz" | sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g'; }
man_text graft-cli >"$work/graft-cli.man"
man_text graft >"$work/graft.man"
grep -q "^\.TH GRAFT-CLI 1 .*\"Graft $version\"" "$work/graft-cli.man" || fail "graft-cli.1's .TH lacks 'Graft $version'"
mapfile -t commands < <(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$work/help.txt")
[ ${#commands[@]} -ge 4 ] || fail "graft-cli --help lists only: ${commands[*]}"
helps=("$work/help.txt")
for command in "${commands[@]}"; do
  grep -q "graft-cli $command" "$work/graft-cli.man" || fail "graft-cli.1 does not describe the command $command"
  run "$cli" "$command" --help >"$work/help-$command.txt" || fail "graft-cli $command --help failed"
  helps+=("$work/help-$command.txt")
done
options() { grep -ohE '(^|[ [,])--?[a-z][a-z-]*' "$@" | sed 's/^[ [,]//' | sort -u; }
for option in $(options "${helps[@]}"); do
  grep -qe "$option\b" "$work/graft-cli.man" || fail "graft-cli.1 lacks $option (listed by graft-cli's --help)"
done
QT_QPA_PLATFORM=offscreen run "$root/usr/bin/graft" --help >"$work/graft-help.txt" 2>&1 ||
  { cat "$work/graft-help.txt" >&2; fail "the packaged graft --help failed"; }
grep -q -- '--diff' "$work/graft-help.txt" || fail "graft --help does not list --diff"
for option in $(options "$work/graft-help.txt"); do
  grep -qe "$option\b" "$work/graft.man" || fail "graft.1 lacks $option (listed by graft --help)"
done
if command -v man >/dev/null; then
  for page in graft graft-cli; do
    warnings=$(MANWIDTH=80 man --warnings -l "$root/usr/share/man/man1/$page.1.gz" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$page.1: $warnings"
  done
fi

note "ok in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
