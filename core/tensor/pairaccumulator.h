#pragma once
// Internal to the statistics (tensorstats.h): the figures of a pair of tensors, a chunk at a time.

#include "tensor/statsmath.h"
#include "tensor/tensorstats.h"

#include <algorithm>

// ofChunk, the hot loop, is in blockkernels.cpp (one pass per block, compiled for several
// instruction sets); merge is inline below.

namespace graft {

/// The pair figures (differences, norms, dot product, allclose), merged chunk by chunk in
/// order, so the result is the same bits whoever computed each chunk.
class PairAccumulator {
public:
    /// The figures of one block of `n` value pairs (blockkernels.cpp).
    static PairAccumulator ofChunk(const float *a, const float *b, qint64 n, const Tolerance &tolerance);
    static PairAccumulator ofChunk(const double *a, const double *b, qint64 n, const Tolerance &tolerance);
    /// The figures from a block's sums (counts as doubles, as the vector lanes hold them).
    static PairAccumulator ofSums(qint64 n, double differing, double nans, double far, double maxAbs, double finiteMaxAbs,
                                  double sumAbs, double sumSquares, double dot, double normA, double normB);

    /// Adds the figures of the pairs that follow.
    void merge(const PairAccumulator &next);

    double finiteMaxAbs() const { return m_finiteMaxAbs; }

    PairStatistics result() const;

private:
    qint64 m_count = 0, m_differing = 0;
    double m_maxAbs = 0.0, m_finiteMaxAbs = 0.0, m_sumAbs = 0.0, m_sumSquares = 0.0;
    double m_dot = 0.0, m_normA = 0.0, m_normB = 0.0;
    bool m_close = true, m_nan = false;
};

inline void PairAccumulator::merge(const PairAccumulator &next)
{
    m_count += next.m_count;
    m_nan |= next.m_nan;
    m_maxAbs = std::max(m_maxAbs, next.m_maxAbs);
    m_finiteMaxAbs = std::max(m_finiteMaxAbs, next.m_finiteMaxAbs);
    m_sumAbs += next.m_sumAbs;
    m_sumSquares += next.m_sumSquares;
    m_dot += next.m_dot;
    m_normA += next.m_normA;
    m_normB += next.m_normB;
    m_differing += next.m_differing;
    m_close = m_close && next.m_close;
}

} // namespace graft
