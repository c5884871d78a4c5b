#pragma once
// The index of an opened checkpoint: which tensors it holds (key, dtype, shape, strides) and
// where their bytes are. Readers build it from headers alone; Checkpoint::read() fetches one
// tensor's data on demand from the memory map (zero-copy when the layout allows).

#include "base/dtype.h"
#include "base/mappedfile.h"
#include "base/result.h"
#include "checkpoint/tensorkeyindex.h"

#include <QByteArray>
#include <QHash>
#include <QString>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace graft {

using Shape = std::vector<qint64>;

/// dtype and shape of a tensor, without data.
struct TensorSpec {
    DType dtype = DType::Float32;
    Shape shape;
    bool operator==(const TensorSpec &other) const { return dtype == other.dtype && shape == other.shape; }
};

enum class CheckpointFormat { PyTorchZip, PyTorchLegacy, PyTorchModule, TorchScript, Safetensors, Npy, Npz, Eqx, GraftSkeleton, FlaxMsgpack };

/// "pytorch-zip", "pytorch-legacy", "pytorch-module" (a pickled nn.Module, zip or legacy),
/// "torchscript", "safetensors", "npy", "npz", "eqx", "graft-skeleton", "flax-msgpack".
QString formatName(CheckpointFormat format);

/// (offset, size) regions of a file whose concatenation is a segment's bytes: a pointer wide and
/// null for the usual one-region segment (a 100k-tensor checkpoint holds 100k segments, and an
/// empty vector in each took 2.4 MB). Copies copy the regions.
class SegmentPieces {
public:
    using Piece = std::pair<qint64, qint64>;
    SegmentPieces() = default;
    SegmentPieces(const SegmentPieces &other) : m_pieces(other.m_pieces ? std::make_unique<std::vector<Piece>>(*other.m_pieces) : nullptr) {}
    SegmentPieces(SegmentPieces &&) noexcept = default;
    SegmentPieces &operator=(const SegmentPieces &other)
    {
        if (this != &other)
            m_pieces = other.m_pieces ? std::make_unique<std::vector<Piece>>(*other.m_pieces) : nullptr;
        return *this;
    }
    SegmentPieces &operator=(SegmentPieces &&) noexcept = default;

    bool empty() const { return !m_pieces || m_pieces->empty(); }
    size_t size() const { return m_pieces ? m_pieces->size() : 0; }
    void emplace_back(qint64 offset, qint64 size)
    {
        if (!m_pieces)
            m_pieces = std::make_unique<std::vector<Piece>>();
        m_pieces->emplace_back(offset, size);
    }
    const Piece *begin() const { return m_pieces ? m_pieces->data() : nullptr; }
    const Piece *end() const { return m_pieces ? m_pieces->data() + m_pieces->size() : nullptr; }

private:
    std::unique_ptr<std::vector<Piece>> m_pieces;
};

/// A region of one mapped file holding tensor bytes: stored as is, or as a raw deflate stream
/// (an npz member written by np.savez_compressed) that is inflated when a tensor is read, or
/// several pieces of the file joined in order (a chunked Flax msgpack array).
struct Segment {
    // (Fields ordered widest first: a 100k-tensor checkpoint holds 100k segments.)
    qint64 offset = 0;        ///< start of the region in that file (unused with pieces)
    qint64 size = 0;          ///< bytes of the region in the file (with pieces: their sum)
    qint64 inflatedSize = 0;  ///< bytes after inflating (deflated segments only)
    /// (offset, size) regions of the file whose concatenation is the segment; empty for one region.
    SegmentPieces pieces;
    QString record;           ///< the zip record's name, for messages (zip records only)
    int file = 0;             ///< index into Checkpoint::files()
    /// A whole zip record: `crc32` is the CRC-32 its directory declares for the (inflated)
    /// bytes, checked once, the first time a tensor's bytes are read from it.
    quint32 crc32 = 0;
    bool hasCrc32 = false;
    bool deflated = false;    ///< raw deflate stream

    qint64 logicalSize() const { return deflated ? inflatedSize : size; }
};
static_assert(sizeof(Segment) <= 72, "Segment grew: a 100k-tensor checkpoint holds 100k of them");

/// Whether an Equinox skeleton leaf is an array or a Python/numpy scalar saved as a 0-d record.
enum class LeafKind : quint8 { Array, Scalar };

