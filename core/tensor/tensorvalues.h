#pragma once
// Tensor bytes as numbers: decoding every dtype (incl. float16/bfloat16/float8) to double for
// display, statistics and histograms.

#include "checkpoint/checkpoint.h"

#include <vector>

namespace graft {

/// Decodes `count` elements of `dtype` from contiguous little-endian bytes into doubles
/// (complex: the real part).
void decodeToDouble(const uchar *data, DType dtype, qint64 count, double *out);

/// The first `maxCount` values of tensor `index` (all when maxCount < 0), as doubles.
Result<std::vector<double>> tensorValues(const Checkpoint &checkpoint, int index, qint64 maxCount);

/// Bin counts of `values` over [lo, hi] (finite values only; HistogramBuilder, numpy's binning);
/// when lo >= hi, lo/hi are set from the data first (autoRange: the finite min..max).
std::vector<qint64> histogram(const std::vector<double> &values, int bins, double *lo, double *hi);

} // namespace graft
