#!/usr/bin/python3
"""The parts of resources/python/graft_export.py that need no jax or equinox (neither can be
installed here): which leaves are listed with which kind/shape/dtype, checked against what
np.save (= jnp.save) really writes; the record check that guards every export; the skeleton
text (byte-identical to the example skeleton); and the state-leaf names.

    /usr/bin/python3 -m unittest discover -s tests/python -p 'test_*.py'
"""

import io
import json
import os
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "resources", "python"))

import graft_export  # noqa: E402


def saved_record(value):
    """The array np.load gives back for what np.save writes for `value` (jnp.save is np.save)."""
    buffer = io.BytesIO()
    np.save(buffer, value)
    buffer.seek(0)
    return np.load(buffer)


class JaxArrayLike:
    """An object with __jax_array__, which equinox's is_array_like counts as an array."""

    def __init__(self, array):
        self.array = array

    def __jax_array__(self):
        return self.array


class DescribeLeaf(unittest.TestCase):
    def test_saved_leaves_match_what_np_save_writes(self):
        values = [
            (np.zeros((2, 3), np.float32), "array"),
            (np.zeros((), np.int16), "array"),        # 0-d ndarray stays an array
            (np.zeros((0, 4), np.uint8), "array"),
            (np.float16(1.5), "scalar"),
            (np.int8(-3), "scalar"),
            (np.bool_(True), "scalar"),
            (True, "scalar"),                          # Python bool -> bool, not int64
            (7, "scalar"),
            (2.5, "scalar"),
            (float("-inf"), "scalar"),                  # MaxPool2d.init
            (1 + 2j, "scalar"),
        ]
        for value, kind in values:
            with self.subTest(value=repr(value)):
                entry = graft_export.describe_leaf(value)
                record = saved_record(value)
                self.assertEqual(entry["kind"], kind)
                self.assertEqual(entry["dtype"], record.dtype.name)
                self.assertEqual(entry["shape"], list(record.shape))

    def test_python_scalar_dtypes(self):
        self.assertEqual(graft_export.describe_leaf(1.0)["dtype"], "float64")
        self.assertEqual(graft_export.describe_leaf(False)["dtype"], "bool")
        self.assertEqual(graft_export.describe_leaf(1j)["dtype"], "complex128")
        self.assertEqual(graft_export.describe_leaf(3)["dtype"], np.asarray(3).dtype.name)

    def test_unsaved_leaves_are_not_listed(self):
        for value in ["relu", None, len, lambda x: x, object(), b"bytes", [1.0]]:
            with self.subTest(value=repr(value)):
                self.assertIsNone(graft_export.describe_leaf(value))

    def test_jax_arrays_and_array_likes(self):
        # A stand-in with shape/dtype attributes, flagged as a jax.Array by the caller.
        entry = graft_export.describe_leaf(np.ones((4, 1, 1), np.float32), is_jax_array=True)
        self.assertEqual(entry, {"kind": "array", "shape": [4, 1, 1], "dtype": "float32"})
        entry = graft_export.describe_leaf(JaxArrayLike(np.ones((2,), np.float64)))
        self.assertEqual(entry, {"kind": "array", "shape": [2], "dtype": "float64"})

    def test_int_beyond_int64_is_refused(self):
        with self.assertRaisesRegex(ValueError, "does not fit int64"):
            graft_export.describe_leaf(2 ** 70)

    def test_dtypes_graft_cannot_name_are_refused(self):
        graft_export.check_dtype(".w", {"dtype": "bfloat16"})
        for dtype in ["object", "str", "int4", "float8_e4m3b11fnuz"]:
            with self.subTest(dtype=dtype):
                with self.assertRaisesRegex(ValueError, r"leaf \.w has dtype"):
                    graft_export.check_dtype(".w", {"dtype": dtype})


def write_records(path, arrays, descr_patch=None, trailing=b""):
    with open(path, "wb") as f:
        for array in arrays:
            buffer = io.BytesIO()
            np.save(buffer, array)
            data = buffer.getvalue()
            if descr_patch:
                data = data.replace(*descr_patch)
            f.write(data)
        f.write(trailing)


