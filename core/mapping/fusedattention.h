#pragma once
// Fused q/k/v tensors whose rows may not be three contiguous blocks.

#include "mapping/mapping.h"

#include <vector>

namespace graft {

/// For each key of one checkpoint (as the name passes read it): why its fused q/k/v tensor must
/// not be cut into (or made of) three contiguous blocks, or an empty string. A `c_attn` weight in
/// torch's Linear layout (3D, D), and its bias: GPTBigCode (multi_query=False) holds its rows head
/// by head ([q_h; k_h; v_h]), nanoGPT and Qwen-1 as [q; k; v], and the names, the shapes and the
/// file are the same. Contiguous thirds of GPTBigCode's were wrong tensors under the right names.
/// Blocks that also hold Qwen-1's `mlp.w1` and `mlp.w2` read as Qwen-1 (contiguous); GPT-2's
/// Conv1D `c_attn` (D, 3D) is contiguous (its split is torch's `split(D, dim=2)`).
std::vector<QString> perHeadFusedReasons(const std::vector<KeySpec> &keys);

} // namespace graft
