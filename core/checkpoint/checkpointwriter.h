#pragma once
// Writes a checkpoint file one tensor at a time, atomically: the bytes go to a temporary file
// in the destination folder, which is renamed over the destination only when complete. On any
// error or cancel, no output and no temporary file remain and an existing destination file is
// untouched.

#include "checkpoint/checkpoint.h"
#include "base/progress.h"
#include "base/result.h"

#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <vector>

namespace graft {

enum class OutputFormat { Eqx, Safetensors, Npz, Torch, FlaxMsgpack };

/// "eqx", "safetensors", "npz", "pt", "msgpack".
QString outputFormatName(OutputFormat format);
/// From a name ("eqx", "safetensors", "npz", "pt", "msgpack") or a file suffix (".eqx", ".safetensors",
/// ".npz", ".pt"/".pth"/".bin", ".msgpack"); std::nullopt when unknown.
std::optional<OutputFormat> outputFormatFromName(const QString &nameOrSuffix);

/// One tensor of the output. `produce` is called exactly once, in order, when the writer
/// reaches this leaf; it returns the leaf's contiguous little-endian bytes (which must be
/// spec.dtype × spec.shape), so peak memory is one tensor, not the model.
struct OutputLeaf {
    QString key;
    TensorSpec spec;
    std::function<Result<TensorBytes>()> produce;
};

struct WriteOptions {
    OutputFormat format = OutputFormat::Safetensors;
    /// safetensors __metadata__ (string -> string); Graft adds "graft_version".
    std::vector<std::pair<QString, QString>> metadata;
    /// Paths the output must not replace (the inputs).
    QStringList protectedPaths;
    ProgressCallback progress;
    /// Flax msgpack: the checkpoint whose tree the output follows (combinedWriteOptions() sets
    /// the target when it is a Flax msgpack): its empty maps and non-array values are written
    /// back in their places and its numpy scalars stay numpy scalars. Unset: the keys alone.
    std::optional<Checkpoint> layout;
    /// Flax msgpack: arrays over this many bytes become Flax's chunked arrays (MAX_CHUNK_SIZE).
    qint64 msgpackChunkBytes = qint64(1) << 30;
};

struct WriteSummary {
    qint64 leaves = 0;
    qint64 bytes = 0; ///< size of the written file
};

/// The options for writing what Graft combined from `source` (opened from `sourcePath`) and
/// `target` (from `targetPath`) as `format`, the same in the CLI's `convert` and the GUI's
/// Combine & Save: both inputs and every file they read (shards) are protected, and the
/// metadata names both inputs ("graft_source", "graft_target": file names). No progress.
WriteOptions combinedWriteOptions(OutputFormat format, const Checkpoint &source, const QString &sourcePath, const Checkpoint &target,
                                  const QString &targetPath);

/// Writes `leaves` to `path` in `options.format`. Errors name the output file, or the leaf
/// whose bytes could not be produced.
Result<WriteSummary> writeCheckpoint(const QString &path, const std::vector<OutputLeaf> &leaves, const WriteOptions &options);

} // namespace graft