/// One tensor of the index. Element (i0, i1, ...) lives at byte
/// `byteOffset + itemsize * sum(ik * strides[k])` of the segment's (inflated) bytes.
struct TensorEntry {
    // (Fields ordered widest first: 88 bytes, not 104, each of a 100k-key index.)
    QString key;
    Shape shape;
    Shape strides;            ///< in elements, like torch
    qint64 byteOffset = 0;    ///< bytes from segment start to element 0
    int segment = 0;          ///< index into Checkpoint::segments()
    DType dtype = DType::Float32;
    bool bigEndian = false;   ///< stored big-endian (some .npy files); read() converts
    LeafKind kind = LeafKind::Array;

    qint64 numel() const;
    qint64 nbytes() const { return numel() * dtypeSize(dtype); }
    bool isContiguous() const;
};
static_assert(sizeof(TensorEntry) <= 88, "TensorEntry grew: a 100k-key checkpoint holds 100k of them");

/// A non-tensor object found in a checkpoint (an epoch number, argparse.Namespace, a numpy
/// scalar...). Never executed; shown with a readable summary.
struct OtherEntry {
    QString key;
    QString type;
    QString summary;
    /// Tree formats (Flax msgpack) only: the value's own encoded bytes, which a writer of that
    /// format puts back as they were, and how many tensors precede it in the file (its place).
    QByteArray encoded = {};
    int tensorsBefore = -1;
};

/// Contiguous little-endian bytes of one tensor: a view into the memory map when possible,
/// otherwise an owned buffer. Keeps the map alive while it exists.
class TensorBytes {
public:
    TensorBytes() = default;
    static TensorBytes view(MappedFilePtr file, const uchar *data, qint64 size);
    static TensorBytes owned(std::vector<uchar> buffer);
    /// `size` bytes of a buffer made without zeroing it first (new uchar[size]: its maker fills it).
    static TensorBytes owned(std::unique_ptr<uchar[]> buffer, qint64 size);

    const uchar *data() const { return m_data; }
    qint64 size() const { return m_size; }
    bool isZeroCopy() const { return m_file != nullptr; }
    /// For a zero-copy view: the mapped file and the offset of data() in it, so that a writer
    /// can copy the bytes file to file (copy_file_range) without faulting the map into memory.
    /// nullptr / -1 for owned bytes.
    const MappedFile *mappedFile() const { return m_file.get(); }
    /// The map itself, for a reader that keeps using it after these bytes are gone.
    const MappedFilePtr &sharedMappedFile() const { return m_file; }
    qint64 fileOffset() const { return m_file ? static_cast<qint64>(m_data - m_file->data()) : -1; }
    /// Read with RecordCheck::ByReader: the segment whose CRC-32 the reader must compute over
    /// these bytes (they are its whole record) and hand to Checkpoint::completeCheck(); -1 when
    /// there is nothing left to check.
    int segmentToCheck() const { return m_segmentToCheck; }
    /// The CRC-32 of these bytes when they are a whole stored zip record: the one its directory
    /// declares, which the read checked (or a writer's DeferredRecordChecks checks before
    /// anything is committed; or, read ByReader, the caller). A zip writer copying the record
    /// takes it instead of reading the bytes for their CRC. nullopt otherwise.
    std::optional<quint32> recordCrc32() const { return m_recordCrc32; }

private:
    friend class Checkpoint;
    int m_segmentToCheck = -1;
    std::optional<quint32> m_recordCrc32;
    MappedFilePtr m_file;
    std::shared_ptr<const void> m_buffer; ///< what owns owned bytes (a vector or an array)
    const uchar *m_data = nullptr;
    qint64 m_size = 0;
};

/// An opened checkpoint. Cheap to copy: copies share one index (tensors, others, segments,
/// files, metadata) and its maps, so a plan may hold a copy per output leaf. The index is built
/// by the readers through the add*() calls and is immutable once shared: building on a
/// checkpoint that has been copied first gives it its own index (copy-on-write), so a copy
/// never sees later additions. Sharing is thread-safe for reading; building is single-threaded.
class Checkpoint {
public:
    Checkpoint() = default;
    Checkpoint(QString path, CheckpointFormat format) : m_path(std::move(path)), m_format(format) {}

    const QString &path() const { return m_path; }
    CheckpointFormat format() const { return m_format; }
    const std::vector<TensorEntry> &tensors() const { return data().tensors; }
    const std::vector<OtherEntry> &others() const { return data().others; }
    const std::vector<MappedFilePtr> &files() const { return data().files; }
    const std::vector<Segment> &segments() const { return data().segments; }
    /// Key/value metadata the format carries (safetensors __metadata__, skeleton framework...).
    const std::vector<std::pair<QString, QString>> &metadata() const { return data().metadata; }

