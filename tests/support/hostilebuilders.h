#pragma once
// Builders of hostile files for tst_hostileinputs and tst_hostilegui: protocol-2 pickles written
// opcode by opcode, torch.save-style zips around them, legacy torch files, deflate streams.

#include <QByteArray>
#include <QList>
#include <QPair>

#include <zlib.h>

#include <cstring>

namespace graft::test::hostile {

inline QByteArray le(quint64 value, int bytes)
{
    QByteArray out;
    for (int i = 0; i < bytes; ++i)
        out.append(char((value >> (8 * i)) & 0xff));
    return out;
}

// --- pickles -------------------------------------------------------------------------------
inline QByteArray str(const QByteArray &text) { return 'X' + le(quint64(text.size()), 4) + text; }
inline QByteArray global(const char *module, const char *name) { return QByteArray("c") + module + '\n' + name + '\n'; }
inline QByteArray integer(qint64 value)
{
    if (value >= 0 && value < 256)
        return 'K' + le(quint64(value), 1);
    if (value >= INT32_MIN && value <= INT32_MAX)
        return 'J' + le(quint64(quint32(qint32(value))), 4);
    return QByteArray("\x8a\x08", 2) + le(quint64(value), 8);
}
inline QByteArray tuple(const QList<qint64> &values)
{
    QByteArray out("(");
    for (qint64 v : values)
        out += integer(v);
    return out + 't';
}
/// torch._utils._rebuild_tensor_v2 of float storage '0' holding `numel` elements.
inline QByteArray tensor(qint64 numel, qint64 offset, const QList<qint64> &sizes, const QList<qint64> &strides)
{
    return global("torch._utils", "_rebuild_tensor_v2") + '(' + '(' + str("storage") + global("torch", "FloatStorage")
        + str("0") + str("cpu") + integer(numel) + 't' + 'Q' + integer(offset) + tuple(sizes) + tuple(strides)
        + '\x89' + global("collections", "OrderedDict") + ')' + 'R' + 't' + 'R';
}
/// A protocol-2 pickle of a dict of (key, value-opcodes) pairs, duplicates allowed.
inline QByteArray dictPickle(const QList<QPair<QByteArray, QByteArray>> &entries)
{
    QByteArray out("\x80\x02}(", 4);
    for (const auto &[key, value] : entries)
        out += str(key) + value;
    return out + "u.";
}
/// A call of module.name(argument) through REDUCE: what a __reduce__ payload pickles to.
inline QByteArray reduceCall(const char *module, const char *name, const QByteArray &argument)
{
    return QByteArray("\x80\x02", 2) + global(module, name) + str(argument) + "\x85R.";
}
/// Value opcodes of `x = 1`, then `levels` times `x = (x, x)` through the memo: ~11 bytes a
/// level that flatten to 2^levels entries (the pickle version of "billion laughs").
inline QByteArray laughs(int levels = 40)
{
    QByteArray out = integer(1);
    for (int i = 0; i < levels; ++i)
        out += 'r' + le(quint64(i), 4) + 'j' + le(quint64(i), 4) + '\x86'; // LONG_BINPUT, LONG_BINGET, TUPLE2
    return out;
}
/// Value opcodes of `depth` nested dicts {'k': {'k': ...}} around a list of `items` memo
/// references to one int: 2 bytes an item, and keys ('k.k.k…k.N') of 2 * depth characters each.
inline QByteArray longKeys(int depth, int items)
{
    QByteArray out;
    for (int i = 0; i < depth; ++i)
        out += '}' + QByteArray("(") + str("k");
    out += QByteArray("](") + integer(1) + QByteArray("q\x00", 2);
    for (int i = 1; i < items; ++i)
        out += QByteArray("h\x00", 2);
    out += 'e';
    return out + QByteArray(depth, 'u');
}
/// 100,000 nested lists (EMPTY_LIST then APPEND), the pickle version of a stack bomb.
inline QByteArray deepPickle(int depth = 100'000)
{
    return QByteArray("\x80\x02", 2) + QByteArray(depth, ']') + QByteArray(depth - 1, 'a') + '.';
}

// --- containers ----------------------------------------------------------------------------
/// A stored zip, CRCs right; `zip64Sizes` puts 0xFFFFFFFF sizes + a ZIP64 extra with `zip64Size`.
inline QByteArray storedZip(const QList<QPair<QByteArray, QByteArray>> &members, bool zip64Lie = false,
                            quint64 zip64Size = 0)
{
    QByteArray out, central;
    for (const auto &[name, bytes] : members) {
        const quint32 crc = quint32(::crc32(0, reinterpret_cast<const Bytef *>(bytes.constData()), uInt(bytes.size())));
        const quint32 offset = quint32(out.size());
        out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0x21, 2) + le(crc, 4)
            + le(quint64(bytes.size()), 4) + le(quint64(bytes.size()), 4) + le(quint64(name.size()), 2) + le(0, 2) + name + bytes;
        QByteArray extra;
        quint64 size = quint64(bytes.size());
        if (zip64Lie) {
            extra = le(1, 2) + le(16, 2) + le(zip64Size, 8) + le(zip64Size, 8);
            size = 0xffffffff;
        }
        central += le(0x02014b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0x21, 2) + le(crc, 4)
            + le(size, 4) + le(size, 4) + le(quint64(name.size()), 2) + le(quint64(extra.size()), 2) + le(0, 2)
            + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + name + extra;
    }
    const quint32 centralOffset = quint32(out.size());
    out += central;
    out += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(quint64(members.size()), 2) + le(quint64(members.size()), 2)
        + le(quint64(central.size()), 4) + le(centralOffset, 4) + le(0, 2);
    return out;
}
/// A torch.save-like zip: archive/data.pkl = `pickle`, archive/data/0 = 16 floats.
inline QByteArray torchZip(const QByteArray &pickle)
{
    return storedZip({{"archive/data.pkl", pickle}, {"archive/data/0", QByteArray(64, '\0')}, {"archive/version", "3\n"}});
}
/// A legacy (< 1.6) torch file: magic, protocol, sys info, `object`, storage keys ['0'], storage.
inline QByteArray legacyTorch(const QByteArray &object, qint64 storageNumel = 16)
{
    QByteArray out("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15); // 0x1950a86a20f9469cfc6c
    out += QByteArray("\x80\x02M\xe9\x03.", 6);                                   // protocol 1001
    out += QByteArray("\x80\x02}(", 4) + str("little_endian") + "\x88" + "u.";      // sys info
    out += object;
    out += QByteArray("\x80\x02]", 3) + str("0") + "a.";                            // storage keys
    out += le(quint64(storageNumel), 8) + QByteArray(int(storageNumel * 4), '\0');
    return out;
}
/// Raw deflate of `bytes` (what a deflated zip member holds).
inline QByteArray rawDeflate(const QByteArray &bytes)
{
    z_stream stream{};
    deflateInit2(&stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
    QByteArray out(int(deflateBound(&stream, uLong(bytes.size()))), '\0');
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.constData()));
    stream.avail_in = uInt(bytes.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = uInt(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(int(stream.total_out));
    deflateEnd(&stream);
    return out;
}
/// A zip with one deflated member: `declaredSize` may lie about what `bytes` inflates to.
inline QByteArray deflatedZip(const QByteArray &name, const QByteArray &bytes, quint64 declaredSize)
{
    const QByteArray packed = rawDeflate(bytes);
    const quint32 crc = quint32(::crc32(0, reinterpret_cast<const Bytef *>(bytes.constData()), uInt(bytes.size())));
    QByteArray out = le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(8, 2) + le(0, 2) + le(0x21, 2) + le(crc, 4)
        + le(quint64(packed.size()), 4) + le(declaredSize, 4) + le(quint64(name.size()), 2) + le(0, 2) + name + packed;
    const quint32 centralOffset = quint32(out.size());
    const QByteArray central = le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(8, 2) + le(0, 2) + le(0x21, 2)
        + le(crc, 4) + le(quint64(packed.size()), 4) + le(declaredSize, 4) + le(quint64(name.size()), 2) + le(0, 2)
        + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name;
    out += central + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(quint64(central.size()), 4)
        + le(centralOffset, 4) + le(0, 2);
    return out;
}
/// A v1 .npy record header (padded to 64) for this descr and shape text, e.g. "(3, 4)".
inline QByteArray npyHeader(const QByteArray &descr, const QByteArray &shape)
{
    QByteArray dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + dict.size() + 1) % 64 != 0)
        dict += ' ';
    dict += '\n';
    return QByteArray("\x93NUMPY\x01\x00", 8) + le(quint64(dict.size()), 2) + dict;
}

} // namespace graft::test::hostile
