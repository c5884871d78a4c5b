#!/usr/bin/python3
"""W1 baseline: list a checkpoint's tensors the way a Python user does (torch.load)."""
import sys

import torch

state = torch.load(sys.argv[1], map_location="cpu")
if isinstance(state, dict) and "state_dict" in state:
    state = state["state_dict"]
for key, value in state.items():
    if torch.is_tensor(value):
        print(key, list(value.shape), value.dtype, value.numel() * value.element_size())
