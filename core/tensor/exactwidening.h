#pragma once
// Transforms that need no tensor library: reshapes around one exact widening cast, bfloat16 or
// float16 to float32. A bf16 checkpoint converted onto a float32 skeleton (the usual Equinox
// port) needs nothing else, and loading LibTorch costs 0.44 s and 157 MB before the first
// leaf; the widening is a shift of bits (bfloat16) or a scale (float16), exact either way.

#include "tensor/tensorengine.h"

#include <optional>

namespace graft {

/// `chain` applied to one contiguous little-endian input when the chain is reshapes and exactly
/// one cast from bfloat16 or float16 to float32: the bytes LibTorch's cast gives, bit for bit
/// (tst_transform compares every 16-bit pattern). nullopt for any other chain or input.
std::optional<TensorOutput> applyExactWidening(const TensorInput &input, const TransformChain &chain);

} // namespace graft
