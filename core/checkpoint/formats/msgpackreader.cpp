// readFlaxMsgpack: what flax.serialization.to_bytes / msgpack_serialize writes (Hugging Face's
// flax_model.msgpack, flax.training checkpoints). Layout (google/flax:flax/serialization.py):
//
//   a msgpack map of str keys; nested maps are the tree: {"params": {"Dense_0": {"kernel": X}}}
//   lists and tuples were turned into maps with keys "0", "1", ... by to_state_dict
//   X = ext type 1 (numpy array) whose payload is itself msgpack:
//       [shape (array of ints), dtype name (str, e.g. "float32", "bfloat16"), C-order bytes (bin)]
//   ext type 3: a numpy scalar, the same payload with shape ()
//   ext type 2: a Python complex, payload [real, imag]
//   arrays over 2**30 bytes: {"__msgpack_chunked_array__": True, "shape": {"0": d0, ...},
//                             "chunks": {"0": 1-d array, "1": ...}} joined in key order
//   anything else (ints, floats, str, None, empty maps) is kept as a value, not a tensor
//
// Keys are the map path joined with '/' as flax.traverse_util.flatten_dict(sep='/') shows them
// (params/Dense_0/kernel); tensors are listed in file order and are views of the map (the bin
// payload), chunked ones are joined on read. Every length is checked against the bytes left
// before anything is allocated (msgpackdecoder.h), nesting is bounded, duplicate and non-str
// keys are refused (msgpack-python would silently keep the last / a non-str key breaks the '/'
// path), and each array's bytes must be exactly numel × itemsize, as numpy's reshape requires.

#include "checkpoint/formats/msgpackdecoder.h"
#include "checkpoint/formats/readers.h"

#include <QSet>

#include <limits>
#include <optional>

namespace graft {
namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxRank = 64;
constexpr qint64 kMaxKeyLength = 64 * 1024;           // one flattened key, in characters
constexpr qint64 kMaxKeyCharacters = qint64(256) << 20; // all flattened keys together
constexpr int kMaxDtypeName = 64;
const QLatin1String kChunkedMarker("__msgpack_chunked_array__");

struct ArrayPayload {
    QString dtypeName;
    std::optional<DType> dtype;
    Shape shape;
    qint64 dataOffset = 0;
    qint64 dataSize = 0;
};

struct MapEntry {
    QString name;
    qint64 value = 0; // offset of the value
};

class FlaxMsgpackReader {
public:
    explicit FlaxMsgpackReader(const MappedFilePtr &file)
        : m_file(file), m_decoder(file->data(), file->size()), m_checkpoint(file->path(), CheckpointFormat::FlaxMsgpack)
    {
    }

    Result<Checkpoint> run()
    {
        m_checkpoint.addFile(m_file);
        Segment whole;
        whole.size = m_file->size();
        m_wholeFile = m_checkpoint.addSegment(whole);
        Result<MsgpackItem> top = m_decoder.next();
        if (!top)
            return fail(QString(), top.error().message);
        if (top->kind != MsgpackItem::Kind::Map)
            return fail(QString(), QStringLiteral("the file holds a msgpack %1, not a map: not a Flax state dict "
                                                  "(flax.serialization.to_bytes writes a map)").arg(msgpackKindName(top->kind)));
        if (Status status = readMap(*top, QString(), 1); !status)
            return status.error();
        if (!m_decoder.atEnd())
            return fail(QString(), QStringLiteral("%1 bytes follow the top-level map (msgpack.unpackb refuses extra data)")
                                       .arg(m_decoder.remaining()));
        if (m_checkpoint.tensors().empty())
            return fail(QString(), QStringLiteral("the state dict holds no arrays"));
        return std::move(m_checkpoint);
    }

private:
    Error fail(const QString &key, const QString &what) const
    {
        return Error{m_file->path(), key.isEmpty() ? what : QStringLiteral("'%1': %2").arg(key, what)};
    }

