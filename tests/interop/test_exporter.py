"""graft_export.py against the real equinox: the skeleton it writes is compared with what
jax.tree_util.tree_flatten_with_path and eqx.tree_serialise_leaves produce, and with what
Graft reads from it."""

import json
import os
import unittest

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from interop_common import InteropCase, inspect, read_npy_records, scratch  # first: puts graft_export on the path
import graft_export  # noqa: E402


class Layers(eqx.Module):
    """One of each layer the exporter must describe, in nested lists, tuples and dicts."""
    linear: eqx.nn.Linear
    conv: eqx.nn.Conv2d
    norm: eqx.nn.LayerNorm
    embedding: eqx.nn.Embedding
    attention: eqx.nn.MultiheadAttention
    dropout: eqx.nn.Dropout
    pools: list
    blocks: tuple
    heads: dict
    table: jax.Array
    step: int

    def __init__(self, key):
        k = jax.random.split(key, 8)
        self.linear = eqx.nn.Linear(4, 3, key=k[0])
        self.conv = eqx.nn.Conv2d(2, 3, 3, key=k[1])
        self.norm = eqx.nn.LayerNorm(3)
        self.embedding = eqx.nn.Embedding(5, 3, key=k[2])
        self.attention = eqx.nn.MultiheadAttention(2, 4, use_query_bias=True, use_output_bias=True, key=k[3])
        self.dropout = eqx.nn.Dropout(0.1)
        self.pools = [eqx.nn.MaxPool2d(2), eqx.nn.AvgPool2d(2), eqx.nn.Lambda(jax.nn.relu)]
        self.blocks = (eqx.nn.Linear(3, 3, key=k[4]), (eqx.nn.Linear(3, 2, use_bias=False, key=k[5]),))
        self.heads = {"b": eqx.nn.Linear(2, 2, key=k[6]), "a": eqx.nn.Conv1d(2, 2, 1, key=k[7]), "c": None}
        self.table = jnp.arange(6, dtype=jnp.int32).reshape(2, 3)
        self.step = 7


class WithBatchNorm(eqx.Module):
    """BatchNorm in both modes, of different sizes so a swapped name shows in the shapes too."""
    conv: eqx.nn.Conv2d
    bn_ema: eqx.nn.BatchNorm
    inner: list

    def __init__(self, key):
        self.conv = eqx.nn.Conv2d(3, 4, 1, key=key)
        self.bn_ema = eqx.nn.BatchNorm(4, "batch", mode="ema")
        self.inner = [eqx.nn.BatchNorm(6, "batch", mode="batch")]


class Block(eqx.Module):
    attention: eqx.nn.MultiheadAttention
    norm: eqx.nn.LayerNorm
    mlp: eqx.nn.MLP

    def __init__(self, key):
        k1, k2 = jax.random.split(key)
        self.attention = eqx.nn.MultiheadAttention(2, 8, use_query_bias=True, key=k1)
        self.norm = eqx.nn.LayerNorm(8)
        self.mlp = eqx.nn.MLP(8, 8, 16, 1, key=k2)


class Stacked(eqx.Module):
    """Layers built with eqx.filter_vmap: every array leaf has a leading layer axis."""
    embed: eqx.nn.Embedding
    layers: Block

    def __init__(self, key):
        k1, k2 = jax.random.split(key)
        self.embed = eqx.nn.Embedding(10, 8, key=k1)
        self.layers = eqx.filter_vmap(Block)(jax.random.split(k2, 3))


def expected_leaves(tree):
    """(keystr path, shape, dtype) of every leaf the real serialiser saves, from jax's own
    flattening and equinox's own array-like test."""
    out = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if eqx.is_array_like(leaf):
            value = np.asarray(leaf)
            out.append((jax.tree_util.keystr(path), list(value.shape), value.dtype.name))
    return out


