#include "checkpoint/formats/npyheader.h"

#include "checkpoint/formats/bytereader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

namespace graft {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr qint64 kMagicLength = 6;
constexpr int kMaxRank = 64;
constexpr qint64 kArrayAlign = 64;
// numpy pads the header so the first axis can grow to this many digits in place.
constexpr int kGrowthAxisMaxDigits = 21;

struct DescrInfo {
    char kind;
    int size;
    DType dtype;
};

constexpr std::array<DescrInfo, 14> kDescrs{{
    {'b', 1, DType::Bool},
    {'i', 1, DType::Int8},
    {'i', 2, DType::Int16},
    {'i', 4, DType::Int32},
    {'i', 8, DType::Int64},
    {'u', 1, DType::UInt8},
    {'u', 2, DType::UInt16},
    {'u', 4, DType::UInt32},
    {'u', 8, DType::UInt64},
    {'f', 2, DType::Float16},
    {'f', 4, DType::Float32},
    {'f', 8, DType::Float64},
    {'c', 8, DType::Complex64},
    {'c', 16, DType::Complex128},
}};

// A value of the header dict: the three kinds numpy writes.
struct DictValue {
    enum class Kind { String, Boolean, Tuple } kind = Kind::String;
    QByteArray text;
    bool boolean = false;
    Shape tuple;
};

// Strict parser for `{'key': value, ...}` where value is a quoted string, True/False or a
// tuple of non-negative integers. Anything else (escapes, lists, expressions) is refused.
class DictParser {
public:
    DictParser(const char *data, qint64 size) : m_data(data), m_size(size) {}

    Result<std::vector<std::pair<QByteArray, DictValue>>> parse()
    {
        std::vector<std::pair<QByteArray, DictValue>> entries;
        skipSpace();
        if (!consume('{'))
            return failure(QStringLiteral("expected '{'"));
        skipSpace();
        while (!consume('}')) {
            QByteArray key;
            if (!readString(key))
                return failure(QStringLiteral("expected a quoted key"));
            skipSpace();
            if (!consume(':'))
                return failure(QStringLiteral("expected ':'"));
            skipSpace();
            DictValue value;
            if (Status status = readValue(value); !status)
                return status.error();
            entries.emplace_back(std::move(key), std::move(value));
            skipSpace();
            if (consume(','))
                skipSpace();
            else if (peek() != '}')
                return failure(QStringLiteral("expected ',' or '}'"));
        }
        skipSpace();
        if (m_position != m_size)
            return failure(QStringLiteral("unexpected text after the dict"));
        return entries;
    }

private:
    Error failure(const QString &what) const
    {
        return Error{QString(), QStringLiteral("header is not a valid dict literal: %1 at header byte %2")
                                    .arg(what).arg(m_position)};
    }
    char peek() const { return m_position < m_size ? m_data[m_position] : '\0'; }
    bool consume(char expected)
    {
        if (m_position >= m_size || m_data[m_position] != expected)
            return false;
        ++m_position;
        return true;
    }
    void skipSpace()
    {
        while (m_position < m_size && m_data[m_position] != '\0'
               && std::strchr(" \t\r\n\f", m_data[m_position]) != nullptr)
            ++m_position;
    }

    bool readString(QByteArray &out)
    {
        const char quote = peek();
        if (quote != '\'' && quote != '"')
            return false;
        const qint64 start = ++m_position;
        while (m_position < m_size && m_data[m_position] != quote) {
            // numpy never writes escapes or line breaks inside its strings.
            if (m_data[m_position] == '\\' || m_data[m_position] == '\n')
                return false;
            ++m_position;
        }
        if (m_position >= m_size)
            return false;
        out = QByteArray(m_data + start, m_position - start);
        ++m_position;
        return true;
    }

    bool readWord(const char *word)
    {
        const qint64 length = static_cast<qint64>(std::strlen(word));
        if (m_size - m_position < length || std::memcmp(m_data + m_position, word, length) != 0)
            return false;
        m_position += length;
        return true;
    }

