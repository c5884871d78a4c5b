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
#include "base/strictjsondom.h"

#include <QDir>
#include <QFileInfo>

#include <future>
#include <optional>

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

// The string at `object[name]`, or nothing when the field is missing or not a string.
std::optional<std::string_view> stringField(simdjson::dom::object object, std::string_view name)
{
    std::string_view text;
    if (object.at_key(name).get_string().get(text) != simdjson::SUCCESS)
        return std::nullopt;
    return text;
}

Result<Leaf> parseLeaf(simdjson::dom::element value, qsizetype index)
{
    // Messages are built only when needed: a 100k-leaf skeleton parses 100k leaves.
    const auto at = [index] { return QStringLiteral("leaves[%1]").arg(index); };
    simdjson::dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS)
        return Error{QString(), at() + QStringLiteral(" is not a JSON object")};
    const std::optional<std::string_view> path = stringField(object, "path");
    if (!path)
        return Error{QString(), at() + QStringLiteral(" has no 'path' string")};
    Leaf leaf;
    leaf.path = jsonText(*path);
    const auto where = [&leaf] { return QStringLiteral("leaf '%1': ").arg(leaf.path); };

    const std::string_view kind = stringField(object, "kind").value_or(std::string_view());
    if (kind == "array")
        leaf.kind = LeafKind::Array;
    else if (kind == "scalar")
        leaf.kind = LeafKind::Scalar;
    else
        return Error{QString(), where() + QStringLiteral("kind '%1' is neither 'array' nor 'scalar'").arg(jsonText(kind))};

    const QString dtypeText = jsonText(stringField(object, "dtype").value_or(std::string_view()));
    const std::optional<DType> dtype = dtypeFromName(dtypeText);
    if (!dtype)
        return Error{QString(), where() + QStringLiteral("unknown dtype '%1'").arg(dtypeText)};
    leaf.dtype = *dtype;

    simdjson::dom::array dims;
    if (object.at_key("shape").get_array().get(dims) != simdjson::SUCCESS || dims.size() > static_cast<size_t>(kMaxRank))
        return Error{QString(), where() + QStringLiteral("'shape' is not an array of at most %1 dimensions").arg(kMaxRank)};
    leaf.shape.reserve(dims.size());
    for (simdjson::dom::element dim : dims) {
        const qint64 size = jsonWholeNumber(dim).value_or(-1);
        if (size < 0)
            return Error{QString(), where() + QStringLiteral("'shape' holds something other than a non-negative integer")};
        leaf.shape.push_back(size);
    }
    if (leaf.kind == LeafKind::Scalar && !leaf.shape.empty())
        return Error{QString(), where() + QStringLiteral("a scalar leaf must have shape [], not %1").arg(shapeToString(leaf.shape))};
    return leaf;
}

// Validates the skeleton's own fields; returns its leaves array and fills the other outputs.
Result<simdjson::dom::array> parseSkeletonFields(simdjson::dom::element document, QString &framework, QString &leavesFile)
{
    simdjson::dom::object root;
    if (document.get_object().get(root) != simdjson::SUCCESS)
        return Error{QString(), QStringLiteral("not a Graft skeleton (the JSON is not an object)")};
    const std::optional<std::string_view> format = stringField(root, "format");
    if (format != std::optional<std::string_view>("graft-skeleton"))
        return Error{QString(), format ? QStringLiteral("not a Graft skeleton (format is '%1')").arg(jsonText(*format))
                                       : QStringLiteral("not a Graft skeleton (no 'format': 'graft-skeleton')")};
    double version = 0;
    if (root.at_key("version").get_double().get(version) != simdjson::SUCCESS)
        return Error{QString(), QStringLiteral("unsupported skeleton version (no numeric 'version')")};
    if (version != kSupportedVersion)
        return Error{QString(), QStringLiteral("unsupported skeleton version %1 (this Graft reads version %2)")
                                    .arg(version).arg(kSupportedVersion)};
    const std::optional<std::string_view> frameworkText = stringField(root, "framework");
    if (!frameworkText)
        return Error{QString(), QStringLiteral("'framework' is not a string")};
    framework = jsonText(*frameworkText);
    leavesFile = jsonText(stringField(root, "leaves_file").value_or(std::string_view()));
    if (leavesFile.isEmpty())
        return Error{QString(), QStringLiteral("'leaves_file' is missing or not a file name")};
    if (leavesFile.contains(QChar(u'\0'))) // Qt warns; an error naming it is cut at the NUL (fuzz_skeleton)
        return Error{QString(), QStringLiteral("leaves_file holds a NUL character; it must be a file name")};
    if (QDir::isAbsolutePath(leavesFile))
        return Error{QString(), QStringLiteral("leaves_file '%1' is an absolute path; it must be relative to the "
                                               "skeleton's folder").arg(leavesFile)};
    simdjson::dom::array leaves;
    if (root.at_key("leaves").get_array().get(leaves) != simdjson::SUCCESS)
        return Error{QString(), QStringLiteral("'leaves' is not an array")};
    return leaves;
}

Result<std::vector<Leaf>> parseLeaves(simdjson::dom::array array)
{
    std::vector<Leaf> leaves;
    leaves.reserve(array.size());
    // Parsed up to the first broken leaf; a path repeated before it is reported first, as a
    // check leaf by leaf would (firstrepeat.h: sorted hashes, no set of 100k paths).
    std::optional<Error> broken;
    qsizetype i = 0;
    for (simdjson::dom::element value : array) {
        Result<Leaf> leaf = parseLeaf(value, i++);
        if (!leaf) {
            broken = leaf.error();
            break;
        }
        leaves.push_back(std::move(leaf).value());
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
    Result<std::unique_ptr<JsonDom>> document = readStrictJsonDomFile(jsonPath, kMaxSkeletonSize);
    if (!document)
        return document.error();
    QString framework;
    QString leavesName;
    Result<simdjson::dom::array> array = parseSkeletonFields((*document)->root, framework, leavesName);
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
