// writeCheckpoint(): checks everything that can be checked before a file exists (protected
// destination, specs, names, dtypes the format can hold), then hands the leaves to the
// format's writer inside an atomic save. The formats live in writers/ (formatwriters.h).

#include "checkpoint/checkpointwriter.h"

#include "checkpoint/writers/formatwriters.h"

#include <QFileInfo>

#include <new>

namespace graft {
namespace {

// .npy headers (eqx, npz) are written for at most this many dimensions; numpy allows 64.
constexpr int kMaxNpyRank = 64;
// LibTorch and safetensors have no rank limit worth enforcing; this only bounds header sizes.
constexpr int kMaxRank = 1024;

// options.metadata in order, a repeated key keeping its last value, then graft_version
// (replacing any given one: the file is written by this Graft).
std::vector<std::pair<QString, QString>> safetensorsMetadata(const std::vector<std::pair<QString, QString>> &given)
{
    std::vector<std::pair<QString, QString>> metadata;
    auto put = [&metadata](const QString &key, const QString &value) {
        for (auto &entry : metadata) {
            if (entry.first == key) {
                entry.second = value;
                return;
            }
        }
        metadata.emplace_back(key, value);
    };
    for (const auto &[key, value] : given) {
        if (key != QLatin1String("graft_version"))
            put(key, value);
    }
    put(QStringLiteral("graft_version"), QStringLiteral(GRAFT_VERSION));
    return metadata;
}

} // namespace

QString outputFormatName(OutputFormat format)
{
    switch (format) {
    case OutputFormat::Eqx: return QStringLiteral("eqx");
    case OutputFormat::Safetensors: return QStringLiteral("safetensors");
    case OutputFormat::Npz: return QStringLiteral("npz");
    case OutputFormat::Torch: return QStringLiteral("pt");
    case OutputFormat::FlaxMsgpack: return QStringLiteral("msgpack");
    }
    return QString();
}

std::optional<OutputFormat> outputFormatFromName(const QString &nameOrSuffix)
{
    const qsizetype dot = nameOrSuffix.lastIndexOf(QLatin1Char('.'));
    const QString name = nameOrSuffix.mid(dot + 1).toLower();
    if (name == QLatin1String("eqx"))
        return OutputFormat::Eqx;
    if (name == QLatin1String("safetensors"))
        return OutputFormat::Safetensors;
    if (name == QLatin1String("npz"))
        return OutputFormat::Npz;
    if (name == QLatin1String("pt"))
        return OutputFormat::Torch;
    if (name == QLatin1String("msgpack"))
        return OutputFormat::FlaxMsgpack;
    // .pth and .bin are torch.save suffixes, not format names.
    if (dot >= 0 && (name == QLatin1String("pth") || name == QLatin1String("bin")))
        return OutputFormat::Torch;
    return std::nullopt;
}

WriteOptions combinedWriteOptions(OutputFormat format, const Checkpoint &source, const QString &sourcePath, const Checkpoint &target,
                                  const QString &targetPath)
{
    WriteOptions options;
    options.format = format;
    options.protectedPaths = {sourcePath, targetPath};
    for (const MappedFilePtr &file : source.files())
        options.protectedPaths << file->path();
    for (const MappedFilePtr &file : target.files())
        options.protectedPaths << file->path();
    options.metadata = {{QStringLiteral("graft_source"), QFileInfo(sourcePath).fileName()},
                        {QStringLiteral("graft_target"), QFileInfo(targetPath).fileName()}};
    if (target.format() == CheckpointFormat::FlaxMsgpack)
        options.layout = target;
    return options;
}

static Result<WriteSummary> writeCheckpointUnguarded(const QString &path, const std::vector<OutputLeaf> &leaves, const WriteOptions &options)
{
    using namespace writers;
    if (path.isEmpty())
        return Error{QString(), QStringLiteral("no output file given")};
    if (Status status = checkNotProtected(path, options.protectedPaths); !status)
        return status.error();
    const bool npyRecords = options.format == OutputFormat::Eqx || options.format == OutputFormat::Npz;
    if (Status status = checkLeafSpecs(path, leaves, npyRecords ? kMaxNpyRank : kMaxRank); !status)
        return status.error();

    const LeafStream stream(path, leaves, options.progress);
    const qint64 count = static_cast<qint64>(leaves.size());
    switch (options.format) {
    case OutputFormat::Eqx:
        return writeAtomically(path, count, [&](OutputSink &sink) { return writeEqx(sink, stream); });
    case OutputFormat::Safetensors: {
        if (Status status = checkUniqueKeys(path, leaves); !status)
            return status.error();
        Result<QByteArray> header = safetensorsHeader(path, leaves, safetensorsMetadata(options.metadata));
        if (!header)
            return header.error();
        return writeAtomically(path, count, [&](OutputSink &sink) { return writeSafetensors(sink, stream, *header); });
    }
    case OutputFormat::Npz:
        if (Status status = checkNpz(path, leaves); !status)
            return status.error();
        return writeAtomically(path, count, [&](OutputSink &sink) { return writeNpz(sink, stream); });
    case OutputFormat::Torch:
        if (Status status = checkTorch(path, leaves); !status)
            return status.error();
        return writeAtomically(path, count, [&](OutputSink &sink) { return writeTorch(sink, stream); });
    case OutputFormat::FlaxMsgpack: {
        if (Status status = checkUniqueKeys(path, leaves); !status)
            return status.error();
        Result<MsgpackPlan> plan = planMsgpack(path, leaves, options.layout, options.msgpackChunkBytes);
        if (!plan)
            return plan.error();
        // The tree's order, which differs from the leaves' when their keys interleave subtrees.
        const LeafStream ordered(path, plan->leaves, options.progress);
        return writeAtomically(path, count, [&](OutputSink &sink) { return writeMsgpack(sink, ordered, *plan, options.msgpackChunkBytes); });
    }
    }
    return Error{path, QStringLiteral("unknown output format")};
}

Result<WriteSummary> writeCheckpoint(const QString &path, const std::vector<OutputLeaf> &leaves, const WriteOptions &options)
{
    // std::bad_alloc from any step (a transform's buffer, a header) is an error, never a crash;
    // the atomic save then leaves no partial file.
    try {
        return writeCheckpointUnguarded(path, leaves, options);
    } catch (const std::bad_alloc &) {
        return Error{path, QStringLiteral("not enough memory to write it")};
    }
}

} // namespace graft
