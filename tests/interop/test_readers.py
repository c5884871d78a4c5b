"""Every reader of Graft fed the real libraries' files: torch 2.x torch.save (state dicts, legacy
format, whole modules), torch.jit.save, safetensors' writers, numpy's savez, and
eqx.tree_serialise_leaves. Graft reads each file and writes its tensors to safetensors (a writer
test_writers.py checks with the real reader); the values must be bit-identical to the tensors
that were saved."""

import json
import os
import unittest

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import safetensors.numpy
import safetensors.torch
import torch

import tensor_zoo
from interop_common import InteropCase, graft, inspect, scratch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


def trained_net():
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.features[1].running_mean.uniform_(-1, 1)
        net.features[1].running_var.uniform_(0.5, 2)
        net.features[1].num_batches_tracked.fill_(17)
    return net.eval()


def c_array(value):
    """A C-ordered copy that keeps 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    return np.array(value, order="C")


def eqx_tensor(value):
    """A leaf as torch would hold it (bfloat16 arrives from numpy as ml_dtypes' bfloat16)."""
    if value.dtype.name == "bfloat16":
        return torch.from_numpy(c_array(value).view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(c_array(value))


class EqxModel(eqx.Module):
    linear: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    pool: eqx.nn.AvgPool2d
    table: jax.Array
    extra: jax.Array

    def __init__(self, extra_dtype):
        self.linear = eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0))
        self.dropout = eqx.nn.Dropout(0.3)
        self.pool = eqx.nn.AvgPool2d(2)
        self.table = jnp.arange(4, dtype=jnp.int32)
        self.extra = jnp.linspace(-2, 3, 6, dtype=extra_dtype).reshape(2, 3)