    Result<QString> keyOf(const MsgpackItem &item, const QString &map)
    {
        const QString where = map.isEmpty() ? QStringLiteral("the top-level map") : QStringLiteral("map '%1'").arg(map);
        if (item.kind != MsgpackItem::Kind::Str)
            return fail(QString(), QStringLiteral("%1 has a %2 key at byte %3; a Flax state dict's keys are strings")
                                       .arg(where, msgpackKindName(item.kind)).arg(item.begin));
        const char *raw = reinterpret_cast<const char *>(m_decoder.at(item.payload));
        const QString name = QString::fromUtf8(raw, item.length);
        if (name.toUtf8() != QByteArray::fromRawData(raw, item.length))
            return fail(QString(), QStringLiteral("%1 has a key at byte %2 that is not valid UTF-8").arg(where).arg(item.begin));
        if (name.isEmpty() || name.contains(QLatin1Char('/')))
            return fail(QString(), QStringLiteral("%1 has the key '%2' at byte %3: empty keys and keys with '/' would make "
                                                  "the '/'-joined paths ambiguous").arg(where, name).arg(item.begin));
        const qint64 length = map.size() + 1 + name.size();
        m_keyCharacters += length;
        if (length > kMaxKeyLength)
            return fail(QString(), QStringLiteral("%1: a key path longer than %2 characters").arg(where).arg(kMaxKeyLength));
        if (m_keyCharacters > kMaxKeyCharacters)
            return fail(QString(), QStringLiteral("the key paths would take more than %1 characters").arg(kMaxKeyCharacters));
        return name;
    }

    static QString join(const QString &prefix, const QString &name)
    {
        return prefix.isEmpty() ? name : prefix + QLatin1Char('/') + name;
    }

    // The entries of a map whose header was just read: names checked, values stepped over.
    Result<std::vector<MapEntry>> entriesOf(const MsgpackItem &map, const QString &prefix, int depth)
    {
        std::vector<MapEntry> entries; // grows with what is parsed, never with what a header claims
        QSet<QString> seen;
        for (qint64 i = 0; i < map.length; ++i) {
            Result<MsgpackItem> keyItem = m_decoder.next();
            if (!keyItem)
                return fail(prefix, keyItem.error().message);
            Result<QString> name = keyOf(*keyItem, prefix);
            if (!name)
                return name.error();
            if (seen.contains(*name))
                return fail(prefix, QStringLiteral("the key '%1' appears twice (at byte %2)").arg(*name).arg(keyItem->begin));
            seen.insert(*name);
            entries.push_back({*name, m_decoder.position()});
            if (Status status = m_decoder.skipValue(kMaxDepth - depth, kMaxDepth); !status)
                return fail(join(prefix, *name), status.error().message);
        }
        return entries;
    }

    Status readMap(const MsgpackItem &map, const QString &prefix, int depth)
    {
        if (depth > kMaxDepth)
            return fail(prefix, QStringLiteral("maps nested deeper than %1 levels").arg(kMaxDepth));
        Result<std::vector<MapEntry>> entries = entriesOf(map, prefix, depth);
        if (!entries)
            return entries.error();
        const qint64 end = m_decoder.position();
        if (entries->empty() && !prefix.isEmpty()) {
            addOther(prefix, QStringLiteral("dict"), QStringLiteral("{} (an empty map)"), map.begin, end);
            return Status::success();
        }
        for (const MapEntry &entry : *entries) {
            if (entry.name == kChunkedMarker) {
                if (prefix.isEmpty())
                    return fail(QString(), QStringLiteral("the top-level map is a chunked array, not a state dict"));
                if (Status status = readChunked(map, prefix, *entries); !status)
                    return status;
                m_decoder.seek(end);
                return Status::success();
            }
        }
        for (const MapEntry &entry : *entries) {
            m_decoder.seek(entry.value);
            if (Status status = readValue(join(prefix, entry.name), depth + 1); !status)
                return status;
        }
        m_decoder.seek(end);
        return Status::success();
    }

