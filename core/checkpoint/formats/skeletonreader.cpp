// readSkeleton: a Graft skeleton (contract v1) and the .eqx leaves file it names.
//
//   {"format": "graft-skeleton", "version": 1, "framework": "equinox",
//    "leaves_file": "model.eqx",
//    "leaves": [{"path": ".features[0].weight", "kind": "array", "shape": [64, 3, 3, 3],
//                "dtype": "float32"}, ...]}
//
// The leaves are the records of the .eqx in order (eqxreader.h). The skeleton gives them their
// names; every record must agree with its leaf on dtype and shape, and the counts must match,
// or the file was written from another model and a mapping built on it would be wrong.
// leaves_file is relative to the skeleton's folder ("../" allowed); an absolute path is
// refused because a skeleton travels with its leaves file, never alone.

#include "checkpoint/formats/eqxreader.h"
#include "checkpoint/formats/readers.h"
#include "base/firstrepeat.h"
#include "base/strictjson.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

#include <future>

namespace graft {
namespace {

constexpr qint64 kMaxSkeletonSize = 256 * 1024 * 1024;
constexpr int kSupportedVersion = 1;
constexpr int kMaxRank = 64;

struct Leaf {
    QString path;
    LeafKind kind = LeafKind::Array;
    Shape shape;
    DType dtype = DType::Float32;
};

Result<Leaf> parseLeaf(const QJsonValue &value, qsizetype index)
{
    // Messages are built only when needed: a 100k-leaf skeleton parses 100k leaves.
    const auto at = [index] { return QStringLiteral("leaves[%1]").arg(index); };
    if (!value.isObject())
        return Error{QString(), at() + QStringLiteral(" is not a JSON object")};
    const QJsonObject object = value.toObject();
    const QJsonValue path = object.value(QLatin1String("path"));
    if (!path.isString())
        return Error{QString(), at() + QStringLiteral(" has no 'path' string")};
    Leaf leaf;
    leaf.path = path.toString();
    const auto where = [&leaf] { return QStringLiteral("leaf '%1': ").arg(leaf.path); };

    const QString kind = object.value(QLatin1String("kind")).toString();
    if (kind == QLatin1String("array"))
        leaf.kind = LeafKind::Array;
    else if (kind == QLatin1String("scalar"))
        leaf.kind = LeafKind::Scalar;
    else
        return Error{QString(), where() + QStringLiteral("kind '%1' is neither 'array' nor 'scalar'").arg(kind)};

    const QString dtypeText = object.value(QLatin1String("dtype")).toString();
    const std::optional<DType> dtype = dtypeFromName(dtypeText);
    if (!dtype)
        return Error{QString(), where() + QStringLiteral("unknown dtype '%1'").arg(dtypeText)};
    leaf.dtype = *dtype;

    const QJsonValue shape = object.value(QLatin1String("shape"));
    const QJsonArray dims = shape.toArray();
    if (!shape.isArray() || dims.size() > kMaxRank)
        return Error{QString(), where() + QStringLiteral("'shape' is not an array of at most %1 dimensions").arg(kMaxRank)};
    leaf.shape.reserve(static_cast<size_t>(dims.size()));
    for (const QJsonValue &dim : dims) {
        const qint64 size = dim.isDouble() ? dim.toInteger(-1) : -1;
        if (size < 0)
            return Error{QString(), where() + QStringLiteral("'shape' holds something other than a non-negative integer")};
        leaf.shape.push_back(size);
    }
    if (leaf.kind == LeafKind::Scalar && !leaf.shape.empty())
        return Error{QString(), where() + QStringLiteral("a scalar leaf must have shape [], not %1").arg(shapeToString(leaf.shape))};
    return leaf;
}

// Validates the skeleton's own fields; returns its leaves array and fills the other outputs.
Result<QJsonArray> parseSkeletonFields(const QJsonDocument &document, QString &framework, QString &leavesFile)
{
    if (!document.isObject())
        return Error{QString(), QStringLiteral("not a Graft skeleton (the JSON is not an object)")};
    const QJsonObject root = document.object();
    const QJsonValue format = root.value(QLatin1String("format"));
    if (format.toString() != QLatin1String("graft-skeleton"))
        return Error{QString(), format.isString()
                                    ? QStringLiteral("not a Graft skeleton (format is '%1')").arg(format.toString())
                                    : QStringLiteral("not a Graft skeleton (no 'format': 'graft-skeleton')")};
    const QJsonValue version = root.value(QLatin1String("version"));
    if (!version.isDouble())
        return Error{QString(), QStringLiteral("unsupported skeleton version (no numeric 'version')")};
    if (version.toDouble() != kSupportedVersion)
        return Error{QString(), QStringLiteral("unsupported skeleton version %1 (this Graft reads version %2)")
                                    .arg(version.toDouble()).arg(kSupportedVersion)};
    const QJsonValue frameworkValue = root.value(QLatin1String("framework"));
    if (!frameworkValue.isString())
        return Error{QString(), QStringLiteral("'framework' is not a string")};
    framework = frameworkValue.toString();
    leavesFile = root.value(QLatin1String("leaves_file")).toString();
    if (leavesFile.isEmpty())
        return Error{QString(), QStringLiteral("'leaves_file' is missing or not a file name")};
    if (leavesFile.contains(QChar(u'\0'))) // Qt warns; an error naming it is cut at the NUL (fuzz_skeleton)
        return Error{QString(), QStringLiteral("leaves_file holds a NUL character; it must be a file name")};
    if (QDir::isAbsolutePath(leavesFile))
        return Error{QString(), QStringLiteral("leaves_file '%1' is an absolute path; it must be relative to the "
                                               "skeleton's folder").arg(leavesFile)};
    const QJsonValue leavesValue = root.value(QLatin1String("leaves"));
    if (!leavesValue.isArray())
        return Error{QString(), QStringLiteral("'leaves' is not an array")};

    return leavesValue.toArray();
}

Result<std::vector<Leaf>> parseLeaves(const QJsonArray &array)
{
    std::vector<Leaf> leaves;
    leaves.reserve(static_cast<size_t>(array.size()));
    // Parsed up to the first broken leaf; a path repeated before it is reported first, as a
    // check leaf by leaf would (firstrepeat.h: sorted hashes, no set of 100k paths).
    std::optional<Error> broken;
    for (qsizetype i = 0; i < array.size() && !broken; ++i) {
        Result<Leaf> leaf = parseLeaf(array.at(i), i);
        if (leaf)
            leaves.push_back(std::move(leaf).value());
        else
            broken = leaf.error();
    }
    const size_t repeat = firstRepeatedName(leaves.size(), [&leaves](size_t i) -> const QString & { return leaves[i].path; });
    if (repeat < leaves.size())
        return Error{QString(), QStringLiteral("duplicate leaf path '%1'").arg(leaves[repeat].path)};
    if (broken)
        return *broken;
    return leaves;
}

} // namespace

Result<Checkpoint> readSkeleton(const QString &jsonPath)
{
    Result<QJsonDocument> document = readStrictJsonFile(jsonPath, kMaxSkeletonSize);
    if (!document)
        return document.error();
    QString framework;
    QString leavesName;
    Result<QJsonArray> array = parseSkeletonFields(*document, framework, leavesName);
    if (!array)
        return Error{jsonPath, array.error().message};

    // The leaves file's records are walked on a thread of their own while the leaves are parsed
    // (each is a third of opening a 100k-leaf skeleton); void descrs get their dtype from the
    // leaves afterwards. The errors come in the order of a reading one after the other: the
    // skeleton's, the leaves file's, then each record's against its leaf.
    const QString leavesPath = QDir::cleanPath(QFileInfo(jsonPath).absoluteDir().filePath(leavesName));
    struct Walked {
        Result<MappedFilePtr> file = Error{};
        Result<std::vector<EqxRecord>> records = Error{};
    };
    std::future<Walked> walking = std::async(std::launch::async, [leavesPath] {
        Walked walked;
        walked.file = MappedFile::open(leavesPath);
        if (walked.file)
            walked.records = readEqxRecords(**walked.file, {}, true);
        return walked;
    });
    Result<std::vector<Leaf>> leaves = parseLeaves(*array);
    Walked walked = walking.get();
    if (!leaves)
        return Error{jsonPath, leaves.error().message};
    if (!walked.file)
        return walked.file.error();
    const MappedFilePtr &file = *walked.file;
    Result<std::vector<EqxRecord>> &records = walked.records;
    if (!records)
        return records.error();
    if (records->size() != leaves->size())
        return Error{leavesPath, QStringLiteral("holds %1 records but the skeleton %2 lists %3 leaves")
                                     .arg(records->size()).arg(QFileInfo(jsonPath).fileName()).arg(leaves->size())};

    Checkpoint checkpoint(jsonPath, CheckpointFormat::GraftSkeleton);
    checkpoint.addMetadata(QStringLiteral("framework"), framework);
    Segment segment;
    segment.file = checkpoint.addFile(file);
    segment.size = file->size();
    const int segmentIndex = checkpoint.addSegment(segment);
    for (size_t i = 0; i < leaves->size(); ++i) {
        const Leaf &leaf = (*leaves)[i];
        EqxRecord &record = (*records)[i];
        if (record.voidDescr) {
            if (Status resolved = resolveVoidRecord(*file, static_cast<qint64>(i), record, leaf.dtype); !resolved)
                return resolved.error();
        }
        const auto where = [&] { return QStringLiteral("record [%1] for leaf '%2': ").arg(i).arg(leaf.path); };
        if (record.header.dtype != leaf.dtype)
            return Error{leavesPath, where() + QStringLiteral("dtype %1 in the leaves file, %2 in the skeleton")
                                                 .arg(dtypeName(record.header.dtype), dtypeName(leaf.dtype))};
        if (record.header.shape != leaf.shape)
            return Error{leavesPath, where() + QStringLiteral("shape %1 in the leaves file, %2 in the skeleton")
                                                 .arg(shapeToString(record.header.shape), shapeToString(leaf.shape))};
        TensorEntry entry;
        entry.key = leaf.path;
        entry.dtype = leaf.dtype;
        entry.shape = leaf.shape;
        entry.strides = record.header.strides();
        entry.segment = segmentIndex;
        entry.byteOffset = record.dataOffset;
        entry.bigEndian = record.header.bigEndian;
        entry.kind = leaf.kind;
        if (Status status = checkpoint.addTensor(std::move(entry)); !status)
            return status.error();
    }
    return checkpoint;
}

} // namespace graft