    Status readValue(DictValue &value)
    {
        const char first = peek();
        if (first == '\'' || first == '"') {
            value.kind = DictValue::Kind::String;
            if (!readString(value.text))
                return failure(QStringLiteral("unterminated or escaped string"));
            return Status::success();
        }
        for (bool boolean : {true, false}) {
            if (readWord(boolean ? "True" : "False")) {
                value.kind = DictValue::Kind::Boolean;
                value.boolean = boolean;
                return Status::success();
            }
        }
        if (first == '[')
            return Error{QString(), QStringLiteral("structured dtypes (a list descr) are not supported")};
        if (first != '(')
            return failure(QStringLiteral("expected a string, True, False or a tuple"));
        ++m_position;
        value.kind = DictValue::Kind::Tuple;
        skipSpace();
        bool sawComma = false;
        while (!consume(')')) {
            if (static_cast<int>(value.tuple.size()) >= kMaxRank)
                return Error{QString(), QStringLiteral("shape has more than %1 dimensions").arg(kMaxRank)};
            qint64 dim = 0;
            if (Status status = readInteger(dim); !status)
                return status;
            value.tuple.push_back(dim);
            skipSpace();
            sawComma = consume(',');
            skipSpace();
            if (!sawComma && peek() != ')')
                return failure(QStringLiteral("expected ',' or ')' in the shape"));
        }
        // In Python "(3)" is the integer 3, not a tuple.
        if (value.tuple.size() == 1 && !sawComma)
            return failure(QStringLiteral("a one-element shape needs a trailing comma"));
        return Status::success();
    }

    Status readInteger(qint64 &out)
    {
        if (peek() == '-')
            return Error{QString(), QStringLiteral("negative dimension in the shape")};
        const qint64 start = m_position;
        qint64 value = 0;
        while (peek() >= '0' && peek() <= '9') {
            const int digit = peek() - '0';
            if (value > (std::numeric_limits<qint64>::max() - digit) / 10)
                return Error{QString(), QStringLiteral("a dimension of the shape does not fit 64 bits")};
            value = value * 10 + digit;
            ++m_position;
        }
        if (m_position == start)
            return failure(QStringLiteral("expected an integer"));
        if (m_position - start > 1 && m_data[start] == '0')
            return failure(QStringLiteral("integer with a leading zero"));
        if (!consume('L')) // Python 2 longs, as old numpy wrote them
            consume('l');
        out = value;
        return Status::success();
    }

    const char *m_data;
    qint64 m_size;
    qint64 m_position = 0;
};

Result<std::pair<DType, bool>> dtypeFromDescr(const QByteArray &descr, std::optional<DType> voidAs)
{
    const QString quoted = QStringLiteral("'%1'").arg(QString::fromLatin1(descr));
    if (descr.size() < 2)
        return Error{QString(), QStringLiteral("unsupported dtype %1").arg(quoted)};
    const char order = descr[0];
    const char kind = descr[1];
    if (kind == 'O')
        return Error{QString(), QStringLiteral("object arrays (dtype %1) hold pickled Python objects, "
                                               "which Graft never loads").arg(quoted)};
    const QByteArray digits = descr.mid(2);
    bool sizeOk = !digits.isEmpty() && digits.size() <= 3;
    for (char c : digits)
        sizeOk = sizeOk && c >= '0' && c <= '9';
    const int size = sizeOk ? digits.toInt() : 0;
    if (order == '\0' || std::strchr("<>|=", order) == nullptr || size <= 0)
        return Error{QString(), QStringLiteral("unsupported dtype %1").arg(quoted)};
    if (order == '|' && size > 1 && kind != 'V')
        return Error{QString(), QStringLiteral("unsupported dtype %1 (no byte order)").arg(quoted)};
    const bool bigEndian = order == '>' && size > 1;

    if (kind == 'V') {
        if (voidAs && npyDescr(*voidAs).at(1) == 'V' && dtypeSize(*voidAs) == size)
            return std::pair{*voidAs, bigEndian};
        return Error{QString(), QStringLiteral("void dtype V%1 (np.save's spelling of bfloat16 and float8; "
                                               "read it through a skeleton that names the dtype)").arg(size)};
    }
    for (const DescrInfo &info : kDescrs) {
        if (info.kind == kind && info.size == size)
            return std::pair{info.dtype, bigEndian};
    }
    return Error{QString(), QStringLiteral("unsupported dtype %1").arg(quoted)};
}

} // namespace

