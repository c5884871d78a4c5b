#include "tensor/pairaccumulator.h"

#include <algorithm>

namespace graft {

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
