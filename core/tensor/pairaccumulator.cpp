#include "tensor/pairaccumulator.h"

#include <algorithm>

namespace graft {

PairAccumulator PairAccumulator::ofSums(qint64 n, double differing, double nans, double far, double maxAbs, double finiteMaxAbs,
                                        double sumAbs, double sumSquares, double dot, double normA, double normB)
{
    PairAccumulator chunk;
    chunk.m_count = n;
    chunk.m_differing = static_cast<qint64>(differing);
    chunk.m_nan = nans > 0.0;
    chunk.m_close = far == 0.0;
    chunk.m_maxAbs = maxAbs;
    chunk.m_finiteMaxAbs = finiteMaxAbs;
    chunk.m_sumAbs = sumAbs;
    chunk.m_sumSquares = sumSquares;
    chunk.m_dot = dot;
    chunk.m_normA = normA;
    chunk.m_normB = normB;
    return chunk;
}

PairStatistics PairAccumulator::result() const
{
    PairStatistics p;
    p.count = m_count;
    p.differing = m_differing;
    p.allclose = m_close;
    if (m_count == 0)
        return p;
    const double n = static_cast<double>(m_count);
    p.maxAbsDiff = m_nan ? kNaN : m_maxAbs;
    p.meanAbsDiff = m_sumAbs / n;
    p.rmsDiff = std::sqrt(m_sumSquares / n);
    const double normD = std::sqrt(m_sumSquares);
    const double normA = std::sqrt(m_normA);
    const double normB = std::sqrt(m_normB);
    if (std::isnan(normD))
        p.relL2 = kNaN;
    else if (normD == 0.0)
        p.relL2 = 0.0;
    else if (normA == 0.0)
        p.relL2 = kInfinity;
    else
        p.relL2 = normD / normA;
    if (normA == 0.0 && normB == 0.0)
        p.cosine = 1.0;
    else if (normA == 0.0 || normB == 0.0)
        p.cosine = 0.0;
    else
        p.cosine = m_dot / (normA * normB);
    return p;
}

} // namespace graft