    /// Index of the tensor with this key, or -1. O(1). Keys are unique (addTensor refuses a repeat).
    int indexOf(const QString &key) const { return data().byKey.find(key, data().tensors); }
    /// Total bytes of all tensors.
    qint64 totalBytes() const;

    /// The tensor's values as C-contiguous little-endian bytes. Zero-copy for contiguous,
    /// little-endian tensors in stored segments. Errors name the file and the key. The first
    /// read from a zip record checks the record's CRC-32 (once per record: a 500 MB record
    /// read by convert, diff and the inspector is checked once) and refuses a corrupt one.
    Result<TensorBytes> read(int index) const;

    /// Who checks a record's CRC-32 on a read.
    enum class RecordCheck {
        Now,      ///< read() does, reading the record once more
        ByReader, ///< the caller, as it streams the bytes (see TensorBytes::segmentToCheck)
    };
    /// read(), and with RecordCheck::ByReader the check is left to the caller when the tensor's
    /// bytes are its whole stored record (a diff computes the CRC in its own pass instead of
    /// reading 1 GB twice); for any other record the check runs now, as read(index) does.
    Result<TensorBytes> read(int index, RecordCheck check) const;

    /// Completes a check left to the reader: `crc` is the CRC-32 of all of `bytes`, read with
    /// RecordCheck::ByReader. Remembers the answer; an error names the file and the record.
    Status completeCheck(const TensorBytes &bytes, quint32 crc) const;

    /// Checks the CRC-32 of segment `index` now (nothing to check: success), remembering the
    /// answer. Errors name the file and the record. Thread-safe.
    Status verifySegment(int index) const;
    /// verifySegment() of a segment whose logical bytes the caller has at hand (`bytes`: the
    /// inflated bytes of a deflated record, the record itself for a stored one; nullptr: read
    /// them): a writer's deferred checks read runs of small records with one pread.
    Status verifySegment(int index, const uchar *bytes) const;

    /// True when this checkpoint and `other` share one index (tests; a copy shares until built on).
    bool sharesIndexWith(const Checkpoint &other) const { return m_data != nullptr && m_data == other.m_data; }

    // Building (used by the readers).
    int addFile(MappedFilePtr file);
    int addSegment(const Segment &segment);
    /// Room for this many more tensors and segments, when a reader knows about how many it will
    /// add: a 100k-tensor index then grows once instead of doubling (and copying) 17 times,
    /// which at its last step held the old and the new array at once (16 MB more at the peak).
    void reserve(size_t tensors, size_t segments);
    /// Adds a tensor after checking that every element it addresses lies in its segment, that
    /// no stride is negative and that no tensor has its key already.
    Status addTensor(TensorEntry entry);
    void addOther(OtherEntry entry);
    void addMetadata(QString key, QString value);
    void setFormat(CheckpointFormat format) { m_format = format; }

private:
    /// Whether a segment's CRC-32 was checked: copyable (for copy-on-write), atomic (reads
    /// run on several threads; two may check one record at once, harmlessly).
    struct CheckState {
        enum : int { Unchecked, Good, Bad };
        std::atomic<int> state{Unchecked};
        CheckState() = default;
        CheckState(const CheckState &other) : state(other.state.load()) {}
        CheckState &operator=(const CheckState &other)
        {
            state = other.state.load();
            return *this;
        }
    };
    /// Records whether `crc` is the segment's declared CRC-32; the error when it is not.
    Status settleCheck(int index, quint32 crc) const;

    struct Data {
        std::vector<MappedFilePtr> files;
        std::vector<Segment> segments;
        mutable std::vector<CheckState> checked; ///< per segment
        std::vector<TensorEntry> tensors;
        TensorKeyIndex byKey; ///< key -> position in tensors
        std::vector<OtherEntry> others;
        std::vector<std::pair<QString, QString>> metadata;
    };
    const Data &data() const;
    /// The index to build on: this checkpoint's own (copied first if a copy shares it).
    Data &buildableData();

    QString m_path;
    CheckpointFormat m_format = CheckpointFormat::PyTorchZip;
    /// Shared by copies; changed only while no copy shares it (use_count() == 1). Null until
    /// the first add*() (and after a move), read as an empty index.
    std::shared_ptr<Data> m_data;
};

/// Row-major (C order) strides for a shape, in elements.
Shape contiguousStrides(const Shape &shape);

/// numel of a shape, or -1 when a dim is negative or the product overflows `limit`.
qint64 checkedNumel(const Shape &shape, qint64 limit);

/// "[64, 3, 3, 3]".
QString shapeToString(const Shape &shape);

} // namespace graft