class ReadersTest(InteropCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch("readers")

    def path(self, name):
        return os.path.join(self.dir, name)

    def read_through_graft(self, path):
        """What Graft reads from `path`, as torch tensors (through Graft's safetensors writer)."""
        out = path + ".graft.safetensors"
        graft("convert", path, path, "-o", out)
        return safetensors.torch.load_file(out)

    def test_torch_save_state_dict(self):
        tensors = tensor_zoo.state_dict()
        torch.save(tensors, self.path("zoo.pt"))
        tensor_zoo.assert_same(self, tensors, self.read_through_graft(self.path("zoo.pt")), "torch.save")

    def test_torch_save_legacy_format(self):
        tensors = tensor_zoo.state_dict()
        torch.save(tensors, self.path("zoo_legacy.pt"), _use_new_zipfile_serialization=False)
        tensor_zoo.assert_same(self, tensors, self.read_through_graft(self.path("zoo_legacy.pt")), "legacy torch.save")

    def test_torch_save_model_state_dict(self):
        net = trained_net()
        torch.save(net.state_dict(), self.path("net_sd.pt"))
        got = self.read_through_graft(self.path("net_sd.pt"))
        tensor_zoo.assert_same(self, dict(net.state_dict()), got, "state_dict")
        self.assertEqual([t["key"] for t in inspect(self.path("net_sd.pt"))], list(net.state_dict()))

    def test_torch_save_whole_module(self):
        net = trained_net()
        torch.save(net, self.path("net_whole.pt"))
        got = self.read_through_graft(self.path("net_whole.pt"))
        # A pickled module is listed as its state_dict() names it, in the same order.
        tensor_zoo.assert_same(self, dict(net.state_dict()), got, "whole module")
        listing = inspect(self.path("net_whole.pt"))
        self.assertEqual([t["key"] for t in listing], list(net.state_dict()))

    def test_torch_jit_save(self):
        net = trained_net()
        torch.jit.save(torch.jit.script(net), self.path("net_jit.pt"))
        tensor_zoo.assert_same(self, dict(net.state_dict()), self.read_through_graft(self.path("net_jit.pt")),
                               "torch.jit.save")
        self.assertEqual([t["key"] for t in inspect(self.path("net_jit.pt"))], list(net.state_dict()))

    def test_safetensors_torch_writer(self):
        tensors = {k: v.contiguous() for k, v in tensor_zoo.state_dict().items() if not k.startswith("tied.")}
        tensors["tied"] = tensor_zoo.state_dict()["tied.a"]
        safetensors.torch.save_file(tensors, self.path("zoo.safetensors"), metadata={"format": "pt"})
        tensor_zoo.assert_same(self, tensors, self.read_through_graft(self.path("zoo.safetensors")),
                               "safetensors.torch")

    def test_safetensors_numpy_writer(self):
        arrays = {k: v.numpy() for k, v in tensor_zoo.state_dict(with_bfloat16=False).items()}
        arrays = {k: c_array(v) for k, v in arrays.items()}
        safetensors.numpy.save_file(arrays, self.path("zoo_np.safetensors"))
        tensor_zoo.assert_same(self, {k: torch.from_numpy(v) for k, v in arrays.items()},
                               self.read_through_graft(self.path("zoo_np.safetensors")), "safetensors.numpy")

    def test_numpy_savez_and_savez_compressed(self):
        arrays = {k: c_array(v.numpy()) for k, v in tensor_zoo.state_dict(with_bfloat16=False).items()}
        arrays["fortran"] = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
        for name, save in (("zoo.npz", np.savez), ("zoo_compressed.npz", np.savez_compressed)):
            save(self.path(name), **arrays)
            tensor_zoo.assert_same(self, {k: torch.from_numpy(c_array(v)) for k, v in arrays.items()},
                                   self.read_through_graft(self.path(name)), name)

    def test_eqx_tree_serialise_leaves(self):
        model = EqxModel(jnp.float32)
        eqx.tree_serialise_leaves(self.path("model.eqx"), model)
        leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(model) if eqx.is_array_like(leaf)]
        # A bare .eqx names its records by position; Graft gets the names from a skeleton.
        expected = {"[%d]" % i: eqx_tensor(v) for i, v in enumerate(leaves)}
        listing = inspect(self.path("model.eqx"))
        self.assertEqual([t["key"] for t in listing], list(expected))
        self.assertEqual([t["dtype"] for t in listing], ["float32", "float32", "float64", "bool", "int64", "int32", "float32"])
        self.assertEqual([t["shape"] for t in listing], [list(v.shape) for v in leaves])
        # Values: graft-cli diff against the same arrays in a safetensors file written by the
        # safetensors library (converting a bare .eqx onto itself would go through the matcher,
        # which calls "[0]" and "[1]" ambiguous: see docs/interop.md).
        reference = self.path("model_reference.safetensors")
        safetensors.torch.save_file(expected, reference)
        report = json.loads(graft("diff", self.path("model.eqx"), reference, "--json").stdout)
        for field in ("only_in_a", "only_in_b", "shape_changed", "dtype_changed"):
            self.assertEqual(report[field], [], field)
        self.assertEqual([c["key"] for c in report["compared"]], list(expected))
        for compared in report["compared"]:
            self.assertTrue(compared["equal"], compared["key"])
            self.assertEqual(compared["max_abs_diff"], 0, compared["key"])

    def test_eqx_bfloat16_through_a_skeleton(self):
        import graft_export
        model = EqxModel(jnp.bfloat16)
        path = self.path("model_bf16")
        eqx.tree_serialise_leaves(path + ".eqx", model)
        # np.save writes bfloat16 as raw 2-byte void: a bare .eqx is refused with a clear error ...
        refused = graft("inspect", path + ".eqx", expect=2)
        self.assertIn("model_bf16.eqx", refused.stderr)
        self.assertIn("V2", refused.stderr)
        # ... and read through the skeleton, which names the dtype.
        skeleton = graft_export.export_skeleton(model, path)
        expected = {}
        for key_path, leaf in jax.tree_util.tree_flatten_with_path(model)[0]:
            if eqx.is_array_like(leaf):
                value = np.asarray(leaf)
                expected[jax.tree_util.keystr(key_path)] = eqx_tensor(value)
        tensor_zoo.assert_same(self, expected, self.read_through_graft(skeleton), "eqx via skeleton")

    def test_flax_to_bytes(self):
        """flax.serialization.to_bytes of a training-style tree (linen CNN variables with batch_stats,
        a step counter, a numpy scalar, bfloat16, an optimizer tuple with an empty state), and a
        chunked one: Graft lists the '/' keys and reads every array bit-exactly."""
        from flax import serialization
        from flax.traverse_util import flatten_dict
        import e2e_models
        variables = e2e_models.FlaxCNN().init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))
        tree = {"step": 7, "params": variables["params"], "batch_stats": variables["batch_stats"],
                "ema": np.float32(0.5), "half": jnp.linspace(-1, 1, 6, dtype=jnp.bfloat16).reshape(2, 3),
                "opt": (np.arange(3, dtype=np.int32), {}), "zero_d": np.array(3, np.int64)}
        path = self.path("flax_tree.msgpack")
        with open(path, "wb") as f:
            f.write(serialization.to_bytes(tree))
        state = serialization.to_state_dict(tree)
        flat = {"/".join(k): v for k, v in flatten_dict(state, keep_empty_nodes=True).items()
                if hasattr(v, "dtype")}
        listed = inspect(path)
        self.assertEqual([t["key"] for t in listed], list(flat))
        expected = {k: eqx_tensor(np.asarray(v)) for k, v in flat.items()}
        tensor_zoo.assert_same(self, expected, self.read_through_graft(path), "flax to_bytes")
        # A Flax msgpack opened as a target needs no skeleton and is byte-stable through Graft.
        again = self.path("flax_tree_again.msgpack")
        graft("convert", path, path, "-o", again)
        with open(path, "rb") as a, open(again, "rb") as b:
            self.assertEqual(a.read(), b.read())
        # Chunked arrays (Flax splits arrays over MAX_CHUNK_SIZE bytes; made small here).
        saved = serialization.MAX_CHUNK_SIZE
        serialization.MAX_CHUNK_SIZE = 100
        try:
            chunked = serialization.msgpack_serialize({"params": {"embedding": np.arange(70, dtype=np.float32).reshape(7, 10)}})
        finally:
            serialization.MAX_CHUNK_SIZE = saved
        self.assertIn(b"__msgpack_chunked_array__", chunked)
        path = self.path("flax_chunked.msgpack")
        with open(path, "wb") as f:
            f.write(chunked)
        tensor_zoo.assert_same(self, {"params/embedding": torch.arange(70, dtype=torch.float32).reshape(7, 10)},
                               self.read_through_graft(path), "flax chunked")

    def test_fixture_packer_writes_what_flax_writes(self):
        """tests/fixtures/msgpack_fixtures.py (no flax in Debian's python) packs as flax does."""
        import sys
        from flax import serialization
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
        import msgpack_fixtures
        self.assertEqual(msgpack_fixtures.packb(msgpack_fixtures.to_state(msgpack_fixtures.cnn_variables())),
                         serialization.to_bytes(msgpack_fixtures.cnn_variables()))
        saved = serialization.MAX_CHUNK_SIZE
        serialization.MAX_CHUNK_SIZE = 64
        try:
            self.assertEqual(msgpack_fixtures.packb(msgpack_fixtures.to_state(msgpack_fixtures.chunked_tree(), 64)),
                             serialization.to_bytes(msgpack_fixtures.chunked_tree()))
        finally:
            serialization.MAX_CHUNK_SIZE = saved


if __name__ == "__main__":
    unittest.main()
