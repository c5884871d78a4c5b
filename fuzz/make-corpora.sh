#!/usr/bin/env bash
# Seeds one corpus folder per harness from the test fixtures (build/tests/fixtures, made by
# tests/fixtures/make_fixtures.py). Usage: fuzz/make-corpora.sh [CORPUS_ROOT] [FIXTURES]
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-build-fuzz/corpus}"
fx="${2:-build/tests/fixtures}"
[ -d "$fx" ] || { echo "no fixtures in $fx: run ctest -R make_fixtures in build first" >&2; exit 1; }
for dir in pickle torchzip torchpickle torchscript legacy safetensors safetensorsindex npyheader npz eqx msgpack skeleton profile; do
  mkdir -p "$root/$dir"
done
# Whole zips, minus the 46 MB resnet (libFuzzer's -max_len keeps inputs small anyway).
for f in "$fx"/*.pth "$fx"/diff/*.pth; do
  case "$(basename "$f")" in resnet18.pth|legacy_*) ;; *) [ "$(head -c2 "$f")" = "PK" ] && cp -f "$f" "$root/torchzip/";; esac
done
# TorchScript archives (torch.jit.save), minus the 10 MB scripted mobilenet.
for f in "$fx"/*.pt; do
  case "$(basename "$f")" in script_mobilenet.pt) ;; *) cp -f "$f" "$root/torchzip/";; esac
done
# data.pkl members: seeds for the raw unpickler and the container-wrapped one (pickled whole
# models among them); TorchScript data.pkl members seed the torchscript harness.
/usr/bin/python3 - "$fx" "$root" <<'PY'
import sys, zipfile, glob, os
fx, root = sys.argv[1], sys.argv[2]
for f in glob.glob(os.path.join(fx, '*.pth')):
    if not zipfile.is_zipfile(f):
        continue
    with zipfile.ZipFile(f) as z:
        for n in z.namelist():
            if n.endswith('data.pkl'):
                data = z.read(n)
                base = os.path.basename(f) + '.data.pkl'
                for d in ('pickle', 'torchpickle'):
                    open(os.path.join(root, d, base), 'wb').write(data)
for f in glob.glob(os.path.join(fx, '*.pt')):
    with zipfile.ZipFile(f) as z:
        for n in z.namelist():
            if n.endswith('/data.pkl') or n.endswith('/constants.pkl'):
                data = z.read(n)
                base = os.path.basename(f) + '.' + os.path.basename(n)
                for d in ('pickle', 'torchscript'):
                    open(os.path.join(root, d, base), 'wb').write(data)
# The legacy pickle chain's first pickles, also as raw-unpickler seeds.
for f in glob.glob(os.path.join(fx, 'legacy_*.pth')):
    data = open(f, 'rb').read()
    if len(data) < 200000:
        open(os.path.join(root, 'pickle', os.path.basename(f)), 'wb').write(data)
PY
cp -f "$fx"/legacy_dtypes.pth "$fx"/legacy_views.pth "$fx"/legacy_module.pth "$root/legacy/"
head -c 300000 "$fx"/legacy_resnet18.pth > "$root/legacy/legacy_resnet18.head"
cp -f "$fx"/*.safetensors "$fx"/diff/*.safetensors "$root/safetensors/" 2>/dev/null || true
cp -f "$fx"/sharded/model.safetensors.index.json "$root/safetensorsindex/"
for f in "$fx"/*.npy; do cp -f "$f" "$root/npyheader/"; done
cp -f "$fx"/*.npz "$root/npz/"
cp -f "$fx"/*.eqx "$fx"/*.npy "$root/eqx/"
cp -f "$fx"/*.skeleton.json "$root/skeleton/"
cp -f "$fx"/*.msgpack "$root/msgpack/"
# Profiles: saved by graft-cli from the fixtures when it is built, else a hand-written one.
cli="build/app/graft-cli"; [ -x "$cli" ] || cli="$(find build -name graft-cli -type f -perm -u+x | head -1)"
if [ -n "$cli" ] && [ -x "$cli" ]; then
  "$cli" map "$fx/tiny_vgg.pth" "$fx/tiny_vgg.skeleton.json" --save-profile "$root/profile/tiny_vgg.json" >/dev/null 2>&1 || true
  "$cli" map "$fx/tiny_vgg.pth" "$fx/tiny_vgg.safetensors" --rule 'features=>features' \
    --save-profile "$root/profile/rule.json" >/dev/null 2>&1 || true
fi
cat > "$root/profile/minimal.json" <<'JSON'
{"format": "graft-profile", "version": 1, "rules": [{"pattern": "^module\\.", "replacement": ""}],
 "mappings": [{"target": "a", "source": "b", "transforms": [{"op": "transpose", "axes": [1, 0]}]}],
 "ignored": ["x"], "kept": ["y"]}
JSON
for d in "$root"/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds"; done
