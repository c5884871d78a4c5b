#pragma once
// A leaf made from parts of tensors, for the structure matcher (structurematcher.h): one part of
// a fused source (qkv -> q), or several sources gathered into one leaf (q, k, v -> qkv
// concatenated; per-layer tensors -> one stacked leaf). Shapes only, like analysePair().

#include "mapping/shapeanalysis.h"

#include <vector>

namespace graft {

/// `transform` applied to each of `layers` tensors stacked on a new axis 0: its axes move up by
/// one (a reshape gains the leading `layers`).
Transform liftedTransform(const Transform &transform, qint64 layers);

/// Part `part` of `parts` of a fused `source` as the leaf `target`: sliced on the axis that is
/// `parts` times the target's; for a 2-D weight that axis becomes the target's output axis.
/// Incompatible (with the reason) when no axis fits.
PairAnalysis analyseFusedSlice(const TensorSpec &source, const TensorSpec &target, int part, int parts, Convention convention,
                               const QString &targetKey);

/// The sources of each layer (parts in order) as the leaf `target`: one layer's parts are
/// concatenated on axis 0; with `stackedTarget`, the layers are stacked on a new axis 0.
PairAnalysis analyseGathered(const std::vector<std::vector<TensorSpec>> &layers, const TensorSpec &target, Convention convention,
                             const QString &targetKey, bool stackedTarget);

} // namespace graft