class ExporterTest(InteropCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch("exporter")

    def export(self, tree, name):
        stem = os.path.join(self.dir, name)
        json_path = graft_export.export_skeleton(tree, stem)
        with open(json_path, encoding="utf-8") as f:
            skeleton = json.load(f)
        reference = stem + ".reference.eqx"
        eqx.tree_serialise_leaves(reference, tree)
        return skeleton, stem + ".eqx", reference, json_path

    def check_against_equinox(self, tree, skeleton, eqx_path, reference, json_path, renamed=None):
        renamed = renamed or {}
        entries = skeleton["leaves"]
        self.assertEqual(skeleton["leaves_file"], os.path.basename(eqx_path))
        # 1. The listing is jax's flattening filtered by equinox's array-like test (state leaves
        #    renamed as documented).
        expected = [(renamed.get(p, p), s, d) for p, s, d in expected_leaves(tree)]
        self.assertEqual([(e["path"], e["shape"], e["dtype"]) for e in entries], expected)
        # 2. The .eqx is byte for byte what tree_serialise_leaves writes, and each of its records
        #    has the skeleton entry's shape and dtype.
        with open(eqx_path, "rb") as a, open(reference, "rb") as b:
            self.assertEqual(a.read(), b.read())
        records = read_npy_records(reference)
        self.assertEqual(len(records), len(entries))
        for entry, record in zip(entries, records):
            self.assertEqual(list(record.shape), entry["shape"], entry["path"])
            self.assertEqual(record.dtype.name, entry["dtype"], entry["path"])
        # 3. Graft reads the skeleton as the same leaves.
        graft_view = [(t["key"], t["shape"], t["dtype"]) for t in inspect(json_path)]
        self.assertEqual(graft_view, [(e["path"], e["shape"], e["dtype"]) for e in entries])
        # 4. equinox reads the exported file back into the same tree.
        loaded = eqx.tree_deserialise_leaves(eqx_path, like=tree)
        for a, b in zip(jax.tree_util.tree_leaves(loaded), jax.tree_util.tree_leaves(tree)):
            if eqx.is_array_like(a):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        return records

    def test_layers_and_nested_containers(self):
        tree = Layers(jax.random.PRNGKey(0))
        skeleton, eqx_path, reference, json_path = self.export(tree, "layers")
        self.check_against_equinox(tree, skeleton, eqx_path, reference, json_path)
        paths = [e["path"] for e in skeleton["leaves"]]
        # Spot checks of what a reader of the skeleton relies on.
        self.assertIn(".attention.query_proj.bias", paths)
        self.assertNotIn(".attention.key_proj.bias", paths)
        self.assertIn(".blocks[1][0].weight", paths)
        self.assertLess(paths.index(".heads['a'].weight"), paths.index(".heads['b'].weight"))
        kinds = {e["path"]: (e["kind"], e["dtype"]) for e in skeleton["leaves"]}
        self.assertEqual(kinds[".dropout.p"], ("scalar", "float64"))
        self.assertEqual(kinds[".dropout.inference"], ("scalar", "bool"))
        self.assertEqual(kinds[".pools[0].init"], ("scalar", "float64"))
        self.assertEqual(kinds[".pools[1].init"], ("scalar", "int64"))
        self.assertEqual(kinds[".step"], ("scalar", "int64"))
        self.assertEqual(kinds[".table"], ("array", "int32"))

    def test_batchnorm_state_names_point_at_their_values(self):
        model, state = eqx.nn.make_with_state(WithBatchNorm)(jax.random.PRNGKey(1))
        ema, batch = model.bn_ema, model.inner[0]
        ema_stats = (jnp.arange(4.0) + 10, jnp.arange(4.0) + 20)
        batch_stats = (jnp.arange(6.0) + 30, jnp.arange(6.0) + 40)
        state = state.set(ema.ema_state_index, ema_stats)
        state = state.set(batch.batch_state_index, batch_stats)
        tree = (model, state)
        skeleton, eqx_path, reference, json_path = self.export(tree, "batchnorm")
        names = [e["path"] for e in skeleton["leaves"]]
        self.assertCountEqual(names[-6:], [
            "[0].bn_ema.ema_first_time_index", "[0].bn_ema.running_mean", "[0].bn_ema.running_var",
            "[0].inner[0].batch_counter", "[0].inner[0].running_mean", "[0].inner[0].running_var"])
        raw = [p for p, _, _ in expected_leaves(tree)]
        records = self.check_against_equinox(tree, skeleton, eqx_path, reference, json_path,
                                             renamed=dict(zip(raw, names)))
        by_name = dict(zip(names, records))
        np.testing.assert_array_equal(by_name["[0].bn_ema.running_mean"], ema_stats[0])
        np.testing.assert_array_equal(by_name["[0].bn_ema.running_var"], ema_stats[1])
        np.testing.assert_array_equal(by_name["[0].inner[0].running_mean"], batch_stats[0])
        np.testing.assert_array_equal(by_name["[0].inner[0].running_var"], batch_stats[1])
        self.assertEqual(by_name["[0].bn_ema.ema_first_time_index"].dtype, np.bool_)
        self.assertEqual(by_name["[0].inner[0].batch_counter"].dtype, np.int32)
        # The model's own leaves keep their raw paths.
        self.assertEqual(names[:-6], raw[:-6])

    def test_stacked_layers(self):
        tree = Stacked(jax.random.PRNGKey(2))
        skeleton, eqx_path, reference, json_path = self.export(tree, "stacked")
        self.check_against_equinox(tree, skeleton, eqx_path, reference, json_path)
        shapes = {e["path"]: e["shape"] for e in skeleton["leaves"]}
        self.assertEqual(shapes[".layers.attention.query_proj.weight"], [3, 8, 8])
        self.assertEqual(shapes[".layers.mlp.layers[0].bias"], [3, 16])
        self.assertEqual(shapes[".layers.norm.weight"], [3, 8])

    def test_command_line(self):
        # python3 graft_export.py MODULE:FACTORY OUT, as the docs tell users to run it.
        import subprocess
        import sys
        out = os.path.join(self.dir, "cli")
        result = subprocess.run([sys.executable, graft_export.__file__, "test_exporter:make_stacked", out],
                                cwd=os.path.dirname(os.path.abspath(__file__)), capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        tree = make_stacked()
        skeleton = json.load(open(out + ".skeleton.json", encoding="utf-8"))
        self.assertEqual([e["path"] for e in skeleton["leaves"]], [p for p, _, _ in expected_leaves(tree)])


def make_stacked():
    return Stacked(jax.random.PRNGKey(3))


if __name__ == "__main__":
    unittest.main()