class CheckRecords(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "m.eqx")
        self.arrays = [np.zeros((3, 2), np.float32), np.asarray(1.5), np.asarray(True),
                       np.zeros((4,), "V2")]
        self.entries = [
            {"path": ".w", "kind": "array", "shape": [3, 2], "dtype": "float32"},
            {"path": ".p", "kind": "scalar", "shape": [], "dtype": "float64"},
            {"path": ".inference", "kind": "scalar", "shape": [], "dtype": "bool"},
            {"path": ".bf16", "kind": "array", "shape": [4], "dtype": "bfloat16"},
        ]

    def tearDown(self):
        self.dir.cleanup()

    def test_matching_records_pass(self):
        # bfloat16 as jnp.save writes it: descr '<V2'.
        write_records(self.path, self.arrays, (b"'|V2'", b"'<V2'"))
        graft_export.check_records(self.path, self.entries)

    def test_mismatches_are_refused(self):
        cases = {
            "shape": (self.arrays[:0] + [np.zeros((2, 3), np.float32)] + self.arrays[1:], b"", "record 0"),
            "dtype": (self.arrays[:1] + [np.asarray(1.5, np.float32)] + self.arrays[2:], b"", "record 1"),
            "void size": (self.arrays[:3] + [np.zeros((4,), "V1")], b"", "record 3"),
            "missing record": (self.arrays[:3], b"", "missing"),
            "trailing bytes": (self.arrays, b"\0" * 5, "5 bytes follow"),
        }
        for name, (arrays, trailing, message) in cases.items():
            with self.subTest(name):
                write_records(self.path, arrays, trailing=trailing)
                with self.assertRaisesRegex(ValueError, message):
                    graft_export.check_records(self.path, self.entries)

    def test_example_skeleton_matches_its_leaves(self):
        # resources/examples: the .eqx and skeleton make_example.py emulates for TinyVGG.
        example = os.path.join(ROOT, "resources", "examples", "tiny_vgg")
        with open(example + ".skeleton.json", encoding="utf-8") as f:
            skeleton = json.load(f)
        graft_export.check_records(example + ".eqx", skeleton["leaves"])


class SkeletonText(unittest.TestCase):
    def test_same_bytes_as_the_example_skeleton(self):
        example = os.path.join(ROOT, "resources", "examples", "tiny_vgg.skeleton.json")
        with open(example, encoding="utf-8") as f:
            text = f.read()
        skeleton = json.loads(text)
        self.assertEqual(graft_export.skeleton_text(skeleton["leaves_file"], skeleton["leaves"]), text)

    def test_contract_fields(self):
        entries = [{"path": "[0].layer1[0].bn1.running_mean", "kind": "array", "shape": [8], "dtype": "float32"}]
        skeleton = json.loads(graft_export.skeleton_text("m.eqx", entries))
        self.assertEqual(skeleton["format"], "graft-skeleton")
        self.assertEqual(skeleton["version"], 1)
        self.assertEqual(skeleton["framework"], "equinox")
        self.assertEqual(skeleton["leaves_file"], "m.eqx")
        self.assertEqual(skeleton["leaves"], entries)


class StateNames(unittest.TestCase):
    def test_batchnorm_statistics_get_torch_names(self):
        index = "[0].layer1[0].bn1.state_index"
        self.assertEqual(graft_export.state_leaf_name(index, "[0]", [0], True), "[0].layer1[0].bn1.running_mean")
        self.assertEqual(graft_export.state_leaf_name(index, "[1]", [1], True), "[0].layer1[0].bn1.running_var")

    def test_other_indices_keep_their_field_names(self):
        self.assertEqual(graft_export.state_leaf_name("[0].bn1.first_time_index", "", [], False),
                         "[0].bn1.first_time_index")
        self.assertEqual(graft_export.state_leaf_name("[0].cell.state_index", "[1]", [1], False),
                         "[0].cell.state_index[1]")
        # A BatchNorm statistics value of another shape is not guessed at.
        self.assertEqual(graft_export.state_leaf_name("[0].bn.state_index", "[0][1]", [0, 1], True),
                         "[0].bn.state_index[0][1]")
        self.assertEqual(graft_export.state_leaf_name("[0].bn.state_index", "['m']", None, True),
                         "[0].bn.state_index['m']")


if __name__ == "__main__":
    unittest.main()
