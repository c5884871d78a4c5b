// Flax msgpack output: the bytes flax.serialization.to_bytes writes for the same tree, so that
// flax.serialization.from_bytes(target, data) restores it (msgpackreader.cpp has the layout):
//
//   map {"params": map {"Dense_0": map {"kernel": ext 1 [shape, "float32", bin]}}, ...}
//
// Keys are split on '/' into nested maps, in the order their first leaf comes. With a layout
// (the Flax msgpack target), its empty maps and non-array values (ints, None, lists, arrays of
// dtypes Graft does not read) are written back byte for byte where they were, and its numpy
// scalars stay ext type 3. Encodings are msgpack-python's (the smallest form, str8 for short
// strings, fixext for payloads of 1/2/4/8/16 bytes), so a file read and written again is the
// same bytes. Arrays over `chunkBytes` (Flax's MAX_CHUNK_SIZE, 2**30) are written as Flax's
// chunked maps of 1-d pieces.
//
// Map headers need their counts, so the whole tree is laid out from the keys first; the bytes
// between leaves are computed then, and the leaves stream one at a time in tree order.

#include "checkpoint/writers/formatwriters.h"

#include <QHash>

#include <algorithm>
#include <limits>

namespace graft::writers {
namespace {

constexpr int kMaxDepth = 64; // what the reader accepts
constexpr qint64 kMaxBin = 0xffffffffLL;

void bigEndian(QByteArray &out, quint64 value, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i)
        out += char((value >> (8 * i)) & 0xff);
}

void header(QByteArray &out, quint64 n, uchar fixBase, quint64 fixLimit, uchar first, int firstBytes, uchar second)
{
    if (n <= fixLimit)
        out += char(fixBase | n);
    else if (n < (quint64(1) << (8 * firstBytes)))
        out += char(first), bigEndian(out, n, firstBytes);
    else
        out += char(second), bigEndian(out, n, 2 * firstBytes);
}

void packUnsigned(QByteArray &out, quint64 value)
{
    if (value <= 0x7f)
        out += char(value);
    else if (value <= 0xff)
        out += char(0xcc), bigEndian(out, value, 1);
    else if (value <= 0xffff)
        out += char(0xcd), bigEndian(out, value, 2);
    else if (value <= 0xffffffff)
        out += char(0xce), bigEndian(out, value, 4);
    else
        out += char(0xcf), bigEndian(out, value, 8);
}

void packString(QByteArray &out, const QString &text)
{
    const QByteArray utf8 = text.toUtf8();
    const quint64 n = static_cast<quint64>(utf8.size());
    if (n <= 31)
        out += char(0xa0 | n);
    else if (n <= 0xff)
        out += char(0xd9), bigEndian(out, n, 1);
    else
        header(out, n, 0, 0, 0xda, 2, 0xdb);
    out += utf8;
}

void packMap(QByteArray &out, quint64 n) { header(out, n, 0x80, 15, 0xde, 2, 0xdf); }
void packArray(QByteArray &out, quint64 n) { header(out, n, 0x90, 15, 0xdc, 2, 0xdd); }

// The header of an ext of type `type` with `payload` bytes, as msgpack-python packs it.
QByteArray extHeader(int type, qint64 payload)
{
    QByteArray out;
    switch (payload) {
    case 1: out += char(0xd4); break;
    case 2: out += char(0xd5); break;
    case 4: out += char(0xd6); break;
    case 8: out += char(0xd7); break;
    case 16: out += char(0xd8); break;
    default:
        if (payload <= 0xff)
            out += char(0xc7), bigEndian(out, quint64(payload), 1);
        else if (payload <= 0xffff)
            out += char(0xc8), bigEndian(out, quint64(payload), 2);
        else
            out += char(0xc9), bigEndian(out, quint64(payload), 4);
    }
    out += char(type);
    return out;
}

// Everything of one array up to its data: ext header, (shape, dtype name, bin header).
QByteArray arrayHeader(int extType, DType dtype, const Shape &shape, qint64 nbytes)
{
    QByteArray inner;
    packArray(inner, 3);
    packArray(inner, shape.size());
    for (qint64 dim : shape)
        packUnsigned(inner, quint64(dim));
    packString(inner, dtypeName(dtype));
    if (nbytes <= 0xff)
        inner += char(0xc4), bigEndian(inner, quint64(nbytes), 1);
    else if (nbytes <= 0xffff)
        inner += char(0xc5), bigEndian(inner, quint64(nbytes), 2);
    else
        inner += char(0xc6), bigEndian(inner, quint64(nbytes), 4);
    return extHeader(extType, inner.size() + nbytes) + inner;
}

struct Node {
    QString name;
    int leaf = -1;       ///< index into the caller's leaves
    QByteArray value;    ///< a kept value's bytes
    bool isValue = false;
    std::vector<int> children;
    QHash<QString, int> byName;
};

class TreeBuilder {
public:
    explicit TreeBuilder(const QString &path) : m_path(path) { m_nodes.emplace_back(); }

