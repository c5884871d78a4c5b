#pragma once
// A tensor laid out as a 2-D grid for heat maps — matrices as they are, conv kernels as
// out × (in·kh·kw), vectors as a one-row strip — downsampled to at most maxRows × maxCols by
// keeping, in each block, the value of largest magnitude (so single spikes stay visible).

#include "checkpoint/checkpoint.h"

#include <vector>

namespace graft {

struct HeatMapGrid {
    qint64 rows = 0;          ///< of the tensor laid out in 2-D
    qint64 columns = 0;
    qint64 blockRows = 1;     ///< tensor rows per grid cell
    qint64 blockColumns = 1;
    int gridRows = 0;
    int gridColumns = 0;
    std::vector<double> values; ///< gridRows × gridColumns, row-major; NaN where a block has no finite value
    double maxAbs = 0.0;        ///< of the finite grid values
};

/// The 2-D layout of a shape: (rows, columns).
std::pair<qint64, qint64> heatMapLayout(const Shape &shape);

/// Pools `a` (or, when `b` is given, a − b) into a grid. Both are contiguous little-endian bytes
/// of `numel` elements of their dtype, with the layout of `shape`.
HeatMapGrid heatMapGrid(const uchar *a, DType aType, const uchar *b, DType bType, const Shape &shape, int maxRows, int maxColumns);

} // namespace graft
