#include "tensor/heatmap.h"

#include "tensor/tensorvalues.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace graft {

std::pair<qint64, qint64> heatMapLayout(const Shape &shape)
{
    if (shape.empty())
        return {1, 1};
    if (shape.size() == 1)
        return {1, shape[0]};
    qint64 columns = 1;
    for (size_t i = 1; i < shape.size(); ++i)
        columns *= shape[i];
    return {shape[0], columns};
}

HeatMapGrid heatMapGrid(const uchar *a, DType aType, const uchar *b, DType bType, const Shape &shape, int maxRows, int maxColumns)
{
    HeatMapGrid grid;
    const auto [rows, columns] = heatMapLayout(shape);
    grid.rows = rows;
    grid.columns = columns;
    if (rows <= 0 || columns <= 0)
        return grid;
    grid.blockRows = (rows + maxRows - 1) / maxRows;
    grid.blockColumns = (columns + maxColumns - 1) / maxColumns;
    grid.gridRows = static_cast<int>((rows + grid.blockRows - 1) / grid.blockRows);
    grid.gridColumns = static_cast<int>((columns + grid.blockColumns - 1) / grid.blockColumns);
    grid.values.assign(static_cast<size_t>(grid.gridRows) * static_cast<size_t>(grid.gridColumns),
                       std::numeric_limits<double>::quiet_NaN());
    // One tensor row at a time: memory is two rows of doubles whatever the tensor's size.
    std::vector<double> rowA(static_cast<size_t>(columns));
    std::vector<double> rowB(b ? static_cast<size_t>(columns) : 0);
    const qint64 aRowBytes = columns * dtypeSize(aType);
    const qint64 bRowBytes = columns * dtypeSize(bType);
    for (qint64 r = 0; r < rows; ++r) {
        decodeToDouble(a + r * aRowBytes, aType, columns, rowA.data());
        if (b) {
            decodeToDouble(b + r * bRowBytes, bType, columns, rowB.data());
            for (qint64 c = 0; c < columns; ++c)
                rowA[static_cast<size_t>(c)] -= rowB[static_cast<size_t>(c)];
        }
        double *gridRow = grid.values.data() + static_cast<size_t>(r / grid.blockRows) * static_cast<size_t>(grid.gridColumns);
        for (qint64 c = 0; c < columns; ++c) {
            const double v = rowA[static_cast<size_t>(c)];
            if (!std::isfinite(v))
                continue;
            double &cell = gridRow[c / grid.blockColumns];
            if (std::isnan(cell) || std::abs(v) > std::abs(cell))
                cell = v;
        }
    }
    for (double v : grid.values) {
        if (std::isfinite(v))
            grid.maxAbs = std::max(grid.maxAbs, std::abs(v));
    }
    return grid;
}

} // namespace graft
