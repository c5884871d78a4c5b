#pragma once
// The one histogram of Graft (statistics, diffs and the inspector's value plot): equal-width
// bins with numpy.histogram's binning.

#include "tensor/tensorstats.h"

#include <algorithm>
#include <vector>

namespace graft {

/// numpy.histogram's binning: edges from linspace, index from the scaled offset, corrected
/// against the edges so a value on an edge lands where numpy puts it. Values outside [lo, hi]
/// and NaN are not counted; the last bin includes hi. Needs bins > 0 and lo < hi.
class HistogramBuilder {
public:
    HistogramBuilder(int bins, double lo, double hi);

    /// Counts `v` (`weight` times) in its bin. Inline: called once per value.
    void add(double v, qint64 weight = 1)
    {
        if (!(v >= m_lo && v <= m_hi)) // also drops NaN
            return;
        const qint64 bins = static_cast<qint64>(m_counts.size());
        qint64 index = static_cast<qint64>((v - m_lo) * m_norm);
        index = std::clamp<qint64>(index, 0, bins - 1);
        if (v < m_edges[static_cast<size_t>(index)])
            --index;
        else if (index != bins - 1 && v >= m_edges[static_cast<size_t>(index) + 1])
            ++index;
        m_counts[static_cast<size_t>(index)] += weight;
    }

    /// Adds the counts of a builder with the same bins.
    void merge(const HistogramBuilder &other);

    Histogram result() const { return {m_lo, m_hi, m_counts}; }

private:
    std::vector<qint64> m_counts;
    std::vector<double> m_edges;
    double m_lo;
    double m_hi;
    double m_norm;
};

/// numpy's automatic range: min..max, widened by 0.5 each side when equal, (0, 1) when empty
/// (`any` false).
void autoRange(double min, double max, bool any, double *lo, double *hi);

/// Whether `options` ask for histograms whose range comes from the data (a second pass).
inline bool wantsAutoRange(const StatisticsOptions &options) { return options.bins > 0 && !(options.lo < options.hi); }

} // namespace graft