    Status readValue(const QString &key, int depth)
    {
        using Kind = MsgpackItem::Kind;
        Result<MsgpackItem> item = m_decoder.next();
        if (!item)
            return fail(key, item.error().message);
        const qint64 begin = item->begin;
        switch (item->kind) {
        case Kind::Map: return readMap(*item, key, depth);
        case Kind::Ext:
            if (item->extType == 1 || item->extType == 3)
                return addArray(key, *item, item->extType == 3 ? LeafKind::Scalar : LeafKind::Array);
            if (item->extType == 2)
                return addComplex(key, *item);
            addOther(key, QStringLiteral("ExtType"), QStringLiteral("msgpack ext type %1, %2 bytes").arg(item->extType).arg(item->length),
                     begin, m_decoder.position());
            return Status::success();
        case Kind::Array:
            for (qint64 i = 0; i < item->length; ++i) {
                if (Status status = m_decoder.skipValue(kMaxDepth - depth, kMaxDepth); !status)
                    return fail(key, status.error().message);
            }
            addOther(key, QStringLiteral("list"), QStringLiteral("a list of %1 values (kept as it is)").arg(item->length), begin,
                     m_decoder.position());
            return Status::success();
        case Kind::Nil: addOther(key, QStringLiteral("NoneType"), QStringLiteral("None"), begin, m_decoder.position()); break;
        case Kind::Bool:
            addOther(key, QStringLiteral("bool"), item->boolean ? QStringLiteral("True") : QStringLiteral("False"), begin, m_decoder.position());
            break;
        case Kind::Int:
            addOther(key, QStringLiteral("int"), item->negative ? QString::number(item->signedValue) : QString::number(item->unsignedValue),
                     begin, m_decoder.position());
            break;
        case Kind::Float: addOther(key, QStringLiteral("float"), QString::number(item->real, 'g', 17), begin, m_decoder.position()); break;
        case Kind::Str: {
            const QString text = QString::fromUtf8(reinterpret_cast<const char *>(m_decoder.at(item->payload)), qMin<qint64>(item->length, 64));
            addOther(key, QStringLiteral("str"), QLatin1Char('\'') + text + (item->length > 64 ? QStringLiteral("…'") : QStringLiteral("'")),
                     begin, m_decoder.position());
            break;
        }
        case Kind::Bin: addOther(key, QStringLiteral("bytes"), QStringLiteral("%1 bytes").arg(item->length), begin, m_decoder.position()); break;
        }
        return Status::success();
    }

    void addOther(const QString &key, const QString &type, const QString &summary, qint64 begin, qint64 end)
    {
        OtherEntry other{key, type, summary};
        other.encoded = QByteArray(reinterpret_cast<const char *>(m_decoder.at(begin)), end - begin);
        other.tensorsBefore = static_cast<int>(m_checkpoint.tensors().size());
        m_checkpoint.addOther(std::move(other));
    }

    // The (shape, dtype, bytes) triple inside an ext type 1 or 3.
    Result<ArrayPayload> parsePayload(const MsgpackItem &ext, const QString &key) const
    {
        using Kind = MsgpackItem::Kind;
        MsgpackDecoder inner(m_decoder.at(ext.payload), ext.length, ext.payload);
        auto wrong = [&](const QString &what) { return fail(key, QStringLiteral("ext type %1 at byte %2: %3").arg(ext.extType).arg(ext.begin).arg(what)); };
        Result<MsgpackItem> triple = inner.next();
        if (!triple || triple->kind != Kind::Array || triple->length != 3)
            return wrong(QStringLiteral("its payload is not a (shape, dtype, bytes) triple"));
        Result<MsgpackItem> shape = inner.next();
        if (!shape || shape->kind != Kind::Array || shape->length > kMaxRank)
            return wrong(QStringLiteral("the shape is not an array of at most %1 integers").arg(kMaxRank));
        ArrayPayload payload;
        for (qint64 i = 0; i < shape->length; ++i) {
            Result<MsgpackItem> dim = inner.next();
            if (!dim || dim->kind != Kind::Int || dim->negative || dim->unsignedValue > quint64(std::numeric_limits<qint64>::max()))
                return wrong(QStringLiteral("the shape holds something other than a non-negative integer"));
            payload.shape.push_back(static_cast<qint64>(dim->unsignedValue));
        }
        Result<MsgpackItem> dtype = inner.next();
        if (!dtype || (dtype->kind != Kind::Str && dtype->kind != Kind::Bin) || dtype->length > kMaxDtypeName)
            return wrong(QStringLiteral("the dtype is not a name"));
        payload.dtypeName = QString::fromLatin1(reinterpret_cast<const char *>(m_decoder.at(dtype->payload)), dtype->length);
        Result<MsgpackItem> data = inner.next();
        if (!data || (data->kind != Kind::Bin && data->kind != Kind::Str))
            return wrong(QStringLiteral("the data is not a byte string%1").arg(data ? QString() : QStringLiteral(" (") + data.error().message + QLatin1Char(')')));
        if (!inner.atEnd())
            return wrong(QStringLiteral("%1 bytes follow the (shape, dtype, bytes) triple").arg(inner.remaining()));
        payload.dataOffset = data->payload;
        payload.dataSize = data->length;
        payload.dtype = dtypeFromName(payload.dtypeName);
        if (!payload.dtype)
            return payload;
        const int itemSize = dtypeSize(*payload.dtype);
        const qint64 numel = checkedNumel(payload.shape, std::numeric_limits<qint64>::max() / itemSize);
        if (numel < 0)
            return wrong(QStringLiteral("shape %1 is too large (its byte size overflows)").arg(shapeToString(payload.shape)));
        if (numel * itemSize != payload.dataSize)
            return wrong(QStringLiteral("shape %1 of %2 needs %3 bytes, but the array holds %4")
                             .arg(shapeToString(payload.shape), payload.dtypeName).arg(numel * itemSize).arg(payload.dataSize));
        return payload;
    }

