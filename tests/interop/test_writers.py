"""Every writer of Graft checked by the real reader: .eqx by eqx.tree_deserialise_leaves(like=),
safetensors by safetensors.numpy and safetensors.torch, .pt by torch.load(weights_only=True)
(torch 2.x here, and Debian's torch 1.13), .npz by numpy."""

import os
import subprocess
import unittest

import equinox as eqx
import jax
import ml_dtypes  # noqa: F401  (registers bfloat16 with numpy, as users of safetensors.numpy do)
import numpy as np
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

import tensor_zoo
from interop_common import SYSTEM_PYTHON, InteropCase, graft, scratch
import graft_export  # noqa: E402  (on the path through interop_common)


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Conv2d(3, 4, 3), torch.nn.Dropout(0.25), torch.nn.Linear(4, 5)])
        self.norm = torch.nn.BatchNorm2d(4)


class EqxNet(eqx.Module):
    layers: list
    norm: eqx.nn.BatchNorm

    def __init__(self, key):
        k1, k2 = jax.random.split(key)
        self.layers = [eqx.nn.Conv2d(3, 4, 3, key=k1), eqx.nn.Dropout(0.25), eqx.nn.Linear(4, 5, key=k2)]
        self.norm = eqx.nn.BatchNorm(4, "batch", mode="ema")


