#!/usr/bin/python3
"""Generate Graft's example checkpoints: a tiny VGG in PyTorch and its Equinox twin.

Run with Debian's interpreter (it has torch and numpy):

    /usr/bin/python3 resources/examples/make_example.py [OUTDIR]

OUTDIR defaults to this script's folder. Writes:

    tiny_vgg.pth            torch.save(TinyVGG().state_dict()), zip format, seed 0
    tiny_vgg.eqx            what eqx.tree_serialise_leaves writes for the Equinox model
    tiny_vgg.skeleton.json  Graft skeleton (contract v1) naming every record of tiny_vgg.eqx

Equinox and JAX are not needed: the .eqx file is emulated with numpy, record for record.
The Equinox model it stands for is:

    class TinyVGG(eqx.Module):
        features: list
        avgpool: eqx.nn.AdaptiveAvgPool2d
        classifier: list

        def __init__(self, key):
            k = jax.random.split(key, 6)
            relu = eqx.nn.Lambda(jax.nn.relu)
            self.features = [
                eqx.nn.Conv2d(3, 8, 3, padding=1, key=k[0]), relu,
                eqx.nn.Conv2d(8, 8, 3, padding=1, key=k[1]), relu,
                eqx.nn.MaxPool2d(2, 2),
                eqx.nn.Conv2d(8, 16, 3, padding=1, key=k[2]), relu,
                eqx.nn.MaxPool2d(2, 2),
            ]
            self.avgpool = eqx.nn.AdaptiveAvgPool2d((2, 2))
            self.classifier = [
                eqx.nn.Linear(64, 32, key=k[3]), relu, eqx.nn.Dropout(0.5),
                eqx.nn.Linear(32, 32, key=k[4]), relu, eqx.nn.Dropout(0.5),
                eqx.nn.Linear(32, 10, key=k[5]),
            ]

Saved leaves, in jax.tree_util order: Conv2d -> weight (out,in,kh,kw), bias (out,1,1);
Lambda -> nothing (a function); MaxPool2d -> init (Python float -inf, a 0-d <f8 record);
AdaptiveAvgPool2d -> nothing; Linear -> weight (out,in), bias (out,);
Dropout -> p (Python float, 0-d <f8) then inference (Python bool, 0-d |b1).

The Equinox weights use a different random seed than the torch ones on purpose, so a port
(torch values copied into the skeleton) is observable.

Every output is byte-identical from run to run (torch.save writes no timestamps).
"""

import json
import os
import sys

import numpy as np
import torch
from torch import nn

TORCH_SEED = 0
EQUINOX_SEED = 1234


class TinyVGG(nn.Module):
    """A VGG-shaped network small enough for fixtures; module names follow torchvision's VGG."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 2 * 2, 32),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(32, 32),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(32, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def make_torch_model(seed=TORCH_SEED):
    """TinyVGG with weights drawn after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return TinyVGG()


# The Equinox model, layer by layer: (list name, index, layer kind, arguments).
EQUINOX_LAYERS = [
    ("features", 0, "Conv2d", (3, 8, 3)),
    ("features", 1, "Lambda", None),
    ("features", 2, "Conv2d", (8, 8, 3)),
    ("features", 3, "Lambda", None),
    ("features", 4, "MaxPool2d", None),
    ("features", 5, "Conv2d", (8, 16, 3)),
    ("features", 6, "Lambda", None),
    ("features", 7, "MaxPool2d", None),
    ("avgpool", None, "AdaptiveAvgPool2d", None),
    ("classifier", 0, "Linear", (64, 32)),
    ("classifier", 1, "Lambda", None),
    ("classifier", 2, "Dropout", 0.5),
    ("classifier", 3, "Linear", (32, 32)),
    ("classifier", 4, "Lambda", None),
    ("classifier", 5, "Dropout", 0.5),
    ("classifier", 6, "Linear", (32, 10)),
]


