#!/usr/bin/python3
"""Loads the .eqx Graft wrote for the bundled example the way eqx.tree_deserialise_leaves does
(np.load record by record, in skeleton order, checking shape and dtype), and compares every
leaf with the PyTorch state_dict it came from.

    /usr/bin/python3 scripts/check-example.py OUT.eqx SKELETON.json SOURCE.pth
"""

import json
import sys

import numpy as np
import torch


def main(eqx_path, skeleton_path, source_path):
    leaves = json.load(open(skeleton_path))["leaves"]
    state = torch.load(source_path)
    torch_key = {".features[%d].%s" % (i, p): "features.%d.%s" % (i, p) for i in range(64) for p in ("weight", "bias")}
    torch_key.update({".classifier[%d].%s" % (i, p): "classifier.%d.%s" % (i, p) for i in range(64) for p in ("weight", "bias")})
    bad = 0
    with open(eqx_path, "rb") as f:
        for leaf in leaves:
            array = np.load(f)
            expected_shape = tuple(leaf["shape"])
            if array.shape != expected_shape or array.dtype != np.dtype(leaf["dtype"]):
                print("MISMATCH %s: %s %s, skeleton says %s %s" % (leaf["path"], array.shape, array.dtype, expected_shape, leaf["dtype"]))
                bad += 1
                continue
            source = torch_key.get(leaf["path"])
            if source in state:
                ported = state[source].numpy().reshape(expected_shape)
                same = np.array_equal(array, ported)
                bad += 0 if same else 1
                print("%-26s %-16s from %-22s %s" % (leaf["path"], str(expected_shape), source, "identical" if same else "DIFFERENT"))
            else:
                print("%-26s %-16s kept from the skeleton (%s)" % (leaf["path"], str(expected_shape), array.tolist()))
        rest = f.read()
    if rest:
        print("MISMATCH: %d bytes left after the last record" % len(rest))
        bad += 1
    print("OK: every record loads as Equinox loads it, and every mapped leaf equals the PyTorch weight" if bad == 0 else "%d problems" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
