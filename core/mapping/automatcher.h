#pragma once
// Automatic matching of source tensors onto target leaves. Strategies, in order, each decision
// with a confidence and a reason:
//   1. explicit pairs (profile / user), kept targets, ignored sources;
//   2. names: canonical keys (keynames.h) after the user's rename rules, then a looser form;
//      fused attention tensors (in_proj_weight, qkv) sliced into q/k/v projections;
//   3. order + shape: what is left is aligned by order with shape compatibility as the score
//      (a dynamic-programming alignment between the name-matched anchors, not a zip), so extra
//      or missing entries don't shift everything after them. Ties are reported as ambiguous.
// Nothing quadratic over all pairs: alignment runs only inside the gaps between anchors.

#include "mapping/mapping.h"
#include "mapping/renamerule.h"

#include <optional>
#include <vector>

namespace graft {

class Checkpoint;

struct ExplicitMapping {
    QString target;
    QStringList sources;
    TransformChain transforms;
    bool hasTransforms = false; ///< false: derive the chain from the shapes
};

struct MatchOptions {
    bool useNames = true;
    bool useOrder = true;
    std::vector<RenameRule> rules;
    std::vector<ExplicitMapping> explicitMappings;
    QStringList keptTargets;
    QStringList ignoredSources;
    std::optional<Convention> convention; ///< detected from the target when unset
};

/// The matcher's view of a checkpoint's tensors.
std::vector<KeySpec> keySpecs(const Checkpoint &checkpoint);

/// The layout convention a target implies: a Graft skeleton is Equinox; keys with `kernel`,
/// `params/` or `batch_stats` are Flax; otherwise torch.
Convention detectConvention(const Checkpoint &target);

/// Matches `sources` onto `targets`.
MappingResult autoMatch(const std::vector<KeySpec> &sources, const std::vector<KeySpec> &targets, const MatchOptions &options,
                        Convention convention);

/// Groups of keys that name one tensor (same storage bytes and view), in file order.
std::vector<QStringList> tiedTensors(const Checkpoint &checkpoint);

/// Matches two opened checkpoints: keySpecs of both, the convention from the options or
/// detected from the target. The one entry point the CLI and GUI share.
MappingResult matchCheckpoints(const Checkpoint &source, const Checkpoint &target, const MatchOptions &options);

} // namespace graft
