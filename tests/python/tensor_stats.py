#!/usr/bin/python3
"""Tensor statistics and pair statistics with numpy in float64: the reference for Graft's
core/tensor/tensorstats (its header defines every figure; this file is the same definitions in numpy).

    tensor_stats.py stats FILE        {"tensors": [{"key", "stats": {...}, "histogram_auto": {...},
                                                     "histogram_fixed": {...}}]}
    tensor_stats.py pairs FILE        every ordered pair of FILE's tensors with the same shape
                                      and value count: {"pairs": [{"a", "b", ...pair figures}]}
    tensor_stats.py diff FILE_A FILE_B   the same for the keys both files have (equal shapes)
    tensor_stats.py CMD ARGS + CMD ARGS + ...   several at once (torch is imported once):
                                      {"tolerances", "results": [one object per command]}

FILE is a torch checkpoint (torch.load; nested dicts give dotted keys) or a .safetensors file
(parsed here; bfloat16 and float8 decoded from their bits, independently of Graft's decoder).
Complex tensors count as their (real, imag) components, like numpy's a.view(float).
Non-finite figures are written as the strings "nan", "inf", "-inf" so a test can compare them
exactly; "allclose" lists numpy.allclose for each pair of TOLERANCES.
"""

import json
import math
import struct
import sys

import numpy as np

TOLERANCES = [(0.0, 0.0), (1e-5, 1e-8), (1e-3, 0.0), (0.0, 1e-3), (0.5, 0.5)]
HISTOGRAM_BINS = 10
FIXED_RANGE = (-2.0, 3.0)
FIXED_BINS = 7


def float8_table(exponent_bits, bias, e4m3):
    """The 256 values of a float8 format, from its definition (OCP FP8: e4m3fn has no inf and
    one NaN pattern per sign; e5m2 is IEEE-like)."""
    mantissa_bits = 7 - exponent_bits
    table = np.zeros(256)
    for bits in range(256):
        sign = -1.0 if bits & 0x80 else 1.0
        exponent = (bits >> mantissa_bits) & ((1 << exponent_bits) - 1)
        mantissa = bits & ((1 << mantissa_bits) - 1)
        if e4m3 and exponent == 15 and mantissa == 7:
            value = math.nan
        elif not e4m3 and exponent == 31:
            value = math.nan if mantissa else math.inf
        elif exponent == 0:
            value = mantissa / (1 << mantissa_bits) * 2.0 ** (1 - bias)
        else:
            value = (1 + mantissa / (1 << mantissa_bits)) * 2.0 ** (exponent - bias)
        table[bits] = sign * value
    return table


SAFETENSORS_NUMPY = {
    "BOOL": "bool", "U8": "u1", "I8": "i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8",
    "C64": "<c8",
}


def safetensors_values(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    out = {}
    for key in sorted(header):
        entry = header[key]
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        dtype = entry["dtype"]
        if dtype == "BF16":
            bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            values = bits.view(np.float32).astype(np.float64)
        elif dtype == "F8_E4M3":
            values = float8_table(4, 7, True)[np.frombuffer(raw, np.uint8)]
        elif dtype == "F8_E5M2":
            values = float8_table(5, 15, False)[np.frombuffer(raw, np.uint8)]
        else:
            array = np.frombuffer(raw, SAFETENSORS_NUMPY[dtype])
            if array.dtype.kind == "c":
                array = array.view(array.real.dtype)
            values = array.astype(np.float64)
        out[key] = (list(entry["shape"]), values.reshape(-1))
    return out


def torch_values(path):
    import torch

    out = {}

    def walk(obj, prefix):
        if isinstance(obj, torch.Tensor):
            t = obj.detach().contiguous()
            if t.dtype == torch.bfloat16:
                array = t.to(torch.float32).numpy()
            else:
                array = t.numpy()
            if array.dtype.kind == "c":
                array = array.view(array.real.dtype)
            out[prefix] = (list(t.shape), array.astype(np.float64).reshape(-1))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, "%s.%s" % (prefix, k) if prefix else str(k))
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, "%s.%d" % (prefix, i) if prefix else str(i))

    walk(torch.load(path, map_location="cpu"), "")
    return out


