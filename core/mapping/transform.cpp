#include "mapping/transform.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace graft {

Transform Transform::reshape(Shape shape)
{
    Transform t;
    t.op = TransformOp::Reshape;
    t.shape = std::move(shape);
    return t;
}

Transform Transform::transpose(std::vector<int> permutation)
{
    Transform t;
    t.op = TransformOp::Transpose;
    t.axes = std::move(permutation);
    return t;
}

Transform Transform::flip(std::vector<int> axes)
{
    Transform t;
    t.op = TransformOp::Flip;
    t.axes = std::move(axes);
    return t;
}

Transform Transform::cast(DType dtype)
{
    Transform t;
    t.op = TransformOp::Cast;
    t.dtype = dtype;
    return t;
}

Transform Transform::slice(int axis, qint64 start, qint64 stop)
{
    Transform t;
    t.op = TransformOp::Slice;
    t.axis = axis;
    t.start = start;
    t.stop = stop;
    return t;
}

Transform Transform::concat(int axis)
{
    Transform t;
    t.op = TransformOp::Concat;
    t.axis = axis;
    return t;
}

Transform Transform::stack(int axis)
{
    Transform t;
    t.op = TransformOp::Stack;
    t.axis = axis;
    return t;
}

Transform Transform::sum()
{
    Transform t;
    t.op = TransformOp::Sum;
    return t;
}

bool Transform::operator==(const Transform &other) const
{
    if (op != other.op)
        return false;
    switch (op) {
    case TransformOp::Reshape: return shape == other.shape;
    case TransformOp::Transpose:
    case TransformOp::Flip: return axes == other.axes;
    case TransformOp::Cast: return dtype == other.dtype;
    case TransformOp::Slice: return axis == other.axis && start == other.start && stop == other.stop;
    case TransformOp::Concat:
    case TransformOp::Stack: return axis == other.axis;
    case TransformOp::Sum: return true;
    }
    return false;
}

QString transformOpName(TransformOp op)
{
    switch (op) {
    case TransformOp::Reshape: return QStringLiteral("reshape");
    case TransformOp::Transpose: return QStringLiteral("transpose");
    case TransformOp::Flip: return QStringLiteral("flip");
    case TransformOp::Cast: return QStringLiteral("cast");
    case TransformOp::Slice: return QStringLiteral("slice");
    case TransformOp::Concat: return QStringLiteral("concat");
    case TransformOp::Stack: return QStringLiteral("stack");
    case TransformOp::Sum: return QStringLiteral("sum");
    }
    return QString();
}

