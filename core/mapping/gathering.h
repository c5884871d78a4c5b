#pragma once
// Several sources into one leaf, the way the structure matcher and a hand drop in the workbench
// both make it: per-layer tensors stacked on a new axis 0 (stack(0), then each layer's pair
// chain lifted past the stacked axis), the parts of a fused role concatenated on axis 0
// (q, k, v -> qkv), or both (each layer's q, k, v into a stacked qkv). gatherSources() also
// finds, among dragged keys (a layer group or a multi-selection), which ones those are.

#include "mapping/mapping.h"
#include "mapping/partsanalysis.h"

#include <vector>

namespace graft {


/// analyseGathered(): in partsanalysis.h (the structure matcher and a drop share it).

/// What `key` is inside its layer, in role form: the role tokens after the last block index
/// ("transformer.h.0.attn.c_attn.weight" -> "attn.qkv.weight").
QString roleInLayer(const QString &key);

/// What a drop of several source keys on one target leaf makes.
struct GatheredSources {
    QStringList sources;   ///< in stacking / concatenation order: layer-major, parts in role order
    int layers = 0;        ///< layers stacked (0: not stacked)
    QStringList parts;     ///< per layer: the parts' role names ("q", "k", "v") or keys; one entry when not concatenated
    PairAnalysis analysis; ///< the chain and status for `sources` (Incompatible: nothing fits, with why)
    MatchOrigin origin = MatchOrigin::None; ///< Stacked, Concat or Explicit (one source picked)
    QString description;   ///< "stacked 3 layers of transformer.h.#.attn.c_attn.weight", "concatenated q, k, v"
};

/// Resolves `dropped` (source keys in the order the user selected them) against `target`.
/// Keys whose first token after their common prefix is a block index in every key are layers
/// (`transformer.h` dragged, or `h.0.x`, `h.1.x` selected) and are stacked when there are two or
/// more; otherwise all keys are one group. In each group the sources are: the only key; else
/// the key whose role path (roleTokens) ends like the target's; else the parts of the target's
/// fused role (q, k, v for qkv) in role order; else (one group) every key in selection order;
/// else the only key whose shape fits. Never guesses between two equally good keys.
GatheredSources gatherSources(const std::vector<KeySpec> &dropped, const KeySpec &target, Convention convention);

} // namespace graft
