// The unpickler's scalar opcodes: None, booleans, integers, floats, strings and bytes.
#include "checkpoint/formats/unpickler.h"

namespace graft {

const PickleValue *Unpickler::makeLong(const uchar *bytes, qint64 length)
{
    PickleValue *v = make(PickleKind::Int);
    if (length == 0)
        return v;
    if (length <= 8) {
        quint64 raw = 0;
        std::memcpy(&raw, bytes, static_cast<size_t>(length));
        if (length < 8 && (bytes[length - 1] & 0x80)) // sign-extend
            raw |= ~quint64(0) << (8 * length);
        v->integer = static_cast<qint64>(raw);
        return v;
    }
    // Wider than 64 bits: keep a hex rendering (two's complement, most significant byte first)
    // for display and for the legacy format's magic number; such values are never sizes. A
    // hostile LONG4 can be as long as the file: past kMaxLongDisplayBytes the rendering keeps
    // the low bytes and says how long the number was, so an error message stays readable.
    v->integerOverflow = true;
    const qint64 shown = std::min<qint64>(length, kMaxLongDisplayBytes);
    QByteArray bigEndian(static_cast<qsizetype>(shown), Qt::Uninitialized);
    for (qint64 i = 0; i < shown; ++i)
        bigEndian[static_cast<qsizetype>(i)] = static_cast<char>(bytes[shown - 1 - i]);
    v->setText(QStringLiteral("0x") + QString::fromLatin1(bigEndian.toHex()));
    if (shown < length)
        v->setText(QStringLiteral("%1… (a %2-byte integer, low %3 bytes shown)").arg(v->text()).arg(length).arg(shown));
    return v;
}

Unpickler::Step Unpickler::numberOpcode(uchar opcode)
{
    switch (opcode) {
    case NONE:
        if (m_none == nullptr)
            m_none = make(PickleKind::None);
        return m_none;
    case NEWTRUE:
    case NEWFALSE: return makeBool(opcode == NEWTRUE);
    case BININT: return makeInt(m_reader.i32());
    case BININT1: return makeInt(m_reader.u8());
    case BININT2: return makeInt(m_reader.u16());
    case LONG1: {
        const quint8 length = m_reader.u8();
        const uchar *bytes = m_reader.take(length);
        if (bytes == nullptr)
            return fail(QStringLiteral("truncated LONG1"));
        return makeLong(bytes, length);
    }
    case LONG4: {
        const qint32 length = m_reader.i32();
        const uchar *bytes = length >= 0 ? m_reader.take(length) : nullptr;
        if (bytes == nullptr)
            return fail(QStringLiteral("invalid or truncated LONG4"));
        return makeLong(bytes, length);
    }
    case INT:
    case LONG: {
        std::optional<QByteArray> line = readLine();
        if (!line)
            return fail(QStringLiteral("unterminated INT/LONG"));
        QByteArray digits = line->trimmed();
        if (digits.endsWith('L'))
            digits.chop(1);
        if (digits == "00" || digits == "01") // protocol 0 booleans
            return makeBool(digits == "01");
        bool ok = false;
        const qint64 number = digits.toLongLong(&ok);
        if (!ok)
            return fail(QStringLiteral("invalid integer literal"));
        return makeInt(number);
    }
    case BINFLOAT: {
        const uchar *bytes = m_reader.take(8);
        if (bytes == nullptr)
            return fail(QStringLiteral("truncated BINFLOAT"));
        quint64 raw = 0;
        for (int i = 0; i < 8; ++i)
            raw = (raw << 8) | bytes[i]; // big-endian
        PickleValue *f = make(PickleKind::Float);
        std::memcpy(&f->number, &raw, 8);
        return f;
    }
    default: { // FLOAT
        std::optional<QByteArray> line = readLine();
        bool ok = false;
        const double number = line ? line->trimmed().toDouble(&ok) : 0.0;
        if (!ok)
            return fail(QStringLiteral("invalid FLOAT"));
        PickleValue *f = make(PickleKind::Float);
        f->number = number;
        return f;
    }
    }
}

Unpickler::Step Unpickler::textOpcode(uchar opcode)
{
    if (opcode == STRING || opcode == UNICODE) {
        std::optional<QByteArray> line = readLine();
        if (!line)
            return fail(QStringLiteral("unterminated STRING"));
        QByteArray text = *line;
        if (opcode == STRING && text.size() >= 2 && (text.front() == '\'' || text.front() == '"'))
            text = text.mid(1, text.size() - 2);
        return makeString(QString::fromLatin1(text));
    }
    qint64 length = 0;
    if (opcode == SHORT_BINUNICODE || opcode == SHORT_BINSTRING || opcode == SHORT_BINBYTES)
        length = m_reader.u8();
    else if (opcode == BINUNICODE8 || opcode == BINBYTES8)
        length = static_cast<qint64>(std::min<quint64>(m_reader.u64(), quint64(1) << 62));
    else if (opcode == BINSTRING)
        length = m_reader.i32();
    else
        length = m_reader.u32();
    const uchar *bytes = length >= 0 ? m_reader.take(length) : nullptr;
    if (bytes == nullptr)
        return fail(QStringLiteral("string of %1 bytes runs past the end of the data").arg(length));
    const char *chars = reinterpret_cast<const char *>(bytes);
    if (opcode == BINBYTES || opcode == SHORT_BINBYTES || opcode == BINBYTES8) {
        PickleValue *v = make(PickleKind::Bytes);
        v->setBytes(QByteArray(chars, length));
        return v;
    }
    if (opcode == BINSTRING || opcode == SHORT_BINSTRING)
        return makeString(QString::fromLatin1(chars, length));
    return makeString(QString::fromUtf8(chars, length));
}

} // namespace graft
