#pragma once
// Internal to the statistics (tensorstats.h): one tensor's figures, a chunk at a time.

#include "tensor/statsmath.h"
#include "tensor/tensorstats.h"

#include <algorithm>

// ofChunk and merge are the hot loops of the statistics and are defined inline below, so that
// the drivers (tensorstats.cpp, tensorcomparison.cpp, built with -fopenmp-simd and the dynamic
// vectoriser cost model: core/CMakeLists.txt) compile `merge(ofChunk(block))` as one piece.
// That is also what keeps every bit of the results as it was, down to which NaN a sum of NaNs
// keeps (the operand order the compiler picks depends on where the two are expanded).

namespace graft {

/// One tensor's figures, merged chunk by chunk (Chan et al.'s update for the variance).
/// Merging the same chunks in the same order gives the same bits, whoever computed them.
class TensorAccumulator {
public:
    /// The figures of one chunk of `n` values.
    static TensorAccumulator ofChunk(const double *x, qint64 n);

    /// Adds the figures of the values that follow (Chan et al.'s update for the variance).
    void merge(const TensorAccumulator &next);

    bool anyFinite() const { return m_finite > 0; }
    double min() const { return m_min; }
    double max() const { return m_max; }

    TensorStatistics result() const;

private:
    qint64 m_count = 0, m_finite = 0, m_nan = 0, m_inf = 0, m_zeros = 0;
    double m_mean = 0.0, m_m2 = 0.0, m_sumSquares = 0.0;
    double m_min = kInfinity, m_max = -kInfinity;
};

inline TensorAccumulator TensorAccumulator::ofChunk(const double *x, qint64 n)
{
    // Branch-free so that the loops vectorise (OpenMP simd reductions: the sums are split
    // across lanes, which changes their rounding by a few ulps, not their meaning).
    // Counts are doubles in the loop (exact below 2^53) so that every lane is a double.
    double finiteCount = 0.0, nanCount = 0.0, zeroCount = 0.0;
    double sum = 0.0, sumSquares = 0.0, min = kInfinity, max = -kInfinity;
#pragma omp simd reduction(+ : finiteCount, nanCount, zeroCount, sum, sumSquares) reduction(min : min) reduction(max : max)
    for (qint64 i = 0; i < n; ++i) {
        const double v = x[i];
        const bool isFinite = isFiniteValue(v);
        const double f = isFinite ? v : 0.0;
        finiteCount += isFinite ? 1.0 : 0.0;
        nanCount += v != v ? 1.0 : 0.0;
        zeroCount += v == 0.0 ? 1.0 : 0.0;
        sum += f;
        sumSquares += f * f;
        const double low = isFinite ? v : kInfinity;
        const double high = isFinite ? v : -kInfinity;
        min = low < min ? low : min;
        max = high > max ? high : max;
    }
    const qint64 finite = static_cast<qint64>(finiteCount), nan = static_cast<qint64>(nanCount), zeros = static_cast<qint64>(zeroCount);
    const qint64 inf = n - finite - nan;
    double m2 = 0.0;
    const double mean = finite > 0 ? sum / static_cast<double>(finite) : 0.0;
    if (finite > 0) {
#pragma omp simd reduction(+ : m2)
        for (qint64 i = 0; i < n; ++i) {
            const double deviation = x[i] - mean; // computed unconditionally: a select, not a branch
            const double d = isFiniteValue(x[i]) ? deviation : 0.0;
            m2 += d * d;
        }
    }
    TensorAccumulator chunk;
    chunk.m_count = n;
    chunk.m_nan = nan;
    chunk.m_inf = inf;
    chunk.m_zeros = zeros;
    chunk.m_sumSquares = sumSquares;
    chunk.m_min = min;
    chunk.m_max = max;
    chunk.m_finite = finite;
    chunk.m_mean = mean;
    chunk.m_m2 = m2;
    return chunk;
}

inline void TensorAccumulator::merge(const TensorAccumulator &next)
{
    m_count += next.m_count;
    m_nan += next.m_nan;
    m_inf += next.m_inf;
    m_zeros += next.m_zeros;
    m_sumSquares += next.m_sumSquares;
    m_min = std::min(m_min, next.m_min);
    m_max = std::max(m_max, next.m_max);
    if (next.m_finite > 0) {
        const double total = static_cast<double>(m_finite + next.m_finite);
        const double delta = next.m_mean - m_mean;
        m_mean += delta * static_cast<double>(next.m_finite) / total;
        m_m2 += next.m_m2 + delta * delta * static_cast<double>(m_finite) * static_cast<double>(next.m_finite) / total;
        m_finite += next.m_finite;
    }
}

} // namespace graft
