// readSafetensors and readSafetensorsIndex (huggingface/safetensors).
//
// Layout of a .safetensors file:
//   u64 N, little-endian                      header size, at most 100,000,000
//   N bytes of UTF-8 JSON, starting with '{'  (padded with spaces to a multiple of 8)
//     {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...,
//      "__metadata__": {"key": "value", ...}}
//   the data section: BEGIN/END are relative to its start
// Valid only if END - BEGIN == numel * itemsize for every tensor, the spans sorted by offset
// run contiguously from 0 with no hole or overlap, the last END is the end of the file, and
// no name repeats. Tensors are listed sorted by name, as safe_open().keys() lists them.
//
// A sharded checkpoint is `*.safetensors.index.json`:
//   {"metadata": {"total_size": ...}, "weight_map": {"NAME": "model-00001-of-00002.safetensors"}}
// with shard files relative to the index's folder.

#include "checkpoint/formats/readers.h"
#include "base/strictjson.h"
#include "base/strictjsondom.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QSet>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <set>

namespace graft {
namespace {

constexpr quint64 kMaxHeaderSize = 100'000'000;
constexpr qint64 kMaxIndexSize = 64 * 1024 * 1024;
constexpr int kMaxRank = 64;

struct DTypeName {
    const char *name;
    DType dtype;
};

constexpr std::array<DTypeName, 16> kDTypes{{
    {"BOOL", DType::Bool}, {"U8", DType::UInt8}, {"I8", DType::Int8}, {"I16", DType::Int16},
    {"U16", DType::UInt16}, {"F16", DType::Float16}, {"BF16", DType::BFloat16}, {"I32", DType::Int32},
    {"U32", DType::UInt32}, {"F32", DType::Float32}, {"F64", DType::Float64}, {"I64", DType::Int64},
    {"U64", DType::UInt64}, {"C64", DType::Complex64}, {"F8_E4M3", DType::Float8E4M3},
    {"F8_E5M2", DType::Float8E5M2},
}};

struct ShardTensor {
    QString key;
    QByteArray sortKey;  // UTF-8: byte order is code point order, as Rust sorts Strings
    DType dtype = DType::Float32;
    Shape shape;
    qint64 begin = 0;
    qint64 end = 0;
};

struct Shard {
    qint64 dataStart = 0;
    qint64 dataSize = 0;
    std::vector<ShardTensor> tensors;  // sorted by key
    std::vector<std::pair<QString, QString>> metadata;
};

// A JSON number that is a whole number in [0, 2^63), or -1.
qint64 nonNegativeInteger(simdjson::dom::element value)
{
    const qint64 whole = jsonWholeNumber(value).value_or(-1);
    return whole >= 0 ? whole : -1;
}

Result<ShardTensor> parseEntry(std::string_view name, simdjson::dom::element value)
{
    ShardTensor tensor;
    tensor.key = jsonText(name);
    // Built only for an error: a header can list 100k tensors.
    auto failure = [&tensor](const QString &what) { return Error{QString(), QStringLiteral("tensor '%1': ").arg(tensor.key) + what}; };
    simdjson::dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS)
        return failure(QStringLiteral("entry is not a JSON object"));
    tensor.sortKey = QByteArray(name.data(), static_cast<qsizetype>(name.size()));

    std::string_view dtypeText;
    if (object.at_key("dtype").get_string().get(dtypeText) != simdjson::SUCCESS)
        dtypeText = {};
    auto known = std::find_if(kDTypes.begin(), kDTypes.end(), [&](const DTypeName &entry) { return dtypeText == entry.name; });
    if (known == kDTypes.end()) {
        const bool rareFloat = dtypeText.substr(0, 3) == "F8_" || dtypeText.substr(0, 3) == "F6_" || dtypeText == "F4";
        return failure(QStringLiteral("unsupported dtype '%1'%2").arg(jsonText(dtypeText), rareFloat
            ? QStringLiteral(" (only F8_E4M3 and F8_E5M2 of the 8-bit and smaller floats)") : QString()));
    }
    tensor.dtype = known->dtype;

