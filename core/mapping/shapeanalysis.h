#pragma once
// Classifies a (source, target) pair: exact, fixable with a transform chain, or incompatible,
// with a one-line reason. Knows the layout conventions of the target frameworks
// (facts in shared/REFERENCE.md).

#include "mapping/transform.h"

#include <QString>

namespace graft {

/// Layout conventions of the target side.
enum class Convention {
    Torch,   ///< torch -> torch: identity
    Equinox, ///< conv bias [C,1,1]; ConvTranspose weight flipped and first two axes swapped
    Flax,    ///< conv kernel HWIO (w.transpose(2,3,1,0)); Dense kernel w.T
};

QString conventionName(Convention convention);

enum class MatchStatus { Exact, Fixable, Incompatible, Unmapped, Kept, Guessed };
/// "exact", "fixable", "incompatible", "unmapped", "kept", "guessed" (decided by order and shape
/// alone: never written unless the user accepts it).
QString matchStatusName(MatchStatus status);

struct PairAnalysis {
    MatchStatus status = MatchStatus::Incompatible;
    TransformChain transforms;
    QString reason;
};

/// Analyses moving `source` into `target`. `targetKey` lets conventions look at names (a Flax
/// `kernel`). When several permutations fit, the convention's is chosen and the reason says so.
PairAnalysis analysePair(const TensorSpec &source, const TensorSpec &target, Convention convention,
                         const QString &targetKey = QString());

/// Status of an explicit chain: exact (no-op), fixable (chain yields the target), or
/// incompatible (with the inference error).
PairAnalysis analyseChain(const std::vector<TensorSpec> &sources, const TransformChain &chain, const TensorSpec &target);

} // namespace graft