class WritersTest(InteropCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch("writers")
        cls.tensors = tensor_zoo.state_dict()
        cls.source = os.path.join(cls.dir, "zoo.pt")
        torch.save(cls.tensors, cls.source)

    def convert(self, suffix):
        out = os.path.join(self.dir, "zoo_out." + suffix)
        graft("convert", self.source, self.source, "-o", out)
        return out

    def test_safetensors_read_by_safetensors_torch_and_numpy(self):
        out = self.convert("safetensors")
        tensor_zoo.assert_same(self, self.tensors, safetensors.torch.load_file(out), "safetensors.torch")
        arrays = safetensors.numpy.load_file(out)
        for key, value in self.tensors.items():
            expected = value.float().numpy().astype(ml_dtypes.bfloat16) if value.dtype == torch.bfloat16 else value.numpy()
            self.assertEqual(arrays[key].dtype, expected.dtype, key)
            np.testing.assert_array_equal(arrays[key], expected, key)
        with safetensors.safe_open(out, "np") as f:
            self.assertEqual(f.metadata().get("graft_source"), "zoo.pt")

    def test_pt_read_by_torch_load_weights_only(self):
        out = self.convert("pt")
        tensor_zoo.assert_same(self, self.tensors, torch.load(out, weights_only=True), "torch %s" % torch.__version__)

    def test_pt_read_by_debian_torch_1_13(self):
        out = self.convert("pt")
        expected = os.path.join(self.dir, "zoo_expected.pt")
        torch.save(self.tensors, expected)
        script = ("import sys, torch\n"
                  "a = torch.load(sys.argv[1], weights_only=True); b = torch.load(sys.argv[2], weights_only=True)\n"
                  "assert sorted(a) == sorted(b), (sorted(a), sorted(b))\n"
                  "bad = [k for k in a if a[k].dtype != b[k].dtype or not torch.equal(a[k], b[k])]\n"
                  "assert not bad, bad\n"
                  "print(torch.__version__, len(a))\n")
        result = subprocess.run([SYSTEM_PYTHON, "-c", script, out, expected], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])

    def test_npz_read_by_numpy(self):
        out = self.convert("npz")
        with np.load(out, allow_pickle=False) as z:
            self.assertEqual(sorted(z.files), sorted(self.tensors))
            for key, value in self.tensors.items():
                got = z[key]
                self.assertEqual(list(got.shape), list(value.shape), key)
                if value.dtype == torch.bfloat16:  # numpy has no bfloat16: raw 2-byte records
                    self.assertEqual(got.dtype.str, "|V2", key)
                    np.testing.assert_array_equal(got.view(np.uint16), value.view(torch.int16).numpy().view(np.uint16))
                else:
                    self.assertEqual(got.dtype, value.numpy().dtype, key)
                    np.testing.assert_array_equal(got, value.numpy(), key)

    def test_eqx_read_by_tree_deserialise_leaves(self):
        torch.manual_seed(1)
        net = TorchNet().eval()
        with torch.no_grad():
            net.norm.running_mean.uniform_(-1, 1)
            net.norm.running_var.uniform_(0.5, 2)
        source = os.path.join(self.dir, "net.pt")
        torch.save(net.state_dict(), source)
        model, state = eqx.nn.make_with_state(EqxNet)(jax.random.PRNGKey(0))
        skeleton = graft_export.export_skeleton((model, state), os.path.join(self.dir, "net"))
        out = os.path.join(self.dir, "net_out.eqx")
        # --keep-unmapped: the BatchNorm's first-time flag has no torch counterpart.
        graft("convert", source, skeleton, "-o", out, "--keep-unmapped")
        loaded, loaded_state = eqx.tree_deserialise_leaves(out, like=(model, state))
        sd = {k: v.numpy() for k, v in net.state_dict().items()}
        np.testing.assert_array_equal(loaded.layers[0].weight, sd["layers.0.weight"])
        np.testing.assert_array_equal(loaded.layers[0].bias, sd["layers.0.bias"].reshape(4, 1, 1))
        np.testing.assert_array_equal(loaded.layers[2].weight, sd["layers.2.weight"])
        np.testing.assert_array_equal(loaded.layers[2].bias, sd["layers.2.bias"])
        np.testing.assert_array_equal(loaded.norm.weight, sd["norm.weight"])
        mean, var = loaded_state.get(loaded.norm.ema_state_index)
        np.testing.assert_array_equal(mean, sd["norm.running_mean"])
        np.testing.assert_array_equal(var, sd["norm.running_var"])
        # Leaves with no source keep the skeleton's values, with their Python types.
        self.assertEqual(loaded.layers[1].p, 0.25)
        self.assertIs(type(loaded.layers[1].inference), bool)
        # The BatchNorm's first-time flag is set to False: the loaded statistics are used.
        self.assertEqual(bool(loaded_state.get(loaded.norm.ema_first_time_index)), False)

    def test_flax_msgpack_read_by_flax(self):
        """A torch CNN with BatchNorm ported onto a Flax msgpack target made by flax (linen CNN
        variables: params + batch_stats): flax.serialization.from_bytes restores Graft's output
        into the target's tree with the same structure and dtypes, bit-exact values, and
        to_bytes of what it restored is Graft's file, byte for byte."""
        from flax import serialization
        import jax.numpy as jnp
        import e2e_models
        torch.manual_seed(0)
        nn = torch.nn
        net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2),
                            nn.ReLU(), nn.Linear(16, 10))
        with torch.no_grad():
            net[1].weight.uniform_(0.5, 1.5)
            net[1].bias.uniform_(-1, 1)
            net[1].running_mean.uniform_(-1, 1)
            net[1].running_var.uniform_(0.5, 2)
        source = os.path.join(self.dir, "cnn.pt")
        torch.save(net.state_dict(), source)
        variables = e2e_models.FlaxCNN().init(jax.random.PRNGKey(0), jnp.zeros((1, 12, 12, 3)))
        target = os.path.join(self.dir, "cnn_target.msgpack")
        with open(target, "wb") as f:
            f.write(serialization.to_bytes(variables))
        out = os.path.join(self.dir, "cnn_ported.msgpack")
        result = graft("convert", source, target, "-o", out)
        self.assertIn("serialization.from_bytes", result.stdout)
        with open(out, "rb") as f:
            data = f.read()
        restored = serialization.from_bytes(variables, data)
        self.assertEqual(jax.tree_util.tree_structure(restored), jax.tree_util.tree_structure(variables))
        sd = {k: v.numpy() for k, v in net.state_dict().items()}
        want = {"params": {"Conv_0": {"kernel": sd["0.weight"].transpose(2, 3, 1, 0), "bias": sd["0.bias"]},
                           "BatchNorm_0": {"scale": sd["1.weight"], "bias": sd["1.bias"]},
                           "Conv_1": {"kernel": sd["3.weight"].transpose(2, 3, 1, 0), "bias": sd["3.bias"]},
                           "Dense_0": {"kernel": sd["5.weight"].T, "bias": sd["5.bias"]}},
                "batch_stats": {"BatchNorm_0": {"mean": sd["1.running_mean"], "var": sd["1.running_var"]}}}
        got = jax.tree_util.tree_leaves_with_path(restored)
        expected = dict(jax.tree_util.tree_leaves_with_path(want))
        self.assertEqual(len(got), len(expected))
        for key_path, value in got:
            wanted = expected[key_path]
            self.assertEqual(value.dtype, np.asarray(jax.tree_util.tree_leaves(variables)[0]).dtype)
            self.assertEqual(value.shape, wanted.shape, jax.tree_util.keystr(key_path))
            np.testing.assert_array_equal(np.asarray(value).view(np.uint32), np.ascontiguousarray(wanted).view(np.uint32),
                                          jax.tree_util.keystr(key_path))
        self.assertEqual(serialization.to_bytes(restored), data)
        # Read -> write -> read through Graft is byte-stable.
        again = os.path.join(self.dir, "cnn_again.msgpack")
        graft("convert", out, out, "-o", again)
        with open(again, "rb") as f:
            self.assertEqual(f.read(), data)


if __name__ == "__main__":
    unittest.main()
