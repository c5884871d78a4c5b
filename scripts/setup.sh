#!/usr/bin/env bash
# Installs every Debian package Graft's build, tests, fixtures and example need, then creates
# the Python environment of the interop tests (.venv-interop/, see docs/interop.md).
#   ./scripts/setup.sh               both
#   ./scripts/setup.sh --no-interop  Debian packages only (no network to PyPI: the interop tests
#                                    then report themselves as skipped)
# Idempotent: packages already present are skipped by apt; the venv is left alone when it
# already holds the pinned versions. Runs apt-get as root, sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

interop=1
for argument in "$@"; do
  case "$argument" in
    --no-interop) interop=0 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup: unknown option $argument (try --help)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-charts-dev qt6-svg-dev qt6-base-dev-tools libqt6opengl6-dev libgl-dev
  libtorch-dev xtensor-dev zlib1g-dev libdeflate-dev libsimdjson-dev
  python3 python3-numpy python3-torch python3-torchvision
  xvfb xauth time
  dpkg-dev desktop-file-utils  # package_install: dpkg-shlibdeps, desktop-file-validate
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "$interop" -eq 1 ] || { echo "setup: --no-interop: no .venv-interop/ (the interop tests will be skipped)"; exit 0; }
exec ./scripts/setup-interop.sh