namespace {

QString joinNumbers(const auto &numbers)
{
    QStringList parts;
    for (auto n : numbers)
        parts << QString::number(n);
    return parts.join(QStringLiteral(", "));
}

QString tupleText(const auto &numbers)
{
    return numbers.size() == 1 ? QStringLiteral("(%1,)").arg(numbers[0]) : QLatin1Char('(') + joinNumbers(numbers) + QLatin1Char(')');
}

Error chainError(const QString &what) { return Error{QString(), what}; }

qint64 numelOf(const Shape &shape)
{
    qint64 n = 1;
    for (qint64 d : shape)
        n *= d;
    return n;
}

int normaliseAxis(int axis, size_t rank) { return axis < 0 ? axis + static_cast<int>(rank) : axis; }

Result<TensorSpec> applyOne(TensorSpec spec, const Transform &t)
{
    const size_t rank = spec.shape.size();
    switch (t.op) {
    case TransformOp::Reshape: {
        if (checkedNumel(t.shape, std::numeric_limits<qint64>::max() / 16) != numelOf(spec.shape))
            return chainError(QStringLiteral("reshape to %1 needs %2 elements, the tensor has %3")
                                  .arg(shapeToString(t.shape)).arg(checkedNumel(t.shape, std::numeric_limits<qint64>::max() / 16))
                                  .arg(numelOf(spec.shape)));
        spec.shape = t.shape;
        return spec;
    }
    case TransformOp::Transpose: {
        if (t.axes.size() != rank)
            return chainError(QStringLiteral("transpose %1 needs %2 dimensions, the tensor has %3")
                                  .arg(tupleText(t.axes)).arg(t.axes.size()).arg(rank));
        std::vector<int> sorted = t.axes;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < sorted.size(); ++i) {
            if (sorted[i] != static_cast<int>(i))
                return chainError(QStringLiteral("transpose %1 is not a permutation").arg(tupleText(t.axes)));
        }
        Shape shape(rank);
        for (size_t i = 0; i < rank; ++i)
            shape[i] = spec.shape[static_cast<size_t>(t.axes[i])];
        spec.shape = shape;
        return spec;
    }
    case TransformOp::Flip: {
        std::vector<bool> seen(rank, false);
        for (int axis : t.axes) {
            const int a = normaliseAxis(axis, rank);
            if (a < 0 || a >= static_cast<int>(rank))
                return chainError(QStringLiteral("flip axis %1 is out of range for %2 dimensions").arg(axis).arg(rank));
            // numpy and torch both refuse a repeated axis: refuse it here, not at conversion time.
            if (seen[static_cast<size_t>(a)])
                return chainError(QStringLiteral("flip %1 names axis %2 twice").arg(tupleText(t.axes)).arg(a));
            seen[static_cast<size_t>(a)] = true;
        }
        return spec;
    }
    case TransformOp::Cast:
        spec.dtype = t.dtype;
        return spec;
    case TransformOp::Slice: {
        const int axis = normaliseAxis(t.axis, rank);
        if (axis < 0 || axis >= static_cast<int>(rank))
            return chainError(QStringLiteral("slice axis %1 is out of range for %2 dimensions").arg(t.axis).arg(rank));
        if (t.start < 0 || t.stop < t.start || t.stop > spec.shape[static_cast<size_t>(axis)])
            return chainError(QStringLiteral("slice %1:%2 is out of range for axis %3 of size %4")
                                  .arg(t.start).arg(t.stop).arg(axis).arg(spec.shape[static_cast<size_t>(axis)]));
        spec.shape[static_cast<size_t>(axis)] = t.stop - t.start;
        return spec;
    }
    case TransformOp::Concat:
    case TransformOp::Stack:
    case TransformOp::Sum:
        break;
    }
    return chainError(QStringLiteral("%1 must come first in a chain").arg(transformOpName(t.op)));
}

Result<TensorSpec> combine(const std::vector<TensorSpec> &inputs, const Transform &t)
{
    const TensorSpec &first = inputs.front();
    for (const TensorSpec &input : inputs) {
        if (input.dtype != first.dtype)
            return chainError(QStringLiteral("%1 needs sources of one dtype (%2 and %3)")
                                  .arg(transformOpName(t.op), dtypeName(first.dtype), dtypeName(input.dtype)));
    }
    const size_t rank = first.shape.size();
    TensorSpec out = first;
    if (t.op == TransformOp::Sum || t.op == TransformOp::Stack) {
        for (const TensorSpec &input : inputs) {
            if (input.shape != first.shape)
                return chainError(QStringLiteral("%1 needs sources of one shape (%2 and %3)")
                                      .arg(transformOpName(t.op), shapeToString(first.shape), shapeToString(input.shape)));
        }
        if (t.op == TransformOp::Stack) {
            const int axis = normaliseAxis(t.axis, rank + 1);
            if (axis < 0 || axis > static_cast<int>(rank))
                return chainError(QStringLiteral("stack axis %1 is out of range").arg(t.axis));
            out.shape.insert(out.shape.begin() + axis, static_cast<qint64>(inputs.size()));
        }
        return out;
    }
    const int axis = normaliseAxis(t.axis, rank);
    if (axis < 0 || axis >= static_cast<int>(rank))
        return chainError(QStringLiteral("concat axis %1 is out of range for %2 dimensions").arg(t.axis).arg(rank));
    qint64 total = 0;
    for (const TensorSpec &input : inputs) {
        if (input.shape.size() != rank)
            return chainError(QStringLiteral("concat needs sources of one rank"));
        for (size_t d = 0; d < rank; ++d) {
            if (static_cast<int>(d) != axis && input.shape[d] != first.shape[d])
                return chainError(QStringLiteral("concat on axis %1: shapes %2 and %3 differ elsewhere")
                                      .arg(axis).arg(shapeToString(first.shape), shapeToString(input.shape)));
        }
        total += input.shape[static_cast<size_t>(axis)];
    }
    out.shape[static_cast<size_t>(axis)] = total;
    return out;
}

QString numpyDtype(DType dtype)
{
    if (dtype == DType::BFloat16)
        return QStringLiteral("jnp.bfloat16");
    if (dtype == DType::Bool)
        return QStringLiteral("np.bool_");
    return QStringLiteral("np.") + dtypeName(dtype);
}

