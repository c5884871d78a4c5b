#pragma once
// Internal to writeCheckpoint() (checkpointwriter.cpp): the machinery every output format
// shares, and one writer per format. Not part of core's API; tests include it only to reach
// what the public call hides (forcing ZIP64 records on a small .npz).
//
// How a write goes:
//   1. checkpointwriter.cpp refuses protected destinations and runs the format's checks
//      (dtypes, duplicate keys, sizes) before any file exists;
//   2. writeAtomically() opens a QSaveFile beside the destination (an unnamed O_TMPFILE on
//      Linux, a hidden temporary elsewhere) and runs the format's streaming writer on it;
//   3. the streaming writer asks a LeafStream for each leaf in order (produce() once, bytes
//      checked, written, dropped), which reports progress and turns a cancel into an error;
//   4. the file is renamed over the destination only when the writer succeeded; otherwise the
//      temporary is discarded and an existing destination is untouched.

#include "base/mappedfilecursor.h"
#include "checkpoint/checkpointwriter.h"

#include <QByteArray>
#include <QFileDevice>

#include <functional>
#include <optional>
#include <vector>

namespace graft::writers {

/// What a write is for, named in its error ("leaf 'blocks.0.weight'", "the zip central
/// directory"). A leaf's text is made only when an error is reported: a 100k-leaf save built
/// 100k "leaf '…'" strings for nothing (45 ms, a read of every key). Passed by reference to
/// the call it describes, never kept: it points at strings the caller holds.
class WriteSubject {
public:
    WriteSubject(const QString &text) : m_text(&text) {} // any text names a subject
    static WriteSubject leaf(const QString &key)
    {
        WriteSubject subject(key);
        subject.m_isLeaf = true;
        return subject;
    }
    QString text() const { return m_isLeaf ? QStringLiteral("leaf '%1'").arg(*m_text) : *m_text; }

private:
    const QString *m_text;
    bool m_isLeaf = false;
};

/// The open temporary output. Tracks the write position; every failure names the destination.
class OutputSink {
public:
    OutputSink(QFileDevice &device, QString path) : m_device(device), m_path(std::move(path)) {}
    OutputSink(const OutputSink &) = delete;
    OutputSink &operator=(const OutputSink &) = delete;

    /// Appends `size` bytes; `what` says what they are ("the header of leaf 'x'").
    Status write(const char *data, qint64 size, const WriteSubject &what);
    Status write(const QByteArray &bytes, const WriteSubject &what) { return write(bytes.constData(), bytes.size(), what); }
    /// write() for bytes whose description costs more than they do (100k zip headers): `describe()`
    /// builds it only when the bytes go straight to the file; a buffered write never fails (a
    /// failed flush names the output and the position instead).
    template <typename Describe>
    Status writeDescribed(const char *data, qint64 size, const Describe &describe)
    {
        return size < kBufferBytes ? write(data, size, QString()) : write(data, size, describe());
    }
    /// Appends a tensor's bytes. A zero-copy view of a mapped input is copied file to file in
    /// the kernel (copy_file_range, as cp does) so its pages never enter this process: peak
    /// memory stays flat and no page faults are taken. Falls back to write() from memory where
    /// the kernel can't (another file system, no support).
    Status write(const TensorBytes &bytes, const WriteSubject &what);
    /// Overwrites bytes written earlier at `position` (a zip CRC), then returns to the end.
    Status patch(qint64 position, const QByteArray &bytes, const WriteSubject &what);

    /// Hands what is buffered to the file. writeAtomically() calls it before committing.
    Status flush();

    qint64 position() const { return m_position; }
    const QString &path() const { return m_path; }

private:
    /// Writes straight to the device, past the buffer (which must be empty).
    Status writeThrough(const char *data, qint64 size, const WriteSubject &what);
    /// Starts the writeback of what the file holds up to `written` (Linux), 8 MiB at a time.
    void startWriteback(qint64 written);
    static constexpr qint64 kWritebackStep = qint64(8) << 20;

    QFileDevice &m_device;
    QString m_path;
    qint64 m_position = 0; ///< bytes written, the buffered ones included
    bool m_fileCopy = true; ///< copy_file_range works here (cleared after EXDEV/ENOSYS/...)
    qint64 m_writebackFrom = 0; ///< the file's bytes before this were handed to writeback
    /// Small writes gather here and reach the file 1 MiB at a time: 100k small tensors, each a
    /// header and its data, otherwise cost a system call or two each (W6: 33k write() calls
    /// through QFileDevice's 16 KiB buffer).
    std::vector<char> m_buffer;
    qint64 m_buffered = 0;
    static constexpr qint64 kBufferBytes = qint64(1) << 20;

    /// Small tensors of a mapped input are copied from the map through a cursor (7k faults for a
    /// 100k-tensor file instead of 100k preads; the pages read are given back as it goes). The
    /// sink keeps the file open while its cursor lives.
    void copyFromMap(const MappedFilePtr &file, const uchar *data, qint64 size);
    MappedFilePtr m_cursorFile;
    std::optional<MappedFileCursor> m_cursor;

};

/// The leaves in order. Small leaves (under kAheadLeafBytes) are produced on a thread of their
/// own, up to kAheadBytes / kAheadLeaves ahead of the one being written (a 100k-leaf model's
/// casts and reads overlap its writes); a larger leaf is produced only once every leaf before it
/// is written and reported, so at most one large leaf's bytes are ever alive. `leaves` must
/// outlive it; produce() must not depend on the thread it runs on (it reads checkpoints).
class LeafStream {
public:
    LeafStream(QString path, const std::vector<OutputLeaf> &leaves, const ProgressCallback &progress)
        : m_path(std::move(path)), m_leaves(leaves), m_progress(progress) {}

