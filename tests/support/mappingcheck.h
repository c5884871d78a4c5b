#pragma once
// Helpers shared by the mapping-engine tests: compact tensor specs ("float32[8,1,1]"),
// transform chains from their JSON contract form, and applying a mapping's chain to the real
// source bytes through the tensor engine. Header-only test support.

#include "mapping/automatcher.h"
#include "checkpoint/checkpointopener.h"
#include "hostileinput.h"
#include "manifestcheck.h"
#include "tensor/tensorengine.h"
#include "mapping/transform.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

#include <cstring>

namespace graft::test {

inline QString mappingFixture(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/mapping/") + name; }

/// "float32[8,1,1]", "bfloat16[]" -> TensorSpec. Aborts the test on a typo.
inline TensorSpec spec(const QString &text)
{
    static const QRegularExpression form(QStringLiteral("^(\\w+)\\[([0-9, ]*)\\]$"));
    const QRegularExpressionMatch match = form.match(text);
    const std::optional<DType> dtype = match.hasMatch() ? dtypeFromName(match.captured(1)) : std::nullopt;
    if (!dtype)
        qFatal("bad spec in test table: %s", qPrintable(text));
    TensorSpec result{*dtype, {}};
    for (const QString &dim : match.captured(2).split(QLatin1Char(','), Qt::SkipEmptyParts))
        result.shape.push_back(dim.trimmed().toLongLong());
    return result;
}

inline std::vector<TensorSpec> specs(const QStringList &texts)
{
    std::vector<TensorSpec> result;
    for (const QString &text : texts)
        result.push_back(spec(text));
    return result;
}

inline QString specText(const TensorSpec &s)
{
    QStringList dims;
    for (qint64 d : s.shape)
        dims << QString::number(d);
    return dtypeName(s.dtype) + QLatin1Char('[') + dims.join(QLatin1Char(',')) + QLatin1Char(']');
}

/// A chain from its JSON contract form: `[{"op": "reshape", "shape": [8, 1, 1]}]`.
inline TransformChain chain(const QString &json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !document.isArray())
        qFatal("bad chain in test table: %s", qPrintable(json));
    TransformChain result;
    for (const QJsonValue &value : document.array()) {
        Result<Transform> transform = transformFromJson(value.toObject());
        if (!transform)
            qFatal("bad transform in test table: %s", qPrintable(transform.error().message));
        result.push_back(*transform);
    }
    return result;
}

/// The chain as compact JSON text (for QCOMPARE with readable failures).
inline QString chainText(const TransformChain &transforms)
{
    QJsonArray array;
    for (const Transform &t : transforms)
        array.append(transformToJson(t));
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

inline Checkpoint openOrFail(const QString &path)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!checkpoint)
        qFatal("cannot open fixture: %s", qPrintable(checkpoint.error().toString()));
    return *checkpoint;
}

/// Applies `mapping` (exact or fixable) to the source's real bytes through the tensor engine.
/// Returns an error message, or an empty string and fills `output`.
inline QString applyMapping(const Checkpoint &source, const Mapping &mapping, TensorOutput &output)
{
    Result<TensorEngine *> engine = tensorEngine();
    if (!engine)
        return engine.error().toString();
    std::vector<TensorBytes> keepAlive;
    std::vector<TensorInput> inputs;
    for (const QString &key : mapping.sources) {
        const int index = source.indexOf(key);
        if (index < 0)
            return QStringLiteral("source '%1' not in %2").arg(key, source.path());
        Result<TensorBytes> bytes = source.read(index);
        if (!bytes)
            return bytes.error().toString();
        keepAlive.push_back(*bytes);
        const TensorEntry &entry = source.tensors()[static_cast<size_t>(index)];
        inputs.push_back({keepAlive.back().data(), {entry.dtype, entry.shape}});
    }
    Result<TensorOutput> applied = (*engine)->apply(inputs, mapping.transforms);
    if (!applied)
        return applied.error().toString();
    output = std::move(applied).value();
    return QString();
}

/// The target entry's values as bytes.
inline QByteArray tensorBytes(const Checkpoint &checkpoint, const QString &key)
{
    const int index = checkpoint.indexOf(key);
    if (index < 0)
        return QByteArray();
    Result<TensorBytes> bytes = checkpoint.read(index);
    if (!bytes)
        return QByteArray();
    return QByteArray(reinterpret_cast<const char *>(bytes->data()), static_cast<qsizetype>(bytes->size()));
}

inline QByteArray outputBytes(const TensorOutput &output)
{
    return QByteArray(reinterpret_cast<const char *>(output.bytes.data()), static_cast<qsizetype>(output.bytes.size()));
}

/// A key list entry for autoMatch: `keySpec("a.weight", "float32[4,4]")`.
inline KeySpec keySpec(const QString &name, const QString &tensorSpec, LeafKind kind = LeafKind::Array)
{
    return {name, spec(tensorSpec), kind};
}

/// The mapping for `target`; the test stops when there is none.
inline const Mapping &mappingFor(const MappingResult &result, const QString &target)
{
    const int index = result.indexOfTarget(target);
    if (index < 0)
        qFatal("no mapping for target %s", qPrintable(target));
    return result.mappings[static_cast<size_t>(index)];
}

/// "target <- sources: status chain (reason)", for failure messages.
inline QString describe(const Mapping &m)
{
    return QStringLiteral("%1 <- %2: %3 %4 (%5)")
        .arg(m.target, m.sources.join(QStringLiteral(", ")), matchStatusName(m.status), chainText(m.transforms), m.reason);
}

} // namespace graft::test