qint64 NpyHeader::numel() const { return checkedNumel(shape, std::numeric_limits<qint64>::max()); }

qint64 NpyHeader::nbytes() const { return numel() * dtypeSize(dtype); }

Shape NpyHeader::strides() const
{
    if (!fortranOrder)
        return contiguousStrides(shape);
    const Shape reversedShape(shape.rbegin(), shape.rend());
    const Shape reversedStrides = contiguousStrides(reversedShape);
    return Shape(reversedStrides.rbegin(), reversedStrides.rend());
}

Result<qint64> npyDataOffset(const uchar *data, qint64 size)
{
    ByteReader reader(data, size);
    const uchar *magic = reader.take(kMagicLength);
    if (magic == nullptr || std::memcmp(magic, kMagic, kMagicLength) != 0)
        return Error{QString(), QStringLiteral("not an .npy record (no \\x93NUMPY magic)")};
    const int major = reader.u8();
    const int minor = reader.u8();
    if (reader.failed())
        return Error{QString(), QStringLiteral(".npy record truncated in its version")};
    if (minor != 0 || major < 1 || major > 3)
        return Error{QString(), QStringLiteral("unsupported .npy version %1.%2").arg(major).arg(minor)};
    const qint64 length = major == 1 ? reader.u16() : reader.u32();
    if (reader.failed())
        return Error{QString(), QStringLiteral(".npy record truncated in its header length")};
    if (length > kMaxNpyHeaderLength)
        return Error{QString(), QStringLiteral(".npy header length %1 exceeds the limit of %2 bytes")
                                    .arg(length).arg(kMaxNpyHeaderLength)};
    return reader.position() + length;
}

Result<NpyHeader> parseNpyHeader(const uchar *data, qint64 size, std::optional<DType> voidAs)
{
    Result<qint64> dataOffset = npyDataOffset(data, size);
    if (!dataOffset)
        return dataOffset.error();
    NpyHeader header;
    header.majorVersion = data[6];
    header.minorVersion = data[7];
    header.dataOffset = *dataOffset;
    const qint64 headerStart = header.majorVersion == 1 ? 10 : 12;
    if (header.dataOffset > size)
        return Error{QString(), QStringLiteral(".npy header length %1 runs past the end (%2 bytes available)")
                                    .arg(header.dataOffset - headerStart).arg(size - headerStart)};

    DictParser parser(reinterpret_cast<const char *>(data + headerStart), header.dataOffset - headerStart);
    Result<std::vector<std::pair<QByteArray, DictValue>>> entries = parser.parse();
    if (!entries)
        return entries.error();
    // numpy requires exactly these three keys; we also refuse a repeated one.
    struct Expected {
        const char *key;
        DictValue::Kind kind;
        const DictValue *value = nullptr;
    };
    std::array<Expected, 3> expected{{{"descr", DictValue::Kind::String},
                                      {"fortran_order", DictValue::Kind::Boolean},
                                      {"shape", DictValue::Kind::Tuple}}};
    for (const auto &[key, value] : *entries) {
        const QString name = QString::fromUtf8(key);
        auto slot = std::find_if(expected.begin(), expected.end(), [&rawKey = key](const Expected &e) { return rawKey == e.key; });
        if (slot == expected.end())
            return Error{QString(), QStringLiteral("unexpected key '%1' in the header").arg(name)};
        if (slot->value != nullptr)
            return Error{QString(), QStringLiteral("duplicate key '%1' in the header").arg(name)};
        if (value.kind != slot->kind)
            return Error{QString(), QStringLiteral("header key '%1' has the wrong type").arg(name)};
        slot->value = &value;
    }
    for (const Expected &slot : expected) {
        if (slot.value == nullptr)
            return Error{QString(), QStringLiteral("header lacks '%1'").arg(QLatin1String(slot.key))};
    }
    Result<std::pair<DType, bool>> dtype = dtypeFromDescr(expected[0].value->text, voidAs);
    if (!dtype)
        return dtype.error();
    header.dtype = dtype->first;
    header.bigEndian = dtype->second;
    header.fortranOrder = expected[1].value->boolean;
    header.shape = expected[2].value->tuple;
    const qint64 limit = std::numeric_limits<qint64>::max() / dtypeSize(header.dtype);
    if (checkedNumel(header.shape, limit) < 0)
        return Error{QString(), QStringLiteral("shape %1 is too large (its byte size overflows)")
                                    .arg(shapeToString(header.shape))};
    return header;
}

