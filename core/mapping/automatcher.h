#pragma once
// Automatic matching of source tensors onto target leaves. Passes, in the order run() takes
// them (matcher.h); each decides what the earlier ones left open, with a confidence and a reason:
//   1. kept targets and scalar leaves, ignored sources; explicit pairs (profile / user);
//   2. canonical names (keynames.h) after the user's rename rules;
//   3. structure (structurematcher.h): role names from naming.json, prefix rewrites learned from
//      agreeing tails, block index to block index; stacked / unstacked / concatenated / fused
//      slices (partsanalysis.h);
//   4. loose names, then fused q/k/v tensors (in_proj_weight, qkv) sliced into projections;
//   5. isomorphic modules (isomorphicgap.h): same modules in the same order decide by structure
//      (the whole open model, then each shared parent's children, then gap by gap);
//   6. layout evidence (layoutevidence.h): square weights follow their non-square siblings;
//   7. an Equinox BatchNorm's first-time flag becomes the constant False;
//   8. order + shape (orderalignment.h) between the anchors: status guessed, never written unless
//      accepted. Ties are reported as ambiguous, never guessed.
// Passes 2-6 need MatchOptions::useNames, 5 and 8 useOrder. Nothing quadratic over all pairs:
// alignment runs only inside the gaps between anchors.

#include "mapping/mapping.h"
#include "mapping/renamerule.h"

#include <functional>
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
    /// Asked between the matcher's passes (a dozen per match, each well under a second at 100k
    /// keys); true stops the match there, and the result says `cancelled` (a partial result,
    /// never to be applied). The workbench stops a match the user or a newer file made stale.
    std::function<bool()> stop;
};

/// The matcher's view of a checkpoint's tensors.
std::vector<KeySpec> keySpecs(const Checkpoint &checkpoint);

/// The layout convention a target implies: a Graft skeleton is Equinox, a Flax msgpack Flax; keys with `kernel`,
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
