#pragma once
// Statistics of one tensor and of a pair of tensors, streamed over their bytes (the memory map)
// in fixed-size chunks decoded to double, so memory stays flat however big the tensor is.
// Every dtype: integers and bool as their values, float16/bfloat16/float8 decoded exactly, and
// complex tensors as their (real, imaginary) components, like numpy's `a.view(float)`: a
// complex tensor of n elements has 2n values.
//
// Definitions (tests/python/tensor_stats.py computes the same with numpy in float64):
//   tensor: count = values; nan, inf, zeros counted over all values; mean, std (population),
//           min, max, l2 = sqrt(sum x²) and max_abs over the FINITE values only (NaN/±inf are
//           reported by their counts instead of swallowing every figure); NaN when there are no
//           finite values. zero_fraction = zeros / count (NaN for an empty tensor).
//   pair:   d = 0 where a == b (so equal infinities agree), else a − b (NaN if either is NaN);
//           max_abs_diff = max |d| and mean_abs_diff = mean |d| and rms_diff = sqrt(mean d²)
//           (NaN propagates, as in numpy; 0 for empty tensors);
//           rel_l2 = ‖d‖ / ‖a‖: NaN if ‖d‖ is NaN, 0 if ‖d‖ = 0, +inf if ‖a‖ = 0;
//           cosine = a·b / (‖a‖ ‖b‖): 1 when both norms are 0, 0 when one is;
//           differing = count of a != b (NaN differs from everything);
//           allclose(rtol, atol) = numpy.allclose(a, b, rtol, atol, equal_nan=False):
//           |a − b| ≤ atol + rtol·|b| for finite pairs, a == b otherwise.
// Byte-identical tensors of one dtype take a fast path: equal, every difference 0, cosine 1 —
// identical bytes are equal even when they hold NaN (a file compared with itself is equal),
// the one place where this departs from numpy's equal_nan=False.

#include "base/progress.h"
#include "base/dtype.h"
#include "base/mappedfile.h"
#include "base/result.h"

#include <QtGlobal>

#include <optional>
#include <vector>

namespace graft {

/// Values of a tensor of `dtype` with `numel` elements: numel, or 2·numel for complex dtypes.
qint64 valueCount(DType dtype, qint64 numel);

/// Equal-width histogram of the finite values over [lo, hi], numpy.histogram's binning (values
/// outside the range are not counted; the last bin includes hi).
struct Histogram {
    double lo = 0.0;
    double hi = 0.0;
    std::vector<qint64> counts;
};

struct TensorStatistics {
    qint64 count = 0;
    qint64 finite = 0;
    double mean = 0.0;
    double std = 0.0;
    double min = 0.0;
    double max = 0.0;
    double l2 = 0.0;
    double maxAbs = 0.0;
    double zeroFraction = 0.0;
    qint64 zeros = 0;
    qint64 nan = 0;
    qint64 inf = 0;
    std::optional<Histogram> histogram; ///< when bins were asked for
};

/// numpy.allclose's tolerances. (0, 0), the default, means exactly equal.
struct Tolerance {
    double rtol = 0.0;
    double atol = 0.0;
};

struct PairStatistics {
    qint64 count = 0;        ///< values compared
    double maxAbsDiff = 0.0;
    double meanAbsDiff = 0.0;
    double rmsDiff = 0.0;
    double relL2 = 0.0;
    double cosine = 1.0;
    qint64 differing = 0;
    bool allclose = true;    ///< within the tolerance given
    bool identical = false;  ///< same dtype and byte for byte the same (the fast path)
    std::optional<Histogram> diffHistogram; ///< of the finite d values, when bins were asked for
};

/// What to compute besides the always-present figures.
struct StatisticsOptions {
    int bins = 0;          ///< > 0: histograms with this many bins
    double lo = 0.0;       ///< histogram range; lo >= hi: the finite min..max (diffs: ±max |d|)
    double hi = 0.0;
    /// Called on the calling thread as chunks finish, with (values done, values total); false cancels.
    ProgressCallback progress;
    /// Threads for one tensor: 0 = one per core (at most 8; a small tensor uses fewer). Every
    /// figure is bit for bit the same whatever the number: chunks are merged in order.
    int threads = 0;
};

/// A tensor's bytes as statistics take them: contiguous little-endian (Checkpoint::read).
struct TensorData {
    const uchar *data = nullptr;
    DType dtype = DType::Float32;
    qint64 numel = 0;
    /// The map `data` points into, if any: chunks are then copied out of the file with pread
    /// instead of read through the map (faster here, and the process stays small however big
    /// the tensor).
    const MappedFile *file = nullptr;
    /// compareTensors also computes the CRC-32 of all the bytes as it reads them (a record's
    /// check folded into the statistics' pass: Checkpoint::RecordCheck::ByReader).
    bool checksum = false;
};

/// Statistics of one tensor. Fails only when cancelled (message says so, no file named).
Result<TensorStatistics> tensorStatistics(const TensorData &tensor, const StatisticsOptions &options = {});

/// Pair statistics plus, when `withTensorStatistics`, each side's statistics, in one pass over
/// both tensors (with histograms of auto range, a second pass).
struct Comparison {
    PairStatistics pair;
    std::optional<TensorStatistics> a;
    std::optional<TensorStatistics> b;
    bool equal = true; ///< identical, or allclose within the tolerance
    /// CRC-32 of all of a's / b's bytes, for a side whose TensorData asked for it.
    std::optional<quint32> crcA;
    std::optional<quint32> crcB;
};

/// Compares `a` with `b` (any two dtypes with the same number of values: complex compares
/// only with complex). Errors: value counts differ; cancelled.
Result<Comparison> compareTensors(const TensorData &a, const TensorData &b, const Tolerance &tolerance,
                                  bool withTensorStatistics, const StatisticsOptions &options = {});

} // namespace graft
