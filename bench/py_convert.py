#!/usr/bin/python3
"""W2 baseline: the script Graft replaces. torch.load the state_dict, zip its values onto the
Equinox skeleton's array leaves by order, turn 1-D biases into [:, None, None] where the leaf
has more dims, and np.save every leaf (scalars included) back to back, as
eqx.tree_serialise_leaves writes them.

    py_convert.py SOURCE.pth TARGET.skeleton.json OUT.eqx

The scalar leaves' values come from TARGET.scalars.json (bench/make_workloads.py), so the output
is byte-identical to what `graft-cli convert` writes (bench/run.py checks it).
"""
import json
import sys

import numpy as np
import torch

source, skeleton, out = sys.argv[1:4]
state = torch.load(source, map_location="cpu")
with open(skeleton, encoding="utf-8") as f:
    leaves = json.load(f)["leaves"]
with open(skeleton.replace(".skeleton.json", ".scalars.json"), encoding="utf-8") as f:
    scalars = json.load(f)
values = iter(state.values())
with open(out, "wb") as f:
    for leaf in leaves:
        if leaf["kind"] == "scalar":
            value = scalars[leaf["path"]]
            np.save(f, np.asarray(float("-inf") if value == "-inf" else value))
            continue
        array = next(values).numpy()
        if array.ndim < len(leaf["shape"]):
            array = array.reshape(leaf["shape"])
        np.save(f, array)