// Index expression selecting start:stop on `axis`: "w[:, 0:768]"; a negative axis counts
// from the end: "w[..., 0:768]".
QString sliceText(const Transform &t)
{
    QStringList parts;
    if (t.axis < 0)
        parts << QStringLiteral("...");
    for (int i = 0; i < t.axis; ++i)
        parts << QStringLiteral(":");
    parts << QStringLiteral("%1:%2").arg(t.start).arg(t.stop);
    for (int i = t.axis + 1; i < 0; ++i)
        parts << QStringLiteral(":");
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

} // namespace

Result<TensorSpec> inferTransforms(const std::vector<TensorSpec> &inputs, const TransformChain &chain)
{
    if (inputs.empty())
        return chainError(QStringLiteral("no source tensor"));
    size_t next = 0;
    TensorSpec spec = inputs.front();
    if (!chain.empty() && chain.front().combinesSources()) {
        Result<TensorSpec> combined = combine(inputs, chain.front());
        if (!combined)
            return combined;
        spec = *combined;
        next = 1;
    } else if (inputs.size() > 1) {
        return chainError(QStringLiteral("%1 sources need concat, stack or sum first").arg(inputs.size()));
    }
    for (; next < chain.size(); ++next) {
        Result<TensorSpec> applied = applyOne(spec, chain[next]);
        if (!applied)
            return applied;
        spec = *applied;
    }
    return spec;
}

QString transformExpression(const TransformChain &chain, const QStringList &names)
{
    QString expr = names.value(0, QStringLiteral("w"));
    size_t next = 0;
    if (!chain.empty() && chain.front().combinesSources()) {
        const Transform &t = chain.front();
        if (t.op == TransformOp::Sum)
            expr = names.join(QStringLiteral(" + "));
        else
            expr = QStringLiteral("np.%1([%2], axis=%3)")
                       .arg(t.op == TransformOp::Concat ? QStringLiteral("concatenate") : QStringLiteral("stack"),
                            names.join(QStringLiteral(", ")))
                       .arg(t.axis);
        next = 1;
        if (chain.size() > 1 && t.op == TransformOp::Sum)
            expr = QLatin1Char('(') + expr + QLatin1Char(')');
    }
    for (; next < chain.size(); ++next) {
        const Transform &t = chain[next];
        switch (t.op) {
        case TransformOp::Reshape: {
            // [C] -> [C, 1, 1] is the Equinox conv bias: show the idiom users write.
            const bool onlyTrailingOnes = !t.shape.empty() && std::all_of(t.shape.begin() + 1, t.shape.end(), [](qint64 d) { return d == 1; });
            if (onlyTrailingOnes && t.shape.size() > 1) {
                QStringList parts{QStringLiteral(":")};
                for (size_t i = 1; i < t.shape.size(); ++i)
                    parts << QStringLiteral("None");
                expr += QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
            } else {
                expr += QStringLiteral(".reshape(%1)").arg(joinNumbers(t.shape));
            }
            break;
        }
        case TransformOp::Transpose:
            if (t.axes == std::vector<int>{1, 0})
                expr += QStringLiteral(".T");
            else
                expr += QStringLiteral(".transpose(%1)").arg(joinNumbers(t.axes));
            break;
        case TransformOp::Flip:
            expr = QStringLiteral("np.flip(%1, axis=%2)").arg(expr, tupleText(t.axes));
            break;
        case TransformOp::Cast:
            expr += QStringLiteral(".astype(%1)").arg(numpyDtype(t.dtype));
            break;
        case TransformOp::Slice:
            expr += sliceText(t);
            break;
        case TransformOp::Concat:
        case TransformOp::Stack:
        case TransformOp::Sum:
            expr += QStringLiteral(" <%1 misplaced>").arg(transformOpName(t.op));
            break;
        }
    }
    return expr;
}

bool preservesBytes(const TransformChain &chain)
{
    return std::all_of(chain.begin(), chain.end(), [](const Transform &t) { return t.op == TransformOp::Reshape; });
}

