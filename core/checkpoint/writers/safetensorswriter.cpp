// safetensors output (huggingface/safetensors):
//
//   u64 little-endian N | N bytes of JSON, padded with spaces to a multiple of 8 | data
//   {"__metadata__": {"k": "v", ...},
//    "<key>": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}, ...}
//
// Offsets are relative to the data start, contiguous from 0 in leaf order, each span
// numel × itemsize. They are all known from the specs, so the header is written first and
// the data streams after it, one leaf at a time. The JSON is compact, entries in leaf order.

#include "checkpoint/writers/formatwriters.h"

namespace graft::writers {
namespace {

// safetensors readers refuse larger headers.
constexpr qint64 kMaxHeaderSize = 100'000'000;

std::optional<QByteArray> safetensorsDtype(DType dtype)
{
    switch (dtype) {
    case DType::Bool: return QByteArrayLiteral("BOOL");
    case DType::UInt8: return QByteArrayLiteral("U8");
    case DType::Int8: return QByteArrayLiteral("I8");
    case DType::Int16: return QByteArrayLiteral("I16");
    case DType::UInt16: return QByteArrayLiteral("U16");
    case DType::Int32: return QByteArrayLiteral("I32");
    case DType::UInt32: return QByteArrayLiteral("U32");
    case DType::Int64: return QByteArrayLiteral("I64");
    case DType::UInt64: return QByteArrayLiteral("U64");
    case DType::Float16: return QByteArrayLiteral("F16");
    case DType::BFloat16: return QByteArrayLiteral("BF16");
    case DType::Float32: return QByteArrayLiteral("F32");
    case DType::Float64: return QByteArrayLiteral("F64");
    case DType::Complex64: return QByteArrayLiteral("C64");
    case DType::Float8E4M3: return QByteArrayLiteral("F8_E4M3");
    case DType::Float8E5M2: return QByteArrayLiteral("F8_E5M2");
    case DType::Complex128: break;
    }
    return std::nullopt;
}

// A JSON string literal as serde_json writes it: UTF-8 as is, quotes, backslashes and control
// characters escaped.
QByteArray jsonString(const QString &text)
{
    static const char hex[] = "0123456789abcdef";
    QByteArray out = "\"";
    for (const char c : text.toUtf8()) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<uchar>(c) < 0x20) {
                out += "\\u00";
                out += hex[(c >> 4) & 0xf];
                out += hex[c & 0xf];
            } else {
                out += c;
            }
        }
    }
    return out + '"';
}

} // namespace

Result<QByteArray> safetensorsHeader(const QString &path, const std::vector<OutputLeaf> &leaves,
                                     const std::vector<std::pair<QString, QString>> &metadata)
{
    QByteArray json = "{\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i)
        json += (i ? "," : "") + jsonString(metadata[i].first) + ':' + jsonString(metadata[i].second);
    json += '}';

    qint64 offset = 0;
    for (const OutputLeaf &leaf : leaves) {
        if (leaf.key == QLatin1String("__metadata__"))
            return Error{path, QStringLiteral("a leaf may not be named '__metadata__' in safetensors (the name is reserved)")};
        const std::optional<QByteArray> dtype = safetensorsDtype(leaf.spec.dtype);
        if (!dtype)
            return Error{path, QStringLiteral("leaf '%1' is %2, which safetensors cannot store (its complex dtype is "
                                              "C64 only); cast it to complex64 or choose another format")
                                   .arg(leaf.key, dtypeName(leaf.spec.dtype))};
        QByteArray shape;
        for (qint64 dim : leaf.spec.shape)
            shape += (shape.isEmpty() ? "" : ",") + QByteArray::number(dim);
        const qint64 end = offset + leafBytes(leaf);
        if (end < offset)
            return Error{path, QStringLiteral("the leaves add up to more bytes than a file can hold")};
        json += ',' + jsonString(leaf.key) + ":{\"dtype\":\"" + *dtype + "\",\"shape\":[" + shape
                + "],\"data_offsets\":[" + QByteArray::number(offset) + ',' + QByteArray::number(end) + "]}";
        offset = end;
        if (json.size() > kMaxHeaderSize)
            break;
    }
    json += '}';
    json += QByteArray((8 - json.size() % 8) % 8, ' ');
    if (json.size() > kMaxHeaderSize)
        return Error{path, QStringLiteral("the safetensors header would exceed %1 bytes (readers refuse more); "
                                          "split the output into shards").arg(kMaxHeaderSize)};

    QByteArray out(8, '\0');
    quint64 length = static_cast<quint64>(json.size());
    for (int i = 0; i < 8; ++i, length >>= 8)
        out[i] = static_cast<char>(length & 0xff);
    return out + json;
}

Status writeSafetensors(OutputSink &sink, const LeafStream &stream, const QByteArray &header)
{
    if (Status status = sink.write(header, QStringLiteral("the header")); !status)
        return status;
    return stream.writeEach([&sink](size_t, const OutputLeaf &, const TensorBytes &bytes, const WriteSubject &what) {
        return sink.write(bytes, what);
    });
}

} // namespace graft::writers
