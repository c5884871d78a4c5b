#include "tensor/histogrambuilder.h"

namespace graft {

HistogramBuilder::HistogramBuilder(int bins, double lo, double hi) : m_counts(static_cast<size_t>(bins), 0), m_lo(lo), m_hi(hi)
{
    const double step = (hi - lo) / bins;
    m_edges.resize(static_cast<size_t>(bins) + 1);
    for (int i = 0; i < bins; ++i)
        m_edges[static_cast<size_t>(i)] = i * step + lo;
    m_edges.back() = hi;
    m_norm = bins / (hi - lo);
}

void HistogramBuilder::merge(const HistogramBuilder &other)
{
    for (size_t i = 0; i < m_counts.size(); ++i)
        m_counts[i] += other.m_counts[i];
}

void autoRange(double min, double max, bool any, double *lo, double *hi)
{
    if (!any) {
        *lo = 0.0;
        *hi = 1.0;
    } else if (min == max) {
        *lo = min - 0.5;
        *hi = max + 0.5;
    } else {
        *lo = min;
        *hi = max;
    }
}

} // namespace graft
