#pragma once
// Internal to the statistics (tensorstats.h): the figures of a pair of tensors, a chunk at a time.

#include "tensor/statsmath.h"
#include "tensor/tensorstats.h"

#include <algorithm>

// ofChunk and merge are the hot loops of the statistics and are defined inline below, so that
// the drivers (tensorstats.cpp, tensorcomparison.cpp, built with -fopenmp-simd and the dynamic
// vectoriser cost model: core/CMakeLists.txt) compile `merge(ofChunk(block))` as one piece.
// That is also what keeps every bit of the results as it was, down to which NaN a sum of NaNs
// keeps (the operand order the compiler picks depends on where the two are expanded).

namespace graft {

/// The pair figures (differences, norms, dot product, allclose), merged chunk by chunk in
/// order, so the result is the same bits whoever computed each chunk.
class PairAccumulator {
public:
    /// The figures of one chunk of `n` value pairs.
    static PairAccumulator ofChunk(const double *a, const double *b, qint64 n, const Tolerance &tolerance);

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

inline PairAccumulator PairAccumulator::ofChunk(const double *a, const double *b, qint64 n, const Tolerance &tolerance)
{
    double maxAbs = 0.0, finiteMaxAbs = 0.0, sumAbs = 0.0, sumSquares = 0.0, dot = 0.0, normA = 0.0, normB = 0.0;
    double differingCount = 0.0, nans = 0.0, far = 0.0; // doubles in the loop, as in TensorAccumulator
    const double atol = tolerance.atol, rtol = tolerance.rtol;
#pragma omp simd reduction(+ : sumAbs, sumSquares, dot, normA, normB, differingCount, nans, far) reduction(max : maxAbs, finiteMaxAbs)
    for (qint64 i = 0; i < n; ++i) {
        const double x = a[i], y = b[i];
        const bool same = x == y;
        const double difference = x - y; // computed unconditionally: a select, not a branch
        const double d = same ? 0.0 : difference;
        const double absolute = std::fabs(d);
        const bool isNan = d != d;
        nans += isNan ? 1.0 : 0.0;
        const double forMax = isNan ? 0.0 : absolute; // NaN is reported apart
        const double forFiniteMax = absolute < kInfinity ? absolute : 0.0;
        maxAbs = forMax > maxAbs ? forMax : maxAbs;
        finiteMaxAbs = forFiniteMax > finiteMaxAbs ? forFiniteMax : finiteMaxAbs;
        sumAbs += absolute;
        sumSquares += d * d;
        differingCount += same ? 0.0 : 1.0;
        dot += x * y;
        normA += x * x;
        normB += y * y;
        const bool close = same | (isFiniteValue(x) & isFiniteValue(y) & (absolute <= atol + rtol * std::fabs(y)));
        far += close ? 0.0 : 1.0;
    }
    const qint64 differing = static_cast<qint64>(differingCount);
    const bool nan = nans > 0.0, close = far == 0.0;
    PairAccumulator chunk;
    chunk.m_count = n;
    chunk.m_nan = nan;
    chunk.m_maxAbs = maxAbs;
    chunk.m_finiteMaxAbs = finiteMaxAbs;
    chunk.m_sumAbs = sumAbs;
    chunk.m_sumSquares = sumSquares;
    chunk.m_dot = dot;
    chunk.m_normA = normA;
    chunk.m_normB = normB;
    chunk.m_differing = differing;
    chunk.m_close = close;
    return chunk;
}

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