    Status insert(const QString &key, int leaf, const QByteArray &value, bool isValue)
    {
        const QStringList parts = key.split(QLatin1Char('/'));
        if (parts.size() > kMaxDepth - 1)
            return Error{m_path, QStringLiteral("'%1' is nested deeper than %2 maps").arg(key).arg(kMaxDepth - 1)};
        int node = 0;
        for (qsizetype i = 0; i < parts.size(); ++i) {
            const QString &part = parts[i];
            if (part.isEmpty())
                return Error{m_path, QStringLiteral("'%1' has an empty part between '/': not a path in a map tree").arg(key)};
            const bool last = i + 1 == parts.size();
            const int existing = m_nodes[size_t(node)].byName.value(part, -1);
            if (existing >= 0) {
                const Node &found = m_nodes[size_t(existing)];
                if (last || found.leaf >= 0 || found.isValue)
                    return Error{m_path, QStringLiteral("'%1' is both a value and a map of other values in the tree")
                                             .arg(parts.mid(0, i + 1).join(QLatin1Char('/')))};
                node = existing;
                continue;
            }
            Node child;
            child.name = part;
            if (last) {
                child.leaf = leaf;
                child.value = value;
                child.isValue = isValue;
            }
            const int index = int(m_nodes.size());
            m_nodes[size_t(node)].children.push_back(index);
            m_nodes[size_t(node)].byName.insert(part, index);
            m_nodes.push_back(std::move(child));
            node = index;
        }
        return Status::success();
    }

    // Depth first: the bytes before each leaf, the leaves' order, and what follows the last.
    void emit(int node, QByteArray &pending, std::vector<int> &order, std::vector<QByteArray> &before) const
    {
        for (int index : m_nodes[size_t(node)].children) {
            const Node &child = m_nodes[size_t(index)];
            packString(pending, child.name);
            if (child.isValue) {
                pending += child.value;
            } else if (child.leaf >= 0) {
                order.push_back(child.leaf);
                before.push_back(pending);
                pending.clear();
            } else {
                packMap(pending, child.children.size());
                emit(index, pending, order, before);
            }
        }
    }

    size_t rootSize() const { return m_nodes.front().children.size(); }

private:
    QString m_path;
    std::vector<Node> m_nodes;
};

} // namespace