def equinox_leaves(seed=EQUINOX_SEED):
    """The leaves eqx.tree_serialise_leaves saves for the Equinox TinyVGG, in file order.

    Returns a list of (path, value, kind); value is a numpy array for "array" leaves and a
    Python float/bool for "scalar" leaves (exactly what the Equinox module would hold).
    Weights follow Equinox's default init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    rng = np.random.default_rng(seed)
    leaves = []
    for field, index, kind, args in EQUINOX_LAYERS:
        prefix = "." + field + ("" if index is None else "[%d]" % index)
        if kind == "Conv2d":
            cin, cout, k = args
            lim = 1.0 / np.sqrt(cin * k * k)
            weight = rng.uniform(-lim, lim, size=(cout, cin, k, k)).astype(np.float32)
            bias = rng.uniform(-lim, lim, size=(cout, 1, 1)).astype(np.float32)
            leaves.append((prefix + ".weight", weight, "array"))
            leaves.append((prefix + ".bias", bias, "array"))
        elif kind == "Linear":
            fin, fout = args
            lim = 1.0 / np.sqrt(fin)
            weight = rng.uniform(-lim, lim, size=(fout, fin)).astype(np.float32)
            bias = rng.uniform(-lim, lim, size=(fout,)).astype(np.float32)
            leaves.append((prefix + ".weight", weight, "array"))
            leaves.append((prefix + ".bias", bias, "array"))
        elif kind == "MaxPool2d":
            leaves.append((prefix + ".init", float("-inf"), "scalar"))
        elif kind == "Dropout":
            leaves.append((prefix + ".p", float(args), "scalar"))
            leaves.append((prefix + ".inference", False, "scalar"))
        # Lambda holds a function, AdaptiveAvgPool2d only static fields: no records.
    return leaves


def write_eqx(path, values):
    """Write values back to back as np.save records, as eqx.tree_serialise_leaves does."""
    with open(path, "wb") as f:
        for value in values:
            np.save(f, np.asarray(value))


def skeleton_json(leaves_file, entries, framework="equinox"):
    """Skeleton contract v1 text; entries are dicts path/kind/shape/dtype, one per line."""
    head = (
        '{"format": "graft-skeleton", "version": 1, "framework": %s, "leaves_file": %s, '
        '"leaves": [\n' % (json.dumps(framework), json.dumps(leaves_file))
    )
    lines = [
        "  " + json.dumps({"path": e["path"], "kind": e["kind"],
                           "shape": list(e["shape"]), "dtype": e["dtype"]})
        for e in entries
    ]
    return head + ",\n".join(lines) + "\n]}\n"


def leaf_entry(path, value, kind):
    """Skeleton entry for one saved leaf."""
    array = np.asarray(value)
    return {"path": path, "kind": kind, "shape": list(array.shape), "dtype": array.dtype.name}


def write_equinox_skeleton(outdir, stem="tiny_vgg", seed=EQUINOX_SEED):
    """Write STEM.eqx and STEM.skeleton.json into outdir; return the leaves written."""
    leaves = equinox_leaves(seed)
    write_eqx(os.path.join(outdir, stem + ".eqx"), [value for _, value, _ in leaves])
    entries = [leaf_entry(path, value, kind) for path, value, kind in leaves]
    with open(os.path.join(outdir, stem + ".skeleton.json"), "w", encoding="utf-8") as f:
        f.write(skeleton_json(stem + ".eqx", entries))
    return leaves


def write_torch_checkpoint(outdir, name="tiny_vgg.pth", seed=TORCH_SEED):
    """torch.save the TinyVGG state_dict (zip format) into outdir; return the state_dict."""
    state = make_torch_model(seed).state_dict()
    torch.save(state, os.path.join(outdir, name))
    return state


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(outdir, exist_ok=True)
    write_torch_checkpoint(outdir)
    write_equinox_skeleton(outdir)
    for name in ("tiny_vgg.pth", "tiny_vgg.eqx", "tiny_vgg.skeleton.json"):
        path = os.path.join(outdir, name)
        print("%8d  %s" % (os.path.getsize(path), path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