    Status addArray(const QString &key, const MsgpackItem &ext, LeafKind kind)
    {
        Result<ArrayPayload> payload = parsePayload(ext, key);
        if (!payload)
            return payload.error();
        if (!payload->dtype) {
            addOther(key, QStringLiteral("ndarray"), QStringLiteral("dtype '%1', shape %2: a dtype Graft does not read (kept as it is)")
                                                          .arg(payload->dtypeName, shapeToString(payload->shape)),
                     ext.begin, m_decoder.position());
            return Status::success();
        }
        if (kind == LeafKind::Scalar && !payload->shape.empty())
            return fail(key, QStringLiteral("a numpy scalar (ext type 3) of shape %1; scalars have shape ()").arg(shapeToString(payload->shape)));
        TensorEntry entry;
        entry.key = key;
        entry.dtype = *payload->dtype;
        entry.shape = payload->shape;
        entry.segment = m_wholeFile;
        entry.byteOffset = payload->dataOffset;
        entry.kind = kind;
        return m_checkpoint.addTensor(std::move(entry));
    }

    Status addComplex(const QString &key, const MsgpackItem &ext)
    {
        MsgpackDecoder inner(m_decoder.at(ext.payload), ext.length, ext.payload);
        Result<MsgpackItem> pair = inner.next();
        double parts[2] = {0, 0};
        bool valid = pair && pair->kind == MsgpackItem::Kind::Array && pair->length == 2;
        for (int i = 0; valid && i < 2; ++i) {
            Result<MsgpackItem> part = inner.next();
            valid = part && (part->kind == MsgpackItem::Kind::Float || part->kind == MsgpackItem::Kind::Int);
            if (valid)
                parts[i] = part->kind == MsgpackItem::Kind::Float ? part->real
                           : part->negative ? double(part->signedValue) : double(part->unsignedValue);
        }
        if (!valid || !inner.atEnd())
            return fail(key, QStringLiteral("ext type 2 (complex) at byte %1: its payload is not a (real, imag) pair").arg(ext.begin));
        addOther(key, QStringLiteral("complex"), QStringLiteral("(%1%2%3j)").arg(parts[0], 0, 'g', 17).arg(parts[1] < 0 ? QString() : QStringLiteral("+")).arg(parts[1], 0, 'g', 17),
                 ext.begin, m_decoder.position());
        return Status::success();
    }

    // {"0": ..., "1": ...} with exactly the keys 0..n-1: the value offsets in index order.
    Result<std::vector<qint64>> indexedMap(const QString &key, const QString &field, qint64 offset, qint64 limit)
    {
        m_decoder.seek(offset);
        Result<MsgpackItem> map = m_decoder.next();
        if (!map || map->kind != MsgpackItem::Kind::Map || map->length > limit)
            return fail(key, QStringLiteral("chunked array: '%1' is not a map of at most %2 entries").arg(field).arg(limit));
        Result<std::vector<MapEntry>> entries = entriesOf(*map, join(key, field), kMaxDepth - 1);
        if (!entries)
            return entries.error();
        std::vector<qint64> values(entries->size(), -1);
        for (const MapEntry &entry : *entries) {
            bool isNumber = false;
            const qint64 index = entry.name.toLongLong(&isNumber);
            if (!isNumber || index < 0 || index >= qint64(values.size()) || QString::number(index) != entry.name)
                return fail(key, QStringLiteral("chunked array: '%1' has the key '%2'; its keys must be 0 to %3")
                                     .arg(field, entry.name).arg(values.size() - 1));
            values[static_cast<size_t>(index)] = entry.value;
        }
        return values;
    }