Result<MsgpackPlan> planMsgpack(const QString &path, const std::vector<OutputLeaf> &leaves, const std::optional<Checkpoint> &layout,
                                qint64 chunkBytes)
{
    // Unchunked arrays must fit a bin32; Flax's 2**30 leaves room for the headers.
    if (chunkBytes < 1 || chunkBytes > kMaxBin - 1024)
        return Error{path, QStringLiteral("a msgpack chunk size of %1 bytes is outside 1 to %2").arg(chunkBytes).arg(kMaxBin - 1024)};
    TreeBuilder tree(path);
    // The layout's kept values go where they were: before the leaf that followed them there.
    std::vector<const OtherEntry *> kept;
    if (layout) {
        for (const OtherEntry &other : layout->others()) {
            if (other.tensorsBefore >= 0 && !other.encoded.isEmpty())
                kept.push_back(&other);
        }
    }
    size_t next = 0;
    auto insertKept = [&](size_t upTo) -> Status {
        for (; next < kept.size() && size_t(kept[next]->tensorsBefore) <= upTo; ++next) {
            if (Status status = tree.insert(kept[next]->key, -1, kept[next]->encoded, true); !status)
                return status;
        }
        return Status::success();
    };
    MsgpackPlan plan;
    for (size_t i = 0; i < leaves.size(); ++i) {
        const OutputLeaf &leaf = leaves[i];
        if (Status status = insertKept(i); !status)
            return status.error();
        if (Status status = tree.insert(leaf.key, int(i), QByteArray(), false); !status)
            return status.error();
    }
    if (Status status = insertKept(std::numeric_limits<size_t>::max()); !status)
        return status.error();

    std::vector<int> order;
    plan.after.clear();
    packMap(plan.after, tree.rootSize());
    tree.emit(0, plan.after, order, plan.before);
    for (int index : order) {
        const OutputLeaf &leaf = leaves[size_t(index)];
        plan.leaves.push_back(leaf);
        const int at = layout ? layout->indexOf(leaf.key) : -1;
        plan.scalar.push_back(at >= 0 && layout->tensors()[size_t(at)].kind == LeafKind::Scalar && leaf.spec.shape.empty());
    }
    return plan;
}

Status writeMsgpack(OutputSink &sink, const LeafStream &stream, const MsgpackPlan &plan, qint64 chunkBytes)
{
    Status written = stream.writeEach([&](size_t index, const OutputLeaf &leaf, const TensorBytes &bytes, const WriteSubject &what) {
        if (Status status = sink.write(plan.before[index], what); !status)
            return status;
        const qint64 nbytes = bytes.size();
        if (plan.scalar[index] || nbytes <= chunkBytes) {
            if (Status status = sink.write(arrayHeader(plan.scalar[index] ? 3 : 1, leaf.spec.dtype, leaf.spec.shape, nbytes), what); !status)
                return status;
            return sink.write(bytes, what);
        }
        // flax.serialization._chunk: 1-d pieces of max(1, MAX_CHUNK_SIZE // itemsize) elements.
        const qint64 itemSize = dtypeSize(leaf.spec.dtype);
        const qint64 perChunk = std::max<qint64>(1, chunkBytes / itemSize);
        const qint64 numel = nbytes / itemSize;
        const qint64 chunks = (numel + perChunk - 1) / perChunk;
        QByteArray head;
        packMap(head, 3);
        packString(head, QStringLiteral("__msgpack_chunked_array__"));
        head += char(0xc3);
        packString(head, QStringLiteral("shape"));
        packMap(head, leaf.spec.shape.size());
        for (size_t d = 0; d < leaf.spec.shape.size(); ++d) {
            packString(head, QString::number(d));
            packUnsigned(head, quint64(leaf.spec.shape[d]));
        }
        packString(head, QStringLiteral("chunks"));
        packMap(head, quint64(chunks));
        if (Status status = sink.write(head, what); !status)
            return status;
        for (qint64 c = 0; c < chunks; ++c) {
            const qint64 count = std::min(perChunk, numel - c * perChunk);
            QByteArray key;
            packString(key, QString::number(c));
            if (Status status = sink.write(key + arrayHeader(1, leaf.spec.dtype, {count}, count * itemSize), what); !status)
                return status;
            const char *piece = reinterpret_cast<const char *>(bytes.data()) + c * perChunk * itemSize;
            if (Status status = sink.write(piece, count * itemSize, what); !status)
                return status;
        }
        return Status::success();
    });
    if (!written)
        return written;
    return sink.write(plan.after, QStringLiteral("the end of the top-level map"));
}

} // namespace graft::writers