    const std::vector<OutputLeaf> &leaves() const { return m_leaves; }
    size_t size() const { return m_leaves.size(); }

    /// What a format writes for one leaf: `bytes` are its data (exactly the spec's byte count),
    /// `what` names it in errors ("leaf 'x'").
    using LeafWriter = std::function<Status(size_t index, const OutputLeaf &leaf, const TensorBytes &bytes, const WriteSubject &what)>;
    /// Every leaf in order: produce() it, hand its bytes to `write`, drop them, then report it
    /// finished(). The first error (a leaf's production, its write, a cancel) stops the loop and
    /// production; leaves produced ahead of it are dropped unwritten.
    Status writeEach(const LeafWriter &write) const;

    static constexpr qint64 kAheadLeafBytes = qint64(256) << 10;
    static constexpr qint64 kAheadBytes = qint64(8) << 20;
    static constexpr size_t kAheadLeaves = 256;

private:
    /// Calls leaf `index`'s produce() and checks it returned exactly the spec's byte count.
    /// Errors name the output path and the leaf key.
    Result<TensorBytes> produce(size_t index) const;
    /// Reports leaf `index` written: progress(index + 1, total). A false answer is an error
    /// ("cancelled"), which makes the caller discard everything.
    Status finished(size_t index) const;

    QString m_path;
    const std::vector<OutputLeaf> &m_leaves; // the caller's list, alive for the whole write
    ProgressCallback m_progress;             // a copy: a temporary `{}` argument must not dangle (ASan found one)
};

/// Bytes of a leaf's data per its spec (numel × itemsize). Valid after checkLeafSpecs().
qint64 leafBytes(const OutputLeaf &leaf);

/// Every spec has non-negative dims whose byte size fits 63 bits and at most `maxRank` dims.
Status checkLeafSpecs(const QString &path, const std::vector<OutputLeaf> &leaves, int maxRank);
/// No two leaves share a key (formats that store names).
Status checkUniqueKeys(const QString &path, const std::vector<OutputLeaf> &leaves);
/// Refuses a destination that is (after resolving symlinks, or by inode) one of `protectedPaths`.
Status checkNotProtected(const QString &path, const QStringList &protectedPaths);

/// Opens a QSaveFile for `path`, runs `body` on it and commits only when `body` succeeded.
/// On any failure nothing is left behind and an existing `path` keeps its bytes.
Result<WriteSummary> writeAtomically(const QString &path, qint64 leafCount, const std::function<Status(OutputSink &)> &body);

// .eqx: each leaf as an .npy v1.0 record (formatNpyHeader + data), back to back.
Status writeEqx(OutputSink &sink, const LeafStream &stream);

// safetensors: the header is built (and its limits checked) before the file is opened.
/// The complete header: u64 length, JSON (space-padded to a multiple of 8).
Result<QByteArray> safetensorsHeader(const QString &path, const std::vector<OutputLeaf> &leaves,
                                     const std::vector<std::pair<QString, QString>> &metadata);
Status writeSafetensors(OutputSink &sink, const LeafStream &stream, const QByteArray &header);

// .npz: a stored (uncompressed) zip of KEY.npy members.
struct NpzOptions {
    /// Write ZIP64 records even where the sizes don't need them (lets tests exercise them).
    bool forceZip64 = false;
};
Status checkNpz(const QString &path, const std::vector<OutputLeaf> &leaves);
Status writeNpz(OutputSink &sink, const LeafStream &stream, const NpzOptions &options = {});

// torch .pt: the zip torch.save writes, pickled dict first, storages streamed after it.
Status checkTorch(const QString &path, const std::vector<OutputLeaf> &leaves);
Status writeTorch(OutputSink &sink, const LeafStream &stream);

// Flax msgpack: the nested map flax.serialization.to_bytes writes (msgpackwriter.cpp).
struct MsgpackPlan {
    std::vector<OutputLeaf> leaves;  ///< the leaves in the order the tree holds them (depth first)
    std::vector<QByteArray> before;  ///< bytes before leaf i: map headers, keys, kept values
    std::vector<bool> scalar;        ///< leaf i is a numpy scalar (ext type 3)
    QByteArray after;                ///< bytes after the last leaf
};
/// Lays out the tree of `leaves` (keys split on '/') with `layout`'s kept values in their
/// places. Errors: a path that is both a value and a map, empty parts, too deep a key.
Result<MsgpackPlan> planMsgpack(const QString &path, const std::vector<OutputLeaf> &leaves, const std::optional<Checkpoint> &layout,
                                qint64 chunkBytes);
/// Writes the plan; `stream` must stream plan.leaves.
Status writeMsgpack(OutputSink &sink, const LeafStream &stream, const MsgpackPlan &plan, qint64 chunkBytes);

} // namespace graft::writers