    Status readChunked(const MsgpackItem &map, const QString &key, const std::vector<MapEntry> &entries)
    {
        qint64 shapeAt = -1;
        qint64 chunksAt = -1;
        for (const MapEntry &entry : entries) {
            if (entry.name == QLatin1String("shape"))
                shapeAt = entry.value;
            else if (entry.name == QLatin1String("chunks"))
                chunksAt = entry.value;
            else if (entry.name != kChunkedMarker)
                return fail(key, QStringLiteral("chunked array: unexpected key '%1'").arg(entry.name));
        }
        if (shapeAt < 0 || chunksAt < 0)
            return fail(key, QStringLiteral("chunked array (map at byte %1) without 'shape' or 'chunks'").arg(map.begin));
        Result<std::vector<qint64>> dims = indexedMap(key, QStringLiteral("shape"), shapeAt, kMaxRank);
        if (!dims)
            return dims.error();
        Shape shape;
        for (qint64 at : *dims) {
            m_decoder.seek(at);
            Result<MsgpackItem> dim = m_decoder.next();
            if (!dim || dim->kind != MsgpackItem::Kind::Int || dim->negative || dim->unsignedValue > quint64(std::numeric_limits<qint64>::max()))
                return fail(key, QStringLiteral("chunked array: the shape holds something other than a non-negative integer"));
            shape.push_back(static_cast<qint64>(dim->unsignedValue));
        }
        Result<std::vector<qint64>> chunks = indexedMap(key, QStringLiteral("chunks"), chunksAt, m_file->size());
        if (!chunks)
            return chunks.error();
        if (chunks->empty())
            return fail(key, QStringLiteral("chunked array without chunks"));
        Segment segment;
        std::optional<DType> dtype;
        qint64 numel = 0;
        for (size_t i = 0; i < chunks->size(); ++i) {
            m_decoder.seek((*chunks)[i]);
            Result<MsgpackItem> ext = m_decoder.next();
            if (!ext || ext->kind != MsgpackItem::Kind::Ext || ext->extType != 1)
                return fail(key, QStringLiteral("chunked array: chunk %1 is not a numpy array (ext type 1)").arg(i));
            Result<ArrayPayload> payload = parsePayload(*ext, join(key, QStringLiteral("chunks/%1").arg(i)));
            if (!payload)
                return payload.error();
            if (!payload->dtype || (dtype && *dtype != *payload->dtype) || payload->shape.size() != 1)
                return fail(key, QStringLiteral("chunked array: chunk %1 is %2 of shape %3, not a 1-d array of the first chunk's dtype")
                                     .arg(i).arg(payload->dtypeName, shapeToString(payload->shape)));
            dtype = payload->dtype;
            numel += payload->shape[0];
            segment.pieces.emplace_back(payload->dataOffset, payload->dataSize);
            segment.size += payload->dataSize;
        }
        if (checkedNumel(shape, std::numeric_limits<qint64>::max() / 16) != numel)
            return fail(key, QStringLiteral("chunked array: shape %1 does not hold the %2 elements of its chunks").arg(shapeToString(shape)).arg(numel));
        TensorEntry entry;
        entry.key = key;
        entry.dtype = *dtype;
        entry.shape = shape;
        entry.segment = m_checkpoint.addSegment(segment);
        return m_checkpoint.addTensor(std::move(entry));
    }

    MappedFilePtr m_file;
    MsgpackDecoder m_decoder;
    Checkpoint m_checkpoint;
    int m_wholeFile = 0;
    qint64 m_keyCharacters = 0;
};

} // namespace

Result<Checkpoint> readFlaxMsgpack(const MappedFilePtr &file)
{
    FlaxMsgpackReader reader(file);
    return reader.run();
}

} // namespace graft