    simdjson::dom::array dims;
    if (object.at_key("shape").get_array().get(dims) != simdjson::SUCCESS)
        return failure(QStringLiteral("'shape' is not an array"));
    if (dims.size() > static_cast<size_t>(kMaxRank))
        return failure(QStringLiteral("%1 dimensions (at most %2)").arg(dims.size()).arg(kMaxRank));
    tensor.shape.reserve(dims.size());
    for (simdjson::dom::element dim : dims) {
        const qint64 size = nonNegativeInteger(dim);
        if (size < 0)
            return failure(QStringLiteral("'shape' holds something other than a non-negative integer"));
        tensor.shape.push_back(size);
    }
    const qint64 numel = checkedNumel(tensor.shape, std::numeric_limits<qint64>::max() / dtypeSize(tensor.dtype));
    if (numel < 0)
        return failure(QStringLiteral("shape %1 is too large (its byte size overflows)").arg(shapeToString(tensor.shape)));

    simdjson::dom::array offsets;
    const bool pair = object.at_key("data_offsets").get_array().get(offsets) == simdjson::SUCCESS && offsets.size() == 2;
    tensor.begin = pair ? nonNegativeInteger(offsets.at(0).value_unsafe()) : -1;
    tensor.end = pair ? nonNegativeInteger(offsets.at(1).value_unsafe()) : -1;
    if (tensor.begin < 0 || tensor.end < 0)
        return failure(QStringLiteral("'data_offsets' is not a pair of non-negative integers"));
    if (tensor.end < tensor.begin)
        return failure(QStringLiteral("data_offsets [%1, %2] end before they begin").arg(tensor.begin).arg(tensor.end));
    const qint64 nbytes = numel * dtypeSize(tensor.dtype);
    if (tensor.end - tensor.begin != nbytes)
        return failure(QStringLiteral("data_offsets [%1, %2] span %3 bytes but shape %4 of %5 needs %6")
                           .arg(tensor.begin).arg(tensor.end).arg(tensor.end - tensor.begin)
                           .arg(shapeToString(tensor.shape), known->name).arg(nbytes));
    return tensor;
}

// Parses and validates one .safetensors file. Errors carry no file name; callers add it.
// The header is parsed by simdjson (strictjsondom.h): a 100k-tensor header is ~10 MB of JSON.
// Entries are checked in the header's order; the first error found is reported.
Result<Shard> parseShard(const MappedFile &file)
{
    if (file.size() < 8)
        return Error{QString(), QStringLiteral("%1 bytes is too short for a safetensors header").arg(file.size())};
    quint64 headerSize = 0;
    std::memcpy(&headerSize, file.data(), 8);
    if (headerSize > kMaxHeaderSize)
        return Error{QString(), QStringLiteral("header size %1 exceeds the limit of %2 bytes").arg(headerSize).arg(kMaxHeaderSize)};
    if (headerSize > static_cast<quint64>(file.size() - 8))
        return Error{QString(), QStringLiteral("header size %1 runs past the end of the file (%2 bytes follow the size)")
                                    .arg(headerSize).arg(file.size() - 8)};
    if (headerSize == 0 || file.data()[8] != '{')
        return Error{QString(), QStringLiteral("header does not start with '{'")};

    const QByteArray text = QByteArray::fromRawData(reinterpret_cast<const char *>(file.data() + 8),
                                                    static_cast<qsizetype>(headerSize));
    Result<std::unique_ptr<JsonDom>> document = parseStrictJsonDom(text);
    if (!document)
        return Error{QString(), QStringLiteral("header: ") + document.error().message};
    simdjson::dom::object root;
    if ((*document)->root.get_object().get(root) != simdjson::SUCCESS)
        return Error{QString(), QStringLiteral("header is not a JSON object")};

    Shard shard;
    shard.dataStart = 8 + static_cast<qint64>(headerSize);
    shard.dataSize = file.size() - shard.dataStart;
    shard.tensors.reserve(root.size());
    for (simdjson::dom::key_value_pair field : root) {
        if (field.key == "__metadata__") {
            simdjson::dom::object metadata;
            if (field.value.get_object().get(metadata) != simdjson::SUCCESS)
                return Error{QString(), QStringLiteral("__metadata__ is not a JSON object")};
            for (simdjson::dom::key_value_pair entry : metadata) {
                std::string_view value;
                if (entry.value.get_string().get(value) != simdjson::SUCCESS)
                    return Error{QString(), QStringLiteral("__metadata__ value of '%1' is not a string").arg(jsonText(entry.key))};
                shard.metadata.emplace_back(jsonText(entry.key), jsonText(value));
            }
            // In key order, as QJsonObject listed them before (inspect shows them in this order).
            std::sort(shard.metadata.begin(), shard.metadata.end());
            continue;
        }
        Result<ShardTensor> tensor = parseEntry(field.key, field.value);
        if (!tensor)
            return tensor.error();
        shard.tensors.push_back(std::move(tensor).value());
    }

    // Contiguity: sorted by offsets, each span starts where the previous one ended.
    std::vector<const ShardTensor *> byOffset;
    byOffset.reserve(shard.tensors.size());
    for (const ShardTensor &tensor : shard.tensors)
        byOffset.push_back(&tensor);
    std::sort(byOffset.begin(), byOffset.end(), [](const ShardTensor *a, const ShardTensor *b) {
        return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
    });
    qint64 expected = 0;
    for (const ShardTensor *tensor : byOffset) {
        if (tensor->begin != expected)
            return Error{QString(), QStringLiteral("tensor '%1': data_offsets [%2, %3] %4 the previous tensor's data, "
                                                   "which ends at %5")
                                        .arg(tensor->key).arg(tensor->begin).arg(tensor->end)
                                        .arg(tensor->begin > expected ? QStringLiteral("leave a hole after")
                                                                      : QStringLiteral("overlap"))
                                        .arg(expected)};
        expected = tensor->end;
    }
    if (expected != shard.dataSize)
        return Error{QString(), QStringLiteral("the tensors' data ends at offset %1 but the data section holds %2 bytes")
                                    .arg(expected).arg(shard.dataSize)};

    std::sort(shard.tensors.begin(), shard.tensors.end(),
              [](const ShardTensor &a, const ShardTensor &b) { return a.sortKey < b.sortKey; });
    return shard;
}

// One segment over the shard's data section; returns its index.
int addShardSegment(Checkpoint &checkpoint, const MappedFilePtr &file, const Shard &shard)
{
    Segment segment;
    segment.file = checkpoint.addFile(file);
    segment.offset = shard.dataStart;
    segment.size = shard.dataSize;
    return checkpoint.addSegment(segment);
}

Status addShardTensor(Checkpoint &checkpoint, const ShardTensor &tensor, int segment)
{
    TensorEntry entry;
    entry.key = tensor.key;
    entry.dtype = tensor.dtype;
    entry.shape = tensor.shape;
    entry.segment = segment;
    entry.byteOffset = tensor.begin;
    return checkpoint.addTensor(std::move(entry));
}

QString metadataText(const QJsonValue &value)
{
    if (value.isString())
        return value.toString();
    if (value.isDouble())
        return value.toInteger(-1) >= 0 ? QString::number(value.toInteger()) : QString::number(value.toDouble());
    if (value.isBool())
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    const QJsonDocument document = value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    return QString::fromUtf8(document.toJson(QJsonDocument::Compact));
}

} // namespace

