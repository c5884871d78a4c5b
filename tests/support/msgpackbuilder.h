#pragma once
// Hand-built msgpack for the Flax msgpack reader's hostile tables: each helper writes one item
// (with the widest header form where a test needs to lie about a length). Header-only.

#include <QByteArray>
#include <QString>

#include <initializer_list>
#include <utility>

namespace graft::test::msgpack {

inline QByteArray bigEndian(quint64 value, int bytes)
{
    QByteArray out;
    for (int i = bytes - 1; i >= 0; --i)
        out += char((value >> (8 * i)) & 0xff);
    return out;
}

inline QByteArray str(const QByteArray &text)
{
    if (text.size() <= 31)
        return char(0xa0 | text.size()) + text;
    if (text.size() <= 0xff)
        return char(0xd9) + bigEndian(quint64(text.size()), 1) + text;
    return char(0xdb) + bigEndian(quint64(text.size()), 4) + text;
}
inline QByteArray uint(quint64 value) { return value <= 0x7f ? QByteArray(1, char(value)) : char(0xcf) + bigEndian(value, 8); }
inline QByteArray bin(const QByteArray &data) { return char(0xc6) + bigEndian(quint64(data.size()), 4) + data; }
inline QByteArray arrayHeader(quint64 count) { return char(0xdd) + bigEndian(count, 4); }
inline QByteArray mapHeader(quint64 count) { return char(0xdf) + bigEndian(count, 4); }
inline QByteArray ext(int type, const QByteArray &payload) { return char(0xc9) + bigEndian(quint64(payload.size()), 4) + char(type) + payload; }

/// A map of str keys to already-encoded values, in order.
inline QByteArray map(std::initializer_list<std::pair<QByteArray, QByteArray>> entries)
{
    QByteArray out = mapHeader(entries.size());
    for (const auto &[key, value] : entries)
        out += str(key) + value;
    return out;
}

/// The (shape, dtype, bytes) payload of a numpy array ext.
inline QByteArray arrayPayload(std::initializer_list<quint64> shape, const QByteArray &dtype, const QByteArray &data)
{
    QByteArray out = arrayHeader(3) + arrayHeader(shape.size());
    for (quint64 dim : shape)
        out += uint(dim);
    return out + str(dtype) + bin(data);
}

/// A numpy array (ext type 1), or a numpy scalar with `type` 3.
inline QByteArray array(std::initializer_list<quint64> shape, const QByteArray &dtype, const QByteArray &data, int type = 1)
{
    return ext(type, arrayPayload(shape, dtype, data));
}

} // namespace graft::test::msgpack
