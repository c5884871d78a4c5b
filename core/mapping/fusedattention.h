#pragma once
// Attention projections whose rows the names cannot order: fused q/k/v tensors that may not be
// three contiguous blocks, and q/k projections whose rows two code bases order differently.

#include "mapping/mapping.h"

#include <vector>

namespace graft {

/// For each key of one checkpoint (as the name passes read it): why its fused q/k/v tensor must
/// not be cut into (or made of) three contiguous blocks, or an empty string. A `c_attn` weight in
/// torch's Linear layout (3D, D), and its bias: GPTBigCode (multi_query=False) holds its rows head
/// by head ([q_h; k_h; v_h]), nanoGPT and Qwen-1 as [q; k; v], and the names, the shapes and the
/// file are the same. Contiguous thirds of GPTBigCode's were wrong tensors under the right names.
/// Blocks that also hold Qwen-1's `mlp.w1` and `mlp.w2` read as Qwen-1 (contiguous); GPT-2's
/// Conv1D `c_attn` (D, 3D) is contiguous (its split is torch's `split(D, dim=2)`). InternLM2's
/// `attention.wqkv` groups its rows per key/value head: never cut nor made either.
std::vector<QString> perHeadFusedReasons(const std::vector<KeySpec> &keys);

/// Why the q or k projection `sourceKey` must not be copied into `targetKey` as it is, or an
/// empty string. Hugging Face's Llama-family code (`q_proj` / `k_proj`) holds each head's rows in
/// the order its rotate_half rotary wants; Meta's reference code, mistral-inference, EasyLM and
/// llama.cpp (`wq` / `wk`, `attn_q` / `attn_k`) rotate interleaved pairs, and the converters
/// between them permute the rows head by head (convert_llama_weights_to_hf.py's `permute`,
/// convert_hf_to_gguf.py's). The head count is in no file: copied as they are, HF's q and k filled
/// mistral-inference's and llama.cpp's leaves with wrong tensors under "exact".
QString rotaryLayoutConflict(const QString &sourceKey, const QString &targetKey);

} // namespace graft
