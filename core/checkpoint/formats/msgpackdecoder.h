#pragma once
// A bounded msgpack token reader over untrusted bytes (https://github.com/msgpack/msgpack/blob/master/spec.md).
//
// Hand-written rather than msgpack-c/msgpack-cxx (libmsgpack-c-dev): the Flax reader needs the
// byte offset of every bin payload so tensors stay zero-copy views of the memory map, and it
// must refuse lies before allocating anything. msgpack-c's unpacker builds an object tree in a
// zone (one allocation per element, copies or references decided by its own limits) and its
// caps are global counts, not "the bytes really left". Here a container's element count is
// checked against the bytes left (every element takes at least one byte), a str/bin/ext length
// against the bytes left, and nothing is allocated: next() returns headers, the caller walks.

#include "base/result.h"

#include <QtGlobal>

namespace graft {

/// One msgpack item's header. For str, bin and ext: `length` payload bytes start at `payload`;
/// for arrays and maps: `length` elements (map: key/value pairs) follow the header.
struct MsgpackItem {
    enum class Kind { Nil, Bool, Int, Float, Str, Bin, Array, Map, Ext };
    Kind kind = Kind::Nil;
    qint64 begin = 0;      ///< offset of the item's first byte
    qint64 length = 0;     ///< payload bytes (str, bin, ext) or element count (array, map)
    qint64 payload = 0;    ///< offset of the payload (str, bin, ext)
    qint8 extType = 0;
    bool boolean = false;
    bool negative = false; ///< Int: the value is `signedValue` (< 0); otherwise `unsignedValue`
    quint64 unsignedValue = 0;
    qint64 signedValue = 0;
    double real = 0;
};

/// Reads items from `data[0, size)`. Offsets in items and errors are relative to `data` plus
/// `base` (so a nested payload reports file offsets). Errors carry no file name: the caller adds it.
class MsgpackDecoder {
public:
    MsgpackDecoder(const uchar *data, qint64 size, qint64 base = 0) : m_data(data), m_size(size), m_base(base) {}

    /// The next item's header. Str/bin/ext payloads are stepped over (their length checked
    /// against the bytes left); array and map elements are not: the caller reads them next.
    Result<MsgpackItem> next();
    /// Steps over one whole value (with its elements), nested at most `maxDepth` deep; the
    /// error names `reportedLimit` (the caller's whole limit, of which `maxDepth` is what is left).
    Status skipValue(int maxDepth, int reportedLimit);

    qint64 position() const { return m_base + m_position; }
    qint64 remaining() const { return m_size - m_position; }
    bool atEnd() const { return m_position >= m_size; }
    /// Moves to `position` (an offset as position() reports it).
    bool seek(qint64 position);
    /// The bytes at file offset `offset` (as position() reports it); valid for [offset, end).
    const uchar *at(qint64 offset) const { return m_data + (offset - m_base); }

private:
    Error failure(const QString &what) const;
    /// Big-endian unsigned of `bytes` bytes at the current position, advanced; false if short.
    bool readBigEndian(int bytes, quint64 &value);
    Result<MsgpackItem> sized(MsgpackItem item, int lengthBytes);
    Result<MsgpackItem> container(MsgpackItem item, quint64 count);

    const uchar *m_data;
    qint64 m_size;
    qint64 m_base;
    qint64 m_position = 0;
};

/// "nil", "bool", "int", "float", "str", "bin", "array", "map", "ext".
QString msgpackKindName(MsgpackItem::Kind kind);

} // namespace graft
