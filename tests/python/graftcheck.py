"""Shared helpers of the writer checks: the manifest a Qt test writes, and how each of Graft's
dtype names looks to numpy and torch once the real consumer has read a file.

A manifest is JSON: {"leaves": [{"key", "dtype", "shape", "sha256"}], "metadata": {...}?}
where sha256 is of the leaf's values as C-order little-endian bytes (Graft's Checkpoint::read).
Each check script prints "ok: N leaves" and exits 0, or prints what differs and exits 1.
"""

import hashlib
import json
import sys

import numpy as np

# np.load's dtype for each Graft dtype: numpy has no bfloat16/float8, which np.save spells as
# raw void ('<V2' / '|V1') and np.load returns as void.
NUMPY_DTYPES = {
    "bool": np.dtype("bool"), "uint8": np.dtype("u1"), "int8": np.dtype("i1"),
    "int16": np.dtype("<i2"), "uint16": np.dtype("<u2"), "int32": np.dtype("<i4"),
    "uint32": np.dtype("<u4"), "int64": np.dtype("<i8"), "uint64": np.dtype("<u8"),
    "float16": np.dtype("<f2"), "bfloat16": np.dtype("V2"), "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"), "complex64": np.dtype("<c8"), "complex128": np.dtype("<c16"),
    "float8_e4m3fn": np.dtype("V1"), "float8_e5m2": np.dtype("V1"),
}


class Failures:
    """Collects mismatches; finish() prints them (or "ok") and exits."""

    def __init__(self):
        self.messages = []

    def check(self, condition, message):
        if not condition:
            self.messages.append(message)
        return condition

    def finish(self, count):
        if self.messages:
            for message in self.messages[:50]:
                print("FAIL:", message)
            if len(self.messages) > 50:
                print("FAIL: ... and %d more" % (len(self.messages) - 50))
            sys.exit(1)
        print("ok: %d leaves" % count)
        sys.exit(0)


def load_manifest(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def array_sha256(array):
    """sha256 of a numpy array's values in C order (bytes as stored: little-endian here)."""
    return sha256(np.ascontiguousarray(array).tobytes())


def check_array(failures, leaf, array):
    """dtype, shape and every bit of one array as the consumer returned it."""
    key = leaf["key"]
    want_dtype = NUMPY_DTYPES[leaf["dtype"]]
    failures.check(isinstance(array, np.ndarray), "%s: not an ndarray but %s" % (key, type(array)))
    failures.check(array.dtype == want_dtype,
                   "%s: dtype %s, expected %s (%s)" % (key, array.dtype.str, want_dtype.str, leaf["dtype"]))
    failures.check(list(array.shape) == leaf["shape"],
                   "%s: shape %s, expected %s" % (key, list(array.shape), leaf["shape"]))
    failures.check(array_sha256(array) == leaf["sha256"], "%s: values differ" % key)
