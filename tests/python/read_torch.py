#!/usr/bin/python3
"""Loads a .pt with torch.load and checks it against a manifest.

    read_torch.py FILE.pt MANIFEST.json

The file must load as a plain dict of tensors with the manifest's keys in order, each with the
expected torch dtype, shape and bits (bfloat16 compared as its raw 16 bits) — both the way
torch 1.13 loads by default (weights_only=False) and with the allowlist unpickler that
torch >= 2.6 uses by default (weights_only=True). torch.load does not check the zip's CRC-32s,
so zipfile.testzip() does.
"""

import sys
import zipfile

import torch

from graftcheck import Failures, load_manifest, sha256

TORCH_DTYPES = {
    "bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
    "complex64": torch.complex64, "complex128": torch.complex128,
}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def check(failures, loaded, leaves, mode):
    failures.check(type(loaded) is dict, "%s: loaded a %s, not a dict" % (mode, type(loaded)))
    failures.check(list(loaded) == [leaf["key"] for leaf in leaves],
                   "%s: keys %s, expected %s" % (mode, list(loaded)[:5], [leaf["key"] for leaf in leaves][:5]))
    for leaf in leaves:
        key = leaf["key"]
        tensor = loaded.get(key)
        if not failures.check(isinstance(tensor, torch.Tensor), "%s: %s: not a tensor: %r" % (mode, key, type(tensor))):
            continue
        failures.check(tensor.dtype == TORCH_DTYPES[leaf["dtype"]],
                       "%s: %s: dtype %s, expected %s" % (mode, key, tensor.dtype, leaf["dtype"]))
        failures.check(list(tensor.shape) == leaf["shape"],
                       "%s: %s: shape %s, expected %s" % (mode, key, list(tensor.shape), leaf["shape"]))
        failures.check(not tensor.requires_grad, "%s: %s: requires_grad" % (mode, key))
        failures.check(sha256(tensor_bytes(tensor)) == leaf["sha256"], "%s: %s: values differ" % (mode, key))


def main(path, manifest_path):
    leaves = load_manifest(manifest_path)["leaves"]
    failures = Failures()
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        failures.check(bad is None, "CRC or header error in member %r" % bad)
    for weights_only in (False, True):
        mode = "weights_only=%s" % weights_only
        try:
            loaded = torch.load(path, weights_only=weights_only)
        except Exception as error:
            failures.check(False, "%s: torch.load failed: %s" % (mode, error))
            continue
        check(failures, loaded, leaves, mode)
    failures.finish(len(leaves))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