Result<Checkpoint> readSafetensors(const MappedFilePtr &file)
{
    Result<Shard> shard = parseShard(*file);
    if (!shard)
        return Error{file->path(), shard.error().message};
    Checkpoint checkpoint(file->path(), CheckpointFormat::Safetensors);
    const int segment = addShardSegment(checkpoint, file, *shard);
    for (const ShardTensor &tensor : shard->tensors) {
        if (Status status = addShardTensor(checkpoint, tensor, segment); !status)
            return status.error();
    }
    for (auto &[key, value] : shard->metadata)
        checkpoint.addMetadata(key, value);
    return checkpoint;
}

Result<Checkpoint> readSafetensorsIndex(const QString &indexPath)
{
    Result<QJsonDocument> document = readStrictJsonFile(indexPath, kMaxIndexSize);
    if (!document)
        return document.error();
    if (!document->isObject())
        return Error{indexPath, QStringLiteral("not a safetensors index (the JSON is not an object)")};
    const QJsonObject root = document->object();
    const QJsonValue weightMapValue = root.value(QLatin1String("weight_map"));
    if (!weightMapValue.isObject())
        return Error{indexPath, QStringLiteral("not a safetensors index (no 'weight_map' object)")};
    const QJsonObject weightMap = weightMapValue.toObject();
    if (weightMap.isEmpty())
        return Error{indexPath, QStringLiteral("the weight_map is empty")};

    // Shard name -> the tensor names the index places there.
    std::map<QString, std::set<QString>> wanted;
    for (auto it = weightMap.begin(); it != weightMap.end(); ++it) {
        const QString shardName = it.value().toString();
        if (shardName.isEmpty())
            return Error{indexPath, QStringLiteral("weight_map entry '%1' is not a file name").arg(it.key())};
        // A NUL cannot be in a file name: Qt warns on stderr, and the error naming the path is cut
        // short where it is printed as a C string (found by fuzz_safetensorsindex).
        if (shardName.contains(QChar(u'\0')))
            return Error{indexPath, QStringLiteral("weight_map entry '%1' names a file with a NUL character in it").arg(it.key())};
        if (QDir::isAbsolutePath(shardName))
            return Error{indexPath, QStringLiteral("weight_map entry '%1' names an absolute path '%2'; shards must be "
                                                   "relative to the index's folder").arg(it.key(), shardName)};
        wanted[shardName].insert(it.key());
    }

    Checkpoint checkpoint(indexPath, CheckpointFormat::Safetensors);
    const QJsonObject metadata = root.value(QLatin1String("metadata")).toObject();
    for (auto it = metadata.begin(); it != metadata.end(); ++it)
        checkpoint.addMetadata(it.key(), metadataText(it.value()));

    struct Placed {
        ShardTensor tensor;
        int segment;
    };
    std::vector<Placed> placed;
    const QDir folder = QFileInfo(indexPath).absoluteDir();
    for (const auto &[shardName, names] : wanted) {
        const QString shardPath = QDir::cleanPath(folder.filePath(shardName));
        Result<MappedFilePtr> file = MappedFile::open(shardPath);
        if (!file)
            return file.error();
        Result<Shard> shard = parseShard(**file);
        if (!shard)
            return Error{shardPath, shard.error().message};
        // The first mismatch in name order, naming the file that lacks the entry.
        for (const ShardTensor &tensor : shard->tensors) {
            if (names.count(tensor.key) == 0) {
                const QString elsewhere = weightMap.value(tensor.key).toString();
                return Error{indexPath, QStringLiteral("shard '%1' holds tensor '%2', which the weight_map %3")
                                            .arg(shardName, tensor.key, elsewhere.isEmpty()
                                                 ? QStringLiteral("does not list")
                                                 : QStringLiteral("places in '%1'").arg(elsewhere))};
            }
        }
        QSet<QString> held;
        for (const ShardTensor &tensor : shard->tensors)
            held.insert(tensor.key);
        for (const QString &name : names) {
            if (!held.contains(name))
                return Error{shardPath, QStringLiteral("the index's weight_map places tensor '%1' in this shard, "
                                                       "but it holds no such tensor").arg(name)};
        }
        const int segment = addShardSegment(checkpoint, *file, *shard);
        for (ShardTensor &tensor : shard->tensors)
            placed.push_back(Placed{std::move(tensor), segment});
        for (auto &[key, value] : shard->metadata) {
            const auto &present = checkpoint.metadata();
            if (std::none_of(present.begin(), present.end(), [&metadataKey = key](const auto &pair) { return pair.first == metadataKey; }))
                checkpoint.addMetadata(key, value);
        }
    }

    std::sort(placed.begin(), placed.end(),
              [](const Placed &a, const Placed &b) { return a.tensor.sortKey < b.tensor.sortKey; });
    for (const Placed &entry : placed) {
        if (Status status = addShardTensor(checkpoint, entry.tensor, entry.segment); !status)
            return status.error();
    }
    return checkpoint;
}

} // namespace graft
