#include "checkpoint/formats/picklerender.h"

#include <QStringList>

#include <cmath>
#include <cstring>
#include <optional>

namespace graft {
namespace {

// A summary shows at most this much of a string: a pickled string can be as long as the file.
constexpr qsizetype kMaxSummaryText = 256;
QString quoted(const QString &text)
{
    if (text.size() > kMaxSummaryText)
        return QLatin1Char('\'') + text.left(kMaxSummaryText) + QStringLiteral("…'");
    return QLatin1Char('\'') + text + QLatin1Char('\'');
}

QString formatFloat(double value)
{
    if (std::isnan(value))
        return QStringLiteral("nan");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    QString text = QString::number(value, 'g', 17);
    // Shortest form that round-trips, like Python's repr.
    for (int precision = 1; precision <= 17; ++precision) {
        const QString candidate = QString::number(value, 'g', precision);
        if (candidate.toDouble() == value) {
            text = candidate;
            break;
        }
    }
    if (!text.contains(QLatin1Char('.')) && !text.contains(QLatin1Char('e')))
        text += QStringLiteral(".0");
    return text;
}

// A numpy scalar: numpy.core.multiarray.scalar(numpy.dtype('f8', ...), raw bytes).
std::optional<QString> numpyScalarValue(const PickleValue *object, QString *typeName)
{
    if (qualifiedName(object) != QLatin1String("numpy.core.multiarray.scalar") || object->args() == nullptr
        || object->args()->items().size() < 2)
        return std::nullopt;
    const PickleValue *dtype = object->args()->items()[0];
    const PickleValue *data = object->args()->items()[1];
    if (dtype->kind != PickleKind::Object || dtype->args() == nullptr || dtype->args()->items().empty()
        || dtype->args()->items()[0]->kind != PickleKind::String || data->kind != PickleKind::Bytes)
        return std::nullopt;
    const QString code = dtype->args()->items()[0]->text();
    const QByteArray &bytes = data->bytes();
    auto load = [&bytes](auto sample) {
        decltype(sample) value{};
        std::memcpy(&value, bytes.constData(), sizeof value);
        return value;
    };
    static const std::pair<const char *, const char *> kNames[] = {
        {"f8", "float64"}, {"f4", "float32"}, {"i8", "int64"}, {"i4", "int32"}, {"i2", "int16"},
        {"i1", "int8"}, {"u8", "uint64"}, {"u4", "uint32"}, {"u2", "uint16"}, {"u1", "uint8"}, {"b1", "bool"},
        {"f2", "float16"}};
    for (const auto &[short_, long_] : kNames) {
        if (code == QLatin1String(short_))
            *typeName = QStringLiteral("numpy.") + QLatin1String(long_);
    }
    if (typeName->isEmpty())
        *typeName = QStringLiteral("numpy.") + code;
    if (code == QLatin1String("f8") && bytes.size() == 8)
        return formatFloat(load(double()));
    if (code == QLatin1String("f4") && bytes.size() == 4)
        return formatFloat(load(float()));
    if (code == QLatin1String("i8") && bytes.size() == 8)
        return QString::number(load(qint64()));
    if (code == QLatin1String("i4") && bytes.size() == 4)
        return QString::number(load(qint32()));
    if (code == QLatin1String("b1") && bytes.size() == 1)
        return bytes[0] ? QStringLiteral("True") : QStringLiteral("False");
    return QStringLiteral("%1 bytes").arg(bytes.size());
}

// Renders at most 4 levels, 8 items per container and `budget` values in all: shared values
// (the memo) would otherwise make a small pickle's summary exponential.
QString summarise(const PickleValue *value, int depth, int &budget)
{
    if (depth > 3 || --budget < 0)
        return QStringLiteral("…");
    switch (value->kind) {
    case PickleKind::None: return QStringLiteral("None");
    case PickleKind::Bool: return value->boolean ? QStringLiteral("True") : QStringLiteral("False");
    case PickleKind::Int: return value->integerOverflow ? value->text() : QString::number(value->integer);
    case PickleKind::Float: return formatFloat(value->number);
    case PickleKind::String: return quoted(value->text());
    case PickleKind::Bytes: return QStringLiteral("<%1 bytes>").arg(value->bytes().size());
    case PickleKind::Global: return value->text().left(kMaxSummaryText);
    case PickleKind::Tensor: // its shape moved into the index when the walk made an entry of it
        return value->tensor()->emittedAs >= 0 ? QStringLiteral("tensor") : QStringLiteral("tensor%1").arg(shapeToString(value->tensor()->shape));
    case PickleKind::PersistentId: return QStringLiteral("<persistent id>");
    case PickleKind::Mark: return QString();
    case PickleKind::List:
    case PickleKind::Tuple:
    case PickleKind::Set: {
        QStringList parts;
        for (const PickleValue *item : value->items()) {
            if (parts.size() == 8) {
                parts << QStringLiteral("…");
                break;
            }
            parts << summarise(item, depth + 1, budget);
        }
        const QString body = parts.join(QStringLiteral(", "));
        if (value->kind == PickleKind::List)
            return QLatin1Char('[') + body + QLatin1Char(']');
        if (value->kind == PickleKind::Set)
            return QLatin1Char('{') + body + QLatin1Char('}');
        return QLatin1Char('(') + body + (value->items().size() == 1 ? QStringLiteral(",)") : QStringLiteral(")"));
    }
    case PickleKind::Dict: {
        QStringList parts;
        for (const auto &[k, v] : value->entries()) {
            if (parts.size() == 8) {
                parts << QStringLiteral("…");
                break;
            }
            parts << summarise(k, depth + 1, budget) + QStringLiteral(": ") + summarise(v, depth + 1, budget);
        }
        return QLatin1Char('{') + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
    }
    case PickleKind::Object: {
        QString numpyType;
        if (std::optional<QString> scalar = numpyScalarValue(value, &numpyType))
            return *scalar;
        const QString name = qualifiedName(value);
        const QString shortName = name.section(QLatin1Char('.'), -1).left(kMaxSummaryText);
        QStringList parts;
        const size_t argCount = value->args() != nullptr ? value->args()->items().size() : 0;
        for (size_t i = 0; i < argCount && parts.size() < 8; ++i)
            parts << summarise(value->args()->items()[i], depth + 1, budget);
        // Attribute state (argparse.Namespace and most objects): name=value pairs.
        const bool hasState = value->state() != nullptr && value->state()->kind == PickleKind::Dict;
        const size_t stateCount = hasState ? value->state()->entries().size() : 0;
        for (size_t i = 0; i < stateCount && parts.size() < 8; ++i) {
            const auto &[k, v] = value->state()->entries()[i];
            const QString key = k->kind == PickleKind::String ? k->text().left(kMaxSummaryText) : summarise(k, depth + 1, budget);
            parts << key + QLatin1Char('=') + summarise(v, depth + 1, budget);
        }
        if (static_cast<size_t>(parts.size()) < argCount + stateCount)
            parts << QStringLiteral("…");
        return shortName + QLatin1Char('(') + parts.join(QStringLiteral(", ")) + QLatin1Char(')');
    }
    }
    return QString();
}

} // namespace

QString pickleSummary(const PickleValue *value, int maxLength)
{
    int budget = 64;
    QString text = summarise(value, 0, budget);
    if (text.size() > maxLength)
        text = text.left(maxLength - 1) + QStringLiteral("…");
    return text;
}

QString pickleTypeName(const PickleValue *value)
{
    switch (value->kind) {
    case PickleKind::None: return QStringLiteral("NoneType");
    case PickleKind::Bool: return QStringLiteral("bool");
    case PickleKind::Int: return QStringLiteral("int");
    case PickleKind::Float: return QStringLiteral("float");
    case PickleKind::String: return QStringLiteral("str");
    case PickleKind::Bytes: return QStringLiteral("bytes");
    case PickleKind::List: return QStringLiteral("list");
    case PickleKind::Tuple: return QStringLiteral("tuple");
    case PickleKind::Dict: return QStringLiteral("dict");
    case PickleKind::Set: return QStringLiteral("set");
    case PickleKind::Global: return QStringLiteral("type");
    case PickleKind::Tensor: return QStringLiteral("torch.Tensor");
    case PickleKind::PersistentId: return QStringLiteral("storage");
    case PickleKind::Mark: return QString();
    case PickleKind::Object: {
        QString numpyType;
        if (numpyScalarValue(value, &numpyType))
            return numpyType;
        return qualifiedName(value);
    }
    }
    return QString();
}

} // namespace graft
