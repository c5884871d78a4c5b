#!/usr/bin/python3
"""Reads a .safetensors file as the spec defines it and checks it against a manifest.

    read_safetensors.py FILE.safetensors MANIFEST.json

No safetensors package is installable here, so this is a strict reader of the spec
(huggingface/safetensors): u64 LE header size N, N bytes of JSON padded with spaces (N a
multiple of 8), no duplicate names, __metadata__ string -> string, offsets contiguous from 0
in header order with no holes, each span = numel x itemsize, the file ending at the last
offset. Values are decoded with np.frombuffer (BF16 and F8 as their raw bits).
"""

import json
import struct
import sys

import numpy as np

from graftcheck import Failures, array_sha256, load_manifest

# safetensors dtype -> (Graft dtype name, numpy dtype used to decode it)
DTYPES = {
    "BOOL": ("bool", "bool"), "U8": ("uint8", "u1"), "I8": ("int8", "i1"),
    "I16": ("int16", "<i2"), "U16": ("uint16", "<u2"), "F16": ("float16", "<f2"),
    "BF16": ("bfloat16", "<u2"), "I32": ("int32", "<i4"), "U32": ("uint32", "<u4"),
    "F32": ("float32", "<f4"), "F64": ("float64", "<f8"), "I64": ("int64", "<i8"),
    "U64": ("uint64", "<u8"), "C64": ("complex64", "<c8"),
    "F8_E4M3": ("float8_e4m3fn", "u1"), "F8_E5M2": ("float8_e5m2", "u1"),
}


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate names in the header: %s" % keys)
    return dict(pairs)


def main(path, manifest_path):
    manifest = load_manifest(manifest_path)
    leaves = manifest["leaves"]
    failures = Failures()
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    failures.check(n % 8 == 0, "header size %d is not a multiple of 8" % n)
    failures.check(n <= 100_000_000, "header size %d exceeds the 100 MB limit" % n)
    text = data[8:8 + n].decode("utf-8")
    failures.check(text.startswith("{"), "header does not start with '{'")
    failures.check(text.rstrip(" ").endswith("}") and len(text) - len(text.rstrip(" ")) < 8,
                   "header padding is not 0-7 trailing spaces")
    header = json.loads(text, object_pairs_hook=no_duplicates)

    metadata = header.pop("__metadata__", {})
    failures.check(all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()),
                   "__metadata__ is not string -> string: %r" % metadata)
    if "metadata" in manifest:
        failures.check(metadata == manifest["metadata"],
                       "metadata %r, expected %r" % (metadata, manifest["metadata"]))
    failures.check(list(header) == [leaf["key"] for leaf in leaves],
                   "names %s, expected %s" % (list(header)[:10], [leaf["key"] for leaf in leaves][:10]))

    body = data[8 + n:]
    position = 0
    for leaf in leaves:
        entry = header.get(leaf["key"])
        if not failures.check(entry is not None, "%s: missing" % leaf["key"]):
            continue
        failures.check(set(entry) == {"dtype", "shape", "data_offsets"}, "%s: fields %s" % (leaf["key"], set(entry)))
        name, decode = DTYPES[entry["dtype"]]
        failures.check(name == leaf["dtype"], "%s: dtype %s, expected %s" % (leaf["key"], entry["dtype"], leaf["dtype"]))
        begin, end = entry["data_offsets"]
        failures.check(begin == position, "%s: begins at %d, expected %d (hole or overlap)" % (leaf["key"], begin, position))
        dtype = np.dtype(decode)
        numel = int(np.prod(entry["shape"], dtype=np.int64))
        failures.check(end - begin == numel * dtype.itemsize,
                       "%s: span %d bytes for shape %s" % (leaf["key"], end - begin, entry["shape"]))
        failures.check(entry["shape"] == leaf["shape"], "%s: shape %s, expected %s" % (leaf["key"], entry["shape"], leaf["shape"]))
        array = np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"])
        failures.check(array_sha256(array) == leaf["sha256"], "%s: values differ" % leaf["key"])
        position = end
    failures.check(position == len(body), "data is %d bytes but the last offset is %d" % (len(body), position))
    failures.finish(len(leaves))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