QJsonObject transformToJson(const Transform &t)
{
    QJsonObject json{{QStringLiteral("op"), transformOpName(t.op)}};
    auto toArray = [](const auto &numbers) {
        QJsonArray array;
        for (auto n : numbers)
            array.append(static_cast<qint64>(n));
        return array;
    };
    switch (t.op) {
    case TransformOp::Reshape: json.insert(QStringLiteral("shape"), toArray(t.shape)); break;
    case TransformOp::Transpose: json.insert(QStringLiteral("perm"), toArray(t.axes)); break;
    case TransformOp::Flip: json.insert(QStringLiteral("axes"), toArray(t.axes)); break;
    case TransformOp::Cast: json.insert(QStringLiteral("dtype"), dtypeName(t.dtype)); break;
    case TransformOp::Slice:
        json.insert(QStringLiteral("axis"), t.axis);
        json.insert(QStringLiteral("start"), t.start);
        json.insert(QStringLiteral("stop"), t.stop);
        break;
    case TransformOp::Concat:
    case TransformOp::Stack: json.insert(QStringLiteral("axis"), t.axis); break;
    case TransformOp::Sum: break;
    }
    return json;
}

Result<Transform> transformFromJson(const QJsonObject &json)
{
    const QString op = json.value(QStringLiteral("op")).toString();
    auto integers = [&json](const char *key, bool &ok) {
        std::vector<qint64> numbers;
        const QJsonValue value = json.value(QLatin1String(key));
        ok = value.isArray() && value.toArray().size() <= 64;
        for (const QJsonValue &n : value.toArray()) {
            if (!n.isDouble() || n.toDouble() != std::floor(n.toDouble()) || std::abs(n.toDouble()) > 9.0e15)
                ok = false;
            numbers.push_back(n.toInteger());
        }
        return numbers;
    };
    auto integer = [&json](const char *key, bool &ok) {
        const QJsonValue value = json.value(QLatin1String(key));
        if (!value.isDouble() || value.toDouble() != std::floor(value.toDouble()) || std::abs(value.toDouble()) > 9.0e15)
            ok = false;
        return value.toInteger();
    };
    auto bad = [&op](const QString &what) { return Error{QString(), QStringLiteral("transform '%1': %2").arg(op, what)}; };
    bool ok = true;
    if (op == QLatin1String("reshape")) {
        Shape shape = integers("shape", ok);
        if (!ok)
            return bad(QStringLiteral("\"shape\" must be a list of integers"));
        return Transform::reshape(shape);
    }
    if (op == QLatin1String("transpose") || op == QLatin1String("flip")) {
        const std::vector<qint64> numbers = integers(op == QLatin1String("transpose") ? "perm" : "axes", ok);
        if (!ok)
            return bad(QStringLiteral("needs a list of integer axes"));
        // Checked as 64-bit numbers before narrowing: 4294967297 must not become axis 1.
        for (const qint64 axis : numbers) {
            if (axis < -64 || axis > 64)
                return bad(QStringLiteral("axis %1 is out of range (tensors have at most 64 dimensions)").arg(axis));
        }
        std::vector<int> axes(numbers.begin(), numbers.end());
        return op == QLatin1String("transpose") ? Transform::transpose(axes) : Transform::flip(axes);
    }
    if (op == QLatin1String("cast")) {
        const std::optional<DType> dtype = dtypeFromName(json.value(QStringLiteral("dtype")).toString());
        if (!dtype)
            return bad(QStringLiteral("unknown dtype '%1'").arg(json.value(QStringLiteral("dtype")).toString()));
        return Transform::cast(*dtype);
    }
    if (op == QLatin1String("slice")) {
        const qint64 axis = integer("axis", ok);
        const qint64 start = integer("start", ok);
        const qint64 stop = integer("stop", ok);
        if (!ok || axis < -64 || axis > 64)
            return bad(QStringLiteral("needs integer \"axis\", \"start\" and \"stop\""));
        return Transform::slice(static_cast<int>(axis), start, stop);
    }
    if (op == QLatin1String("concat") || op == QLatin1String("stack")) {
        const qint64 axis = integer("axis", ok);
        if (!ok || axis < -64 || axis > 64)
            return bad(QStringLiteral("needs an integer \"axis\""));
        return op == QLatin1String("concat") ? Transform::concat(static_cast<int>(axis)) : Transform::stack(static_cast<int>(axis));
    }
    if (op == QLatin1String("sum"))
        return Transform::sum();
    return Error{QString(), QStringLiteral("unknown transform op '%1'").arg(op)};
}

} // namespace graft
