#pragma once
// Internal to the statistics (tensorstats.h): one tensor's figures, a chunk at a time.

#include "tensor/statsmath.h"
#include "tensor/tensorstats.h"

#include <algorithm>

// ofChunk, the hot loop, is in blockkernels.cpp (one single pass per block, compiled for several
// instruction sets); merge is inline below.

namespace graft {

/// One tensor's figures, merged chunk by chunk (Chan et al.'s update for the variance).
/// Merging the same chunks in the same order gives the same bits, whoever computed them.
class TensorAccumulator {
public:
    /// The figures of one block of `n` values (float32 lanes or float64 lanes; blockkernels.cpp).
    static TensorAccumulator ofChunk(const float *x, qint64 n);
    static TensorAccumulator ofChunk(const double *x, qint64 n);
    /// The figures from a block's sums: `shiftedSum`, `shiftedSquares` are Σ(x−shift), Σ(x−shift)²
    /// over the finite values (one pass, no second pass for the variance: the shift, a value of
    /// the block, keeps the difference of the two from cancelling).
    static TensorAccumulator ofSums(qint64 n, double finite, double nans, double zeros, double shift, double shiftedSum,
                                    double shiftedSquares, double sumSquares, double min, double max);

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
