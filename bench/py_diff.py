#!/usr/bin/python3
"""W5 baseline: per-key statistics of two checkpoints in float64, as a Python user computes
them: for A and B each mean, std, min, max and L2 norm; for A - B the max |difference| and its
L2 norm; and the cosine similarity of A and B. Prints one line per key."""
import sys

import torch

a_state = torch.load(sys.argv[1], map_location="cpu")
b_state = torch.load(sys.argv[2], map_location="cpu")


def stats(t):
    return (t.mean().item(), t.std().item() if t.numel() > 1 else 0.0, t.min().item(), t.max().item(),
            t.norm().item())


for key in a_state:
    if key not in b_state or not torch.is_tensor(a_state[key]):
        continue
    a = a_state[key].double()
    b = b_state[key].double()
    if a.shape != b.shape:
        print(key, "shape differs")
        continue
    d = a - b
    cosine = (a.flatten() @ b.flatten()).item() / max(a.norm().item() * b.norm().item(), 1e-300)
    print(key, stats(a), stats(b), d.abs().max().item(), d.norm().item(), cosine)
