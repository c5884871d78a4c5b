#pragma once
// Diff of two checkpoints, tensor by tensor: which keys only one side has, which changed shape
// or dtype, and for the rest how far apart the values are (tensorstats.h defines every figure).
//
// Keys align exactly, or through a mapping of A's tensors onto B's leaves (a profile applied
// with matchCheckpoints(A, B), or the GUI's current mapping): then A is first transformed into
// B's layout by the conversion plan — the very bytes `convert` would write — so a converted
// .eqx/.safetensors can be checked against the .pth it came from.

#include "checkpoint/checkpoint.h"
#include "base/progress.h"
#include "mapping/mapping.h"
#include "tensor/tensorstats.h"

#include <optional>

namespace graft {

struct ShapeChange {
    QString key;
    Shape a;
    Shape b;
};

struct DTypeChange {
    QString key;
    DType a = DType::Float32;
    DType b = DType::Float32;
};

/// One compared tensor.
struct DiffRow {
    QString key;        ///< B's key (= A's when aligned exactly)
    QString source;     ///< through a mapping: A's side as an expression ("conv.bias[:, None, None]")
    Shape shape;        ///< B's shape (A's values were brought into it)
    DType dtype = DType::Float32;  ///< B's dtype
    DType aDtype = DType::Float32; ///< A's dtype as stored (differs only for a dtype change)
    bool equal = true;  ///< identical, or allclose within the tolerance
    PairStatistics pair;
    std::optional<TensorStatistics> a;
    std::optional<TensorStatistics> b;
};

struct CheckpointDiff {
    QString fileA;
    QString fileB;
    bool throughMapping = false;
    QStringList onlyInA;                  ///< A's order; through a mapping: sources no leaf uses (not ignored ones)
    QStringList onlyInB;                  ///< B's order; through a mapping: leaves no source fills
    std::vector<ShapeChange> shapeChanged;
    std::vector<DTypeChange> dtypeChanged;
    std::vector<DiffRow> compared;        ///< by relative difference, largest (NaN, then +inf) first
    /// Through a mapping only: B's leaves that deliberately keep their own values (kept by the
    /// profile, skeleton scalars, and 0-d leaves no source fills, such as the MaxPool `init`
    /// and Dropout `p` records a conversion writes from the target). Not differences.
    QStringList kept;

    int differingRows() const;
    /// True when no key, shape or dtype differs and every compared row is equal.
    bool equal() const;
};

struct DiffOptions {
    Tolerance tolerance;
    bool tensorStatistics = true; ///< also each side's statistics per row
    int bins = 0;                 ///< histograms per row (see StatisticsOptions)
    /// Compare through this mapping of A onto B (matchCheckpoints(a, b, ...)); exact keys without.
    std::optional<MappingResult> mapping;
    /// (values done, values total) over every compared row; false cancels.
    ProgressCallback progress;
};

/// Diffs `a` against `b`. Exactly aligned keys with equal shapes are compared even when the
/// dtype changed (listed in dtypeChanged too); complex compares only with complex. Errors name
/// the file whose tensor could not be read, or say the diff was cancelled.
Result<CheckpointDiff> diffCheckpoints(const Checkpoint &a, const Checkpoint &b, const DiffOptions &options = {});

} // namespace graft
