#include "tensor/tensoraccumulator.h"

#include <algorithm>

namespace graft {

TensorAccumulator TensorAccumulator::ofSums(qint64 n, double finite, double nans, double zeros, double shift, double shiftedSum,
                                            double shiftedSquares, double sumSquares, double min, double max)
{
    TensorAccumulator chunk;
    chunk.m_count = n;
    chunk.m_finite = static_cast<qint64>(finite);
    chunk.m_nan = static_cast<qint64>(nans);
    chunk.m_inf = n - chunk.m_finite - chunk.m_nan;
    chunk.m_zeros = static_cast<qint64>(zeros);
    chunk.m_sumSquares = sumSquares;
    chunk.m_min = min;
    chunk.m_max = max;
    if (finite > 0.0) {
        chunk.m_mean = shift + shiftedSum / finite;
        chunk.m_m2 = std::max(0.0, shiftedSquares - shiftedSum * shiftedSum / finite);
    }
    return chunk;
}

TensorStatistics TensorAccumulator::result() const
{
    TensorStatistics s;
    s.count = m_count;
    s.finite = m_finite;
    s.nan = m_nan;
    s.inf = m_inf;
    s.zeros = m_zeros;
    s.zeroFraction = m_count > 0 ? static_cast<double>(m_zeros) / static_cast<double>(m_count) : kNaN;
    s.l2 = std::sqrt(m_sumSquares);
    if (m_finite > 0) {
        s.mean = m_mean;
        s.std = std::sqrt(m_m2 / static_cast<double>(m_finite));
        s.min = m_min;
        s.max = m_max;
        s.maxAbs = std::max(std::fabs(m_min), std::fabs(m_max));
    } else {
        s.mean = s.std = s.min = s.max = s.maxAbs = kNaN;
    }
    return s;
}

} // namespace graft
