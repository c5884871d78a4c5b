#pragma once
// The transform algebra that turns source tensors into a target leaf: plain, serialisable
// data. Each op has shape inference (no data needed) here, application to data in the tensor
// engine (LibTorch module), and a display in numpy syntax.
//
// A chain applies left to right. Ops that combine several sources (concat, stack, sum) may
// only come first; every other op works on one tensor.

#include "checkpoint/checkpoint.h"
#include "base/dtype.h"
#include "base/result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace graft {

enum class TransformOp { Reshape, Transpose, Flip, Cast, Slice, Concat, Stack, Sum };

struct Transform {
    TransformOp op = TransformOp::Reshape;
    Shape shape;                 ///< reshape: the new shape
    std::vector<int> axes;       ///< transpose: the permutation; flip: the axes
    DType dtype = DType::Float32;///< cast
    int axis = 0;                ///< slice, concat, stack
    qint64 start = 0;            ///< slice
    qint64 stop = 0;             ///< slice (exclusive)

    static Transform reshape(Shape shape);
    static Transform transpose(std::vector<int> permutation);
    static Transform flip(std::vector<int> axes);
    static Transform cast(DType dtype);
    static Transform slice(int axis, qint64 start, qint64 stop);
    static Transform concat(int axis);
    static Transform stack(int axis);
    static Transform sum();

    bool combinesSources() const { return op == TransformOp::Concat || op == TransformOp::Stack || op == TransformOp::Sum; }
    bool operator==(const Transform &other) const;
};

using TransformChain = std::vector<Transform>;

/// The dtype and shape `chain` produces from `inputs`, or why it can't apply
/// (e.g. "transpose (1, 0) needs 2 dimensions, the tensor has 4").
Result<TensorSpec> inferTransforms(const std::vector<TensorSpec> &inputs, const TransformChain &chain);

/// The chain in numpy syntax, applied to `names` (e.g. {"b"} -> "b[:, None, None]").
QString transformExpression(const TransformChain &chain, const QStringList &names);

/// True when the chain leaves the bytes as they are (only reshapes): such a mapping is a
/// byte copy that needs no tensor library.
bool preservesBytes(const TransformChain &chain);

/// JSON form of one transform: {"op": "transpose", "perm": [2, 3, 1, 0]} etc. (the CLI and
/// profile contract), and its inverse.
QJsonObject transformToJson(const Transform &transform);
Result<Transform> transformFromJson(const QJsonObject &json);
/// "reshape", "transpose", ...
QString transformOpName(TransformOp op);

} // namespace graft
