#pragma once
// The combine step: from a mapping, the list of output leaves in target order — mapped leaves
// produce the (transformed) source tensors, everything else keeps the target's own values.
// Leaves are produced lazily, one at a time, by the writer.

#include "checkpoint/checkpointwriter.h"
#include "mapping/mapping.h"

namespace graft {

struct ConversionPlan {
    std::vector<OutputLeaf> leaves;
    int fromSource = 0;      ///< leaves filled from the source
    int keptFromTarget = 0;  ///< leaves keeping the target's values
    QStringList warnings;    ///< one per unmapped/incompatible/ambiguous leaf kept (keepUnmapped)
};

/// Builds the plan. Without `keepUnmapped`, refuses (error listing the first problems) when
/// any target array leaf is unmapped, incompatible, ambiguous or guessed (a guess decided by
/// order and shape alone is written only with `acceptGuesses`; otherwise, with `keepUnmapped`,
/// it keeps the target's values like an unmapped leaf). Scalar and deliberately kept
/// leaves always keep the target's values. Mapped leaves whose chain only reshapes are byte
/// copies (zero-copy from the map); others go through the tensor engine.
Result<ConversionPlan> planConversion(const Checkpoint &source, const Checkpoint &target, const MappingResult &mapping,
                                      bool keepUnmapped, bool acceptGuesses = false);

/// The Python lines that load an .eqx written for a skeleton.
QString eqxLoadingSnippet(const QString &eqxPath);
/// The Python lines that restore a Flax msgpack into the target's tree (flax.serialization.from_bytes).
QString flaxLoadingSnippet(const QString &msgpackPath);

} // namespace graft