namespace {

QByteArray makeNpyDescr(DType dtype)
{
    switch (dtype) {
    case DType::BFloat16: return QByteArrayLiteral("<V2");
    case DType::Float8E4M3:
    case DType::Float8E5M2: return QByteArrayLiteral("|V1");
    default: break;
    }
    for (const DescrInfo &info : kDescrs) {
        if (info.dtype == dtype)
            return (info.size == 1 ? QByteArray("|") : QByteArray("<")) + info.kind + QByteArray::number(info.size);
    }
    return QByteArray();
}

} // namespace

QByteArray npyDescr(DType dtype)
{
    // Made once per dtype (a writer asks once per leaf: 100k leaves of a large .eqx).
    static const std::array<QByteArray, static_cast<size_t>(DType::Float8E5M2) + 1> descrs = [] {
        std::array<QByteArray, static_cast<size_t>(DType::Float8E5M2) + 1> made;
        for (size_t i = 0; i < made.size(); ++i)
            made[i] = makeNpyDescr(static_cast<DType>(i));
        return made;
    }();
    const size_t slot = static_cast<size_t>(dtype);
    return slot < descrs.size() ? descrs[slot] : makeNpyDescr(dtype);
}

QByteArray formatNpyHeader(DType dtype, const Shape &shape)
{
    // numpy 1.24 _write_array_header: keys sorted, repr() values, spare spaces, then _wrap_header.
    // Built in one buffer (a 100k-leaf .eqx writes 100k headers; a dozen QByteArrays each were
    // a sixth of writing it).
    std::string dict;
    dict.reserve(128);
    const QByteArray descr = npyDescr(dtype);
    dict += "{'descr': '";
    dict.append(descr.constData(), static_cast<size_t>(descr.size()));
    dict += "', 'fortran_order': False, 'shape': (";
    size_t firstDigits = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i > 0)
            dict += ", ";
        char digits[24];
        const std::to_chars_result written = std::to_chars(digits, digits + sizeof digits, shape[i]);
        dict.append(digits, written.ptr);
        if (i == 0)
            firstDigits = static_cast<size_t>(written.ptr - digits);
    }
    if (shape.size() == 1)
        dict += ',';
    dict += "), }";
    if (!shape.empty() && firstDigits < static_cast<size_t>(kGrowthAxisMaxDigits))
        dict.append(static_cast<size_t>(kGrowthAxisMaxDigits) - firstDigits, ' ');

    // At most 64 dimensions of at most 19 digits: always short enough for version 1.0.
    const qint64 withNewline = static_cast<qint64>(dict.size()) + 1;
    // As numpy computes it: a header already aligned still gets a full 64 bytes of padding.
    const qint64 padding = kArrayAlign - (kMagicLength + 4 + withNewline) % kArrayAlign;
    const qint64 length = withNewline + padding;
    QByteArray out;
    out.reserve(kMagicLength + 4 + length);
    out.append(kMagic, kMagicLength);
    out += char(1);
    out += char(0);
    out += char(length & 0xff);
    out += char((length >> 8) & 0xff);
    out.append(dict.data(), static_cast<qsizetype>(dict.size()));
    out.append(padding, ' ');
    out += '\n';
    return out;
}

} // namespace graft
