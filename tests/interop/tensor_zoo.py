"""A state dict that exercises a reader or writer: every dtype Graft names, 0-d and empty
tensors, views (transposed, sliced, offset into a larger storage) and two keys sharing one
storage, as torch.save writes them."""

import torch


def state_dict(with_bfloat16=True):
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(6, 5, generator=generator)
    tensors = {
        "float32": torch.randn(3, 4, generator=generator),
        "float16": torch.randn(2, 3, generator=generator).half(),
        "float64": torch.randn(3, generator=generator).double(),
        "int64": torch.arange(-2, 3),
        "int32": torch.arange(4, dtype=torch.int32) * 1000003,
        "int16": torch.tensor([-7, 300], dtype=torch.int16),
        "int8": torch.tensor([-3, 4], dtype=torch.int8),
        "uint8": torch.tensor([1, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "complex64": torch.tensor([1 + 2j, -3j], dtype=torch.complex64),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        "layer.transposed": base.t(),
        "layer.slice": base[2:4],
        "layer.column": base[:, 1],
        "tied.a": base,
        "tied.b": base,
    }
    if with_bfloat16:
        tensors["bfloat16"] = torch.randn(2, 3, generator=generator).bfloat16()
    return tensors


def assert_same(test, expected, actual, where):
    """Same keys, dtypes, shapes and bit-identical values (torch tensors on both sides)."""
    test.assertEqual(sorted(actual), sorted(expected), where)
    for key, value in expected.items():
        got = actual[key]
        test.assertEqual(got.dtype, value.dtype, "%s: %s" % (where, key))
        test.assertEqual(tuple(got.shape), tuple(value.shape), "%s: %s" % (where, key))
        test.assertTrue(torch.equal(got, value), "%s: %s differs" % (where, key))
