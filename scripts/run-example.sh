#!/usr/bin/env bash
# The main job on the bundled example: a VGG-style PyTorch checkpoint ported into the Equinox
# model described by its skeleton. Inspects both, shows the mapping with its fixes, writes the
# .eqx, and checks it in Python the way eqx.tree_deserialise_leaves reads it. With a display,
# also opens both in the desktop app.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/graft-cli
example=resources/examples
out=build/example
mkdir -p "$out"

echo "== graft-cli inspect $example/tiny_vgg.pth"
"$cli" inspect "$example/tiny_vgg.pth"
echo
echo "== graft-cli map $example/tiny_vgg.pth $example/tiny_vgg.skeleton.json"
"$cli" map "$example/tiny_vgg.pth" "$example/tiny_vgg.skeleton.json" --save-profile "$out/tiny_vgg.graft.json"
echo
echo "== graft-cli convert … -o $out/tiny_vgg_grafted.eqx"
"$cli" convert "$example/tiny_vgg.pth" "$example/tiny_vgg.skeleton.json" -o "$out/tiny_vgg_grafted.eqx"
echo
echo "== loading $out/tiny_vgg_grafted.eqx as Equinox would (numpy) and comparing with torch"
/usr/bin/python3 scripts/check-example.py "$out/tiny_vgg_grafted.eqx" "$example/tiny_vgg.skeleton.json" "$example/tiny_vgg.pth"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo
  echo "== opening both in the desktop app (build/app/graft)"
  build/app/graft "$example/tiny_vgg.pth" "$example/tiny_vgg.skeleton.json"
fi
