#!/usr/bin/env python3
"""Run with Debian's python (torch 1.13 + torchvision 0.14): builds small torchvision VGG and
ResNet models with random weights (every parameter and BatchNorm statistic perturbed, so a leaf
Graft leaves unfilled shows in the output), in inference mode, and writes for each
NAME.pt (torch.save of the state dict), NAME_input.npy and NAME_output.npy.

    make_torchvision.py OUT_DIR
"""

import os
import sys

import numpy as np
import torch
import torchvision

VGG_CFG = [8, "M", 16, 16, "M"]


def perturb(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=generator) * 0.1
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.add_(noise)
    return model.eval()


def vgg():
    features = torchvision.models.vgg.make_layers(VGG_CFG, batch_norm=False)
    model = torchvision.models.VGG(features, num_classes=10, init_weights=True)
    # torchvision's classifier takes 512*7*7 inputs through 4096-wide layers (100 M parameters);
    # the same structure, narrower, keeps the test small.
    model.classifier = torch.nn.Sequential(
        torch.nn.Linear(16 * 7 * 7, 32), torch.nn.ReLU(True), torch.nn.Dropout(),
        torch.nn.Linear(32, 32), torch.nn.ReLU(True), torch.nn.Dropout(),
        torch.nn.Linear(32, 10))
    return perturb(model, 1), (1, 3, 32, 32)


def resnet():
    model = torchvision.models.ResNet(torchvision.models.resnet.BasicBlock, [1, 1, 1, 1], num_classes=10)
    return perturb(model, 2), (1, 3, 32, 32)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name, build in (("vgg", vgg), ("resnet", resnet)):
        model, shape = build()
        x = torch.randn(shape, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            y = model(x)
        torch.save(model.state_dict(), os.path.join(out, name + ".pt"))
        np.save(os.path.join(out, name + "_input.npy"), x.numpy())
        np.save(os.path.join(out, name + "_output.npy"), y.numpy())
    print("torch %s, torchvision %s" % (torch.__version__, torchvision.__version__))


if __name__ == "__main__":
    main(sys.argv[1])
