#!/usr/bin/env bash
# The main job on the bundled example: inspect the source checkpoint and the Equinox skeleton
# with graft-cli. With a display, also opens both in the desktop app.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/graft-cli
example=resources/examples
echo "== graft-cli inspect $example/tiny_vgg.pth"
"$cli" inspect "$example/tiny_vgg.pth"
echo
echo "== graft-cli inspect $example/tiny_vgg.skeleton.json"
"$cli" inspect "$example/tiny_vgg.skeleton.json"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo
  echo "== opening both in the desktop app (build/app/graft)"
  build/app/graft "$example/tiny_vgg.pth" "$example/tiny_vgg.skeleton.json"
fi