def load(path):
    return safetensors_values(path) if path.endswith(".safetensors") else torch_values(path)


def number(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def histogram(values, bins, value_range=None):
    counts, edges = np.histogram(values, bins=bins, range=value_range)
    return {"lo": number(edges[0]), "hi": number(edges[-1]), "counts": [int(c) for c in counts]}


def tensor_stats(v):
    f = v[np.isfinite(v)]
    nan = float("nan")
    return {
        "count": int(v.size),
        "finite": int(f.size),
        "mean": number(f.mean() if f.size else nan),
        "std": number(f.std() if f.size else nan),
        "min": number(f.min() if f.size else nan),
        "max": number(f.max() if f.size else nan),
        "l2": number(np.sqrt(np.sum(f * f))),
        "max_abs": number(np.abs(f).max() if f.size else nan),
        "zero_fraction": number(np.count_nonzero(v == 0) / v.size if v.size else nan),
        "zeros": int(np.count_nonzero(v == 0)),
        "nan": int(np.count_nonzero(np.isnan(v))),
        "inf": int(np.count_nonzero(np.isinf(v))),
    }, f


def pair_stats(a, b):
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.where(a == b, 0.0, a - b)
        ad = np.abs(d)
        n = a.size
        norm_d = np.sqrt(np.sum(d * d))
        norm_a = np.sqrt(np.sum(a * a))
        norm_b = np.sqrt(np.sum(b * b))
        if math.isnan(norm_d):
            rel = float("nan")
        elif norm_d == 0:
            rel = 0.0
        elif norm_a == 0:
            rel = float("inf")
        else:
            rel = norm_d / norm_a
        if norm_a == 0 and norm_b == 0:
            cosine = 1.0
        elif norm_a == 0 or norm_b == 0:
            cosine = 0.0
        else:
            cosine = np.sum(a * b) / (norm_a * norm_b)
        return {
            "count": int(n),
            "max_abs_diff": number(ad.max() if n else 0.0),
            "mean_abs_diff": number(ad.mean() if n else 0.0),
            "rms_diff": number(np.sqrt(np.mean(d * d)) if n else 0.0),
            "rel_l2": number(rel),
            "cosine": number(cosine),
            "differing": int(np.count_nonzero(a != b)),
            "allclose": [bool(np.allclose(a, b, rtol=r, atol=t)) for r, t in TOLERANCES],
        }


def run(mode, args):
    if mode == "stats":
        tensors = []
        for key, (shape, v) in load(args[0]).items():
            stats, finite = tensor_stats(v)
            tensors.append({"key": key, "shape": shape, "stats": stats,
                            "histogram_auto": histogram(finite, HISTOGRAM_BINS),
                            "histogram_fixed": histogram(finite, FIXED_BINS, FIXED_RANGE)})
        return {"tensors": tensors}
    if mode == "pairs":
        tensors = load(args[0])
        pairs = []
        for ka, (sa, va) in tensors.items():
            for kb, (sb, vb) in tensors.items():
                if sa == sb and va.size == vb.size:
                    pairs.append(dict({"a": ka, "b": kb}, **pair_stats(va, vb)))
        return {"pairs": pairs}
    if mode == "diff":
        ta, tb = load(args[0]), load(args[1])
        pairs = []
        for key, (sa, va) in ta.items():
            if key in tb and tb[key][0] == sa and tb[key][1].size == va.size:
                pairs.append(dict({"a": key, "b": key}, **pair_stats(va, tb[key][1])))
        return {"pairs": pairs}
    raise SystemExit("unknown mode %r" % mode)


def main(argv):
    commands, current = [], []
    for arg in argv[1:]:
        if arg == "+":
            commands.append(current)
            current = []
        else:
            current.append(arg)
    commands.append(current)
    results = [run(command[0], command[1:]) for command in commands]
    if len(results) == 1:
        out = dict({"tolerances": TOLERANCES}, **results[0])
    else:
        out = {"tolerances": TOLERANCES, "results": results}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
