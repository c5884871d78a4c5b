#pragma once
// Printing a CheckpointDiff: the readable report and the JSON of `graft-cli diff`.

#include "diff/checkpointdiff.h"

#include <QString>

namespace graft::cli {

/// What the report says about how the diff was run.
struct DiffContext {
    QString fileA;          ///< as given on the command line
    QString fileB;
    QString profile;        ///< empty: keys aligned exactly
    Tolerance tolerance;
};

/// Summary line, the key/shape/dtype lists, then the differing tensors (largest relative
/// difference first, at most `maxRows`) with their figures.
QString diffReport(const CheckpointDiff &diff, const DiffContext &context, int maxRows = 20);

/// The JSON contract of issue 6 (keys in this order; NaN and infinities as null):
/// {"a", "b", "only_in_a", "only_in_b", "shape_changed": [{"key", "a_shape", "b_shape"}],
///  "dtype_changed": [{"key", "a_dtype", "b_dtype"}],
///  "compared": [{"key", "shape", "dtype", "equal", "max_abs_diff", "mean_abs_diff", "rms_diff",
///                "rel_l2", "cosine", "a": {stats}, "b": {stats}}]}
/// with stats = {"count", "mean", "std", "min", "max", "l2", "max_abs", "zero_fraction", "nan", "inf"}.
QString diffJson(const CheckpointDiff &diff, const DiffContext &context);

} // namespace graft::cli
