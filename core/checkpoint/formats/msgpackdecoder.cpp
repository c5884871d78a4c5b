#include "checkpoint/formats/msgpackdecoder.h"

#include <cstring>
#include <vector>

namespace graft {

QString msgpackKindName(MsgpackItem::Kind kind)
{
    switch (kind) {
    case MsgpackItem::Kind::Nil: return QStringLiteral("nil");
    case MsgpackItem::Kind::Bool: return QStringLiteral("bool");
    case MsgpackItem::Kind::Int: return QStringLiteral("int");
    case MsgpackItem::Kind::Float: return QStringLiteral("float");
    case MsgpackItem::Kind::Str: return QStringLiteral("str");
    case MsgpackItem::Kind::Bin: return QStringLiteral("bin");
    case MsgpackItem::Kind::Array: return QStringLiteral("array");
    case MsgpackItem::Kind::Map: return QStringLiteral("map");
    case MsgpackItem::Kind::Ext: return QStringLiteral("ext");
    }
    return QString();
}

Error MsgpackDecoder::failure(const QString &what) const { return Error{QString(), QStringLiteral("at byte %1: %2").arg(position()).arg(what)}; }

bool MsgpackDecoder::seek(qint64 position)
{
    const qint64 local = position - m_base;
    if (local < 0 || local > m_size)
        return false;
    m_position = local;
    return true;
}

bool MsgpackDecoder::readBigEndian(int bytes, quint64 &value)
{
    if (remaining() < bytes)
        return false;
    value = 0;
    for (int i = 0; i < bytes; ++i)
        value = (value << 8) | m_data[m_position + i];
    m_position += bytes;
    return true;
}

Result<MsgpackItem> MsgpackDecoder::sized(MsgpackItem item, int lengthBytes)
{
    quint64 length = 0;
    if (lengthBytes > 0 && !readBigEndian(lengthBytes, length))
        return failure(QStringLiteral("the file ends inside a %1 header (truncated)").arg(msgpackKindName(item.kind)));
    if (lengthBytes == 0)
        length = static_cast<quint64>(item.length); // fixstr / fixext: the length was in the type byte
    if (item.kind == MsgpackItem::Kind::Ext) {
        quint64 type = 0;
        if (!readBigEndian(1, type))
            return failure(QStringLiteral("the file ends inside an ext header (truncated)"));
        item.extType = static_cast<qint8>(static_cast<quint8>(type));
    }
    if (length > static_cast<quint64>(remaining()))
        return failure(QStringLiteral("%1 %2 of %3 bytes, but only %4 bytes are left (truncated or a length lie)")
                           .arg(item.kind == MsgpackItem::Kind::Ext ? QStringLiteral("an") : QStringLiteral("a"), msgpackKindName(item.kind))
                           .arg(length).arg(remaining()));
    item.length = static_cast<qint64>(length);
    item.payload = position();
    m_position += item.length;
    return item;
}

Result<MsgpackItem> MsgpackDecoder::container(MsgpackItem item, quint64 count)
{
    // Every element takes at least one byte: a count beyond the bytes left is a lie, refused
    // before any caller reserves room for it.
    const quint64 perElement = item.kind == MsgpackItem::Kind::Map ? 2 : 1;
    if (count > static_cast<quint64>(remaining()) / perElement)
        return failure(QStringLiteral("%1 of %2 elements, but only %3 bytes are left (truncated or a length lie)")
                           .arg(item.kind == MsgpackItem::Kind::Map ? QStringLiteral("a map") : QStringLiteral("an array"))
                           .arg(count).arg(remaining()));
    item.length = static_cast<qint64>(count);
    return item;
}

Result<MsgpackItem> MsgpackDecoder::next()
{
    using Kind = MsgpackItem::Kind;
    MsgpackItem item;
    item.begin = position();
    if (atEnd())
        return failure(QStringLiteral("the file ends where a value was expected (truncated)"));
    const uchar type = m_data[m_position++];
    quint64 value = 0;
    auto need = [&](int bytes) { return readBigEndian(bytes, value); };
    auto truncated = [&] { return failure(QStringLiteral("the file ends inside a number (truncated)")); };

    if (type <= 0x7f || type >= 0xe0) { // positive / negative fixint
        item.kind = Kind::Int;
        item.negative = type >= 0xe0;
        item.signedValue = static_cast<qint8>(type);
        item.unsignedValue = type;
        return item;
    }
    if (type >= 0x80 && type <= 0x8f) {
        item.kind = Kind::Map;
        return container(item, type & 0x0f);
    }
    if (type >= 0x90 && type <= 0x9f) {
        item.kind = Kind::Array;
        return container(item, type & 0x0f);
    }
    if (type >= 0xa0 && type <= 0xbf) {
        item.kind = Kind::Str;
        item.length = type & 0x1f;
        return sized(item, 0);
    }
    switch (type) {
    case 0xc0: item.kind = Kind::Nil; return item;
    case 0xc2: case 0xc3: item.kind = Kind::Bool; item.boolean = type == 0xc3; return item;
    case 0xc4: case 0xc5: case 0xc6: item.kind = Kind::Bin; return sized(item, 1 << (type - 0xc4));
    case 0xc7: case 0xc8: case 0xc9: item.kind = Kind::Ext; return sized(item, 1 << (type - 0xc7));
    case 0xca: case 0xcb: {
        item.kind = Kind::Float;
        if (!need(type == 0xca ? 4 : 8))
            return truncated();
        if (type == 0xca) {
            const quint32 bits = static_cast<quint32>(value);
            float f = 0;
            std::memcpy(&f, &bits, sizeof f);
            item.real = f;
        } else {
            std::memcpy(&item.real, &value, sizeof item.real);
        }
        return item;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        item.kind = Kind::Int;
        if (!need(1 << (type - 0xcc)))
            return truncated();
        item.unsignedValue = value;
        item.signedValue = static_cast<qint64>(value);
        return item;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        item.kind = Kind::Int;
        const int bytes = 1 << (type - 0xd0);
        if (!need(bytes))
            return truncated();
        // Sign-extend from `bytes` bytes.
        const int shift = 64 - 8 * bytes;
        item.signedValue = static_cast<qint64>(value << shift) >> shift;
        item.negative = item.signedValue < 0;
        item.unsignedValue = static_cast<quint64>(item.signedValue);
        return item;
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        item.kind = Kind::Ext;
        item.length = 1 << (type - 0xd4);
        return sized(item, 0);
    case 0xd9: case 0xda: case 0xdb: item.kind = Kind::Str; return sized(item, 1 << (type - 0xd9));
    case 0xdc: case 0xdd:
        item.kind = Kind::Array;
        if (!need(type == 0xdc ? 2 : 4))
            return failure(QStringLiteral("the file ends inside an array header (truncated)"));
        return container(item, value);
    case 0xde: case 0xdf:
        item.kind = Kind::Map;
        if (!need(type == 0xde ? 2 : 4))
            return failure(QStringLiteral("the file ends inside a map header (truncated)"));
        return container(item, value);
    default: break;
    }
    m_position = item.begin - m_base;
    return failure(QStringLiteral("byte 0x%1 is not a msgpack type").arg(type, 2, 16, QLatin1Char('0')));
}

Status MsgpackDecoder::skipValue(int maxDepth, int reportedLimit)
{
    // Iterative: a count of values still to step over per open container.
    std::vector<qint64> pending{1};
    while (!pending.empty()) {
        if (pending.back() == 0) {
            pending.pop_back();
            continue;
        }
        --pending.back();
        Result<MsgpackItem> item = next();
        if (!item)
            return item.error();
        if (item->kind != MsgpackItem::Kind::Array && item->kind != MsgpackItem::Kind::Map)
            continue;
        if (static_cast<int>(pending.size()) > maxDepth)
            return failure(QStringLiteral("maps and arrays nested deeper than %1 levels").arg(reportedLimit));
        pending.push_back(item->kind == MsgpackItem::Kind::Map ? 2 * item->length : item->length);
    }
    return Status::success();
}

} // namespace graft
