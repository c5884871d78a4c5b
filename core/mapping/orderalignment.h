#pragma once
// Order + shape alignment of two sequences (targets, sources): the alignment that pairs the
// most shape-compatible entries in order (exact pairs worth more than fixable ones), computed
// by dynamic programming forwards and backwards so that ties are detected, not guessed.

#include <functional>
#include <vector>

namespace graft {

struct AlignedPair {
    int target = 0; ///< index into the target sequence
    int source = 0; ///< index into the source sequence
};

struct AlignmentResult {
    std::vector<AlignedPair> pairs;          ///< unique best pairs, increasing in both indices
    std::vector<std::vector<int>> ambiguous; ///< per target: the tied sources (empty if none); a single
                                             ///< source when another target fits it equally well
    bool approximate = false;                ///< too large for the exact alignment: greedy
};

/// `score(t, s)` > 0 for a compatible pair (higher is better), 0 for incompatible.
/// Exact when targets × sources <= cellLimit, greedy in order beyond.
AlignmentResult alignByOrder(int targets, int sources, const std::function<int(int, int)> &score,
                             long long cellLimit = 4'000'000);

} // namespace graft
