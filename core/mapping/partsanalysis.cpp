#include "mapping/partsanalysis.h"

#include "mapping/keynames.h"

#include <algorithm>

namespace graft {

Transform liftedTransform(const Transform &transform, qint64 layers)
{
    Transform out = transform;
    switch (transform.op) {
    case TransformOp::Reshape:
        out.shape.insert(out.shape.begin(), layers);
        break;
    case TransformOp::Transpose:
        out.axes = {0};
        for (int axis : transform.axes)
            out.axes.push_back(axis + 1);
        break;
    case TransformOp::Flip:
        for (int &axis : out.axes)
            ++axis;
        break;
    case TransformOp::Slice:
        ++out.axis;
        break;
    default:
        break;
    }
    return out;
}

namespace {

bool isFlaxKernel(Convention convention, const QString &targetKey)
{
    return convention == Convention::Flax && keyTokens(targetKey).value(keyTokens(targetKey).size() - 1) == QLatin1String("kernel");
}

} // namespace

// Part `part` of `parts` of a fused source: sliced on the axis that is `parts` times the
// target's, and for a 2-D weight that axis becomes the target's output axis (so a square
// slice of an (in, out) Conv1D is transposed like the non-square ones).
PairAnalysis analyseFusedSlice(const TensorSpec &source, const TensorSpec &target, int part, int parts, Convention convention,
                               const QString &targetKey)
{
    PairAnalysis best;
    best.reason = QStringLiteral("no axis of %1 is %2 x the target's").arg(shapeToString(source.shape)).arg(parts);
    for (int axis = 0; axis < static_cast<int>(source.shape.size()); ++axis) {
        const qint64 size = source.shape[static_cast<size_t>(axis)];
        if (size % parts != 0)
            continue;
        const qint64 rows = size / parts;
        TensorSpec sliced = source;
        sliced.shape[static_cast<size_t>(axis)] = rows;
        TransformChain chain{Transform::slice(axis, part * rows, (part + 1) * rows)};
        PairAnalysis rest;
        if (source.shape.size() == 2 && target.shape.size() == 2) {
            const int outputAxis = isFlaxKernel(convention, targetKey) ? 1 : 0;
            std::vector<int> perm{0, 1};
            if (axis != outputAxis)
                perm = {1, 0};
            const Shape shape{sliced.shape[static_cast<size_t>(perm[0])], sliced.shape[static_cast<size_t>(perm[1])]};
            if (shape != target.shape)
                continue;
            if (perm[0] == 1)
                chain.push_back(Transform::transpose(perm));
            if (sliced.dtype != target.dtype)
                chain.push_back(Transform::cast(target.dtype));
            rest.status = MatchStatus::Fixable;
            rest.reason = perm[0] == 1 ? QStringLiteral("fused axis %1 is the output axis: transposed").arg(axis) : QString();
        } else {
            rest = analysePair(sliced, target, convention, targetKey);
            if (rest.status == MatchStatus::Incompatible)
                continue;
            chain.insert(chain.end(), rest.transforms.begin(), rest.transforms.end());
        }
        PairAnalysis analysis{MatchStatus::Fixable, chain,
                              QStringLiteral("part %1 of %2 of a fused tensor (axis %3)").arg(part + 1).arg(parts).arg(axis)};
        if (!rest.reason.isEmpty() && rest.reason != QLatin1String("same shape and dtype"))
            analysis.reason += QStringLiteral("; ") + rest.reason;
        return analysis;
    }
    best.status = MatchStatus::Incompatible;
    return best;
}

// Sources of each layer (parts in order) -> one leaf. One layer: the parts concatenated on
// axis 0; several: stacked on a new axis 0 (parts of equal shape interleaved per layer).
PairAnalysis analyseGathered(const std::vector<std::vector<TensorSpec>> &layers, const TensorSpec &target, Convention convention,
                             const QString &targetKey, bool stackedTarget)
{
    PairAnalysis failed;
    failed.status = MatchStatus::Incompatible;
    const std::vector<TensorSpec> &first = layers.front();
    for (const std::vector<TensorSpec> &layer : layers) {
        if (layer.size() != first.size() || !std::equal(layer.begin(), layer.end(), first.begin())) {
            failed.reason = QStringLiteral("the layers' tensors differ in shape or dtype");
            return failed;
        }
    }
    TensorSpec combined = first.front();
    if (first.size() > 1) {
        for (size_t i = 1; i < first.size(); ++i) {
            const TensorSpec &part = first[i];
            if (part.dtype != combined.dtype || part.shape.size() != combined.shape.size() || part.shape.empty()
                || !std::equal(part.shape.begin() + 1, part.shape.end(), combined.shape.begin() + 1)) {
                failed.reason = QStringLiteral("the parts cannot be concatenated on axis 0");
                return failed;
            }
            combined.shape[0] += part.shape[0];
        }
    }
    TensorSpec perLayerTarget = target;
    const qint64 count = static_cast<qint64>(layers.size());
    if (stackedTarget) {
        if (target.shape.empty() || target.shape[0] != count) {
            failed.reason = QStringLiteral("%1 layers, the stacked leaf has %2").arg(count).arg(target.shape.empty() ? 0 : target.shape[0]);
            return failed;
        }
        perLayerTarget.shape.erase(perLayerTarget.shape.begin());
    }
    PairAnalysis inner = analysePair(combined, perLayerTarget, convention, targetKey);
    if (inner.status == MatchStatus::Incompatible)
        return inner;
    TransformChain chain;
    QStringList why;
    if (!stackedTarget) {
        if (first.size() > 1) {
            chain.push_back(Transform::concat(0));
            why << QStringLiteral("%1 parts concatenated on axis 0").arg(first.size());
        }
        chain.insert(chain.end(), inner.transforms.begin(), inner.transforms.end());
    } else {
        chain.push_back(Transform::stack(0));
        if (first.size() > 1) {
            for (const TensorSpec &part : first) {
                if (!(part == first.front())) {
                    failed.reason = QStringLiteral("parts of unequal shape cannot be stacked per layer");
                    return failed;
                }
            }
            Shape shape = combined.shape;
            shape.insert(shape.begin(), count);
            chain.push_back(Transform::reshape(shape));
            why << QStringLiteral("%1 layers of %2 parts each stacked").arg(count).arg(first.size());
        } else {
            why << QStringLiteral("%1 layers stacked on a new axis 0").arg(count);
        }
        for (const Transform &transform : inner.transforms)
            chain.push_back(liftedTransform(transform, count));
    }
    if (inner.status == MatchStatus::Fixable)
        why << inner.reason;
    PairAnalysis analysis;
    analysis.transforms = chain;
    analysis.status = chain.empty() ? MatchStatus::Exact : MatchStatus::Fixable;
    analysis.reason = why.isEmpty() ? inner.reason : why.join(QStringLiteral("; "));
    return analysis;
}

} // namespace graft
