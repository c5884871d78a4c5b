#include "checkpoint/checkpoint.h"

#include "checkpoint/deferredrecordchecks.h"
#include "checkpoint/formats/inflate.h"
#include "checkpoint/formats/recordchecksum.h"

#include <QStringList>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

namespace graft {

QString formatName(CheckpointFormat format)
{
    switch (format) {
    case CheckpointFormat::PyTorchZip: return QStringLiteral("pytorch-zip");
    case CheckpointFormat::PyTorchLegacy: return QStringLiteral("pytorch-legacy");
    case CheckpointFormat::PyTorchModule: return QStringLiteral("pytorch-module");
    case CheckpointFormat::TorchScript: return QStringLiteral("torchscript");
    case CheckpointFormat::Safetensors: return QStringLiteral("safetensors");
    case CheckpointFormat::Npy: return QStringLiteral("npy");
    case CheckpointFormat::Npz: return QStringLiteral("npz");
    case CheckpointFormat::Eqx: return QStringLiteral("eqx");
    case CheckpointFormat::GraftSkeleton: return QStringLiteral("graft-skeleton");
    case CheckpointFormat::FlaxMsgpack: return QStringLiteral("flax-msgpack");
    }
    return QString();
}

qint64 checkedNumel(const Shape &shape, qint64 limit)
{
    // numpy's rule: a zero dim makes the array empty, but the product of the other dims must
    // still fit, or strides (and every partial product) overflow (found by fuzzing: an .eqx
    // record of shape (9, ..., 0, ..., 301111111111, ...)).
    qint64 span = 1;
    bool empty = false;
    for (qint64 dim : shape) {
        if (dim < 0)
            return -1;
        if (dim == 0) {
            empty = true;
            continue;
        }
        if (span > limit / dim)
            return -1;
        span *= dim;
    }
    return empty ? 0 : span;
}

Shape contiguousStrides(const Shape &shape)
{
    Shape strides(shape.size(), 1);
    qint64 stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= std::max<qint64>(shape[i], 1);
    }
    return strides;
}

QString shapeToString(const Shape &shape)
{
    // Digits written into one Latin-1 buffer (a QString::number per dimension was a heap block
    // each; `inspect` formats one shape per tensor).
    std::string text;
    text.reserve(2 + 22 * shape.size());
    text += '[';
    char digits[24];
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i > 0)
            text += ", ";
        const std::to_chars_result end = std::to_chars(digits, digits + sizeof digits, shape[i]);
        text.append(digits, end.ptr);
    }
    text += ']';
    return QString::fromLatin1(text.data(), static_cast<qsizetype>(text.size()));
}

qint64 TensorEntry::numel() const
{
    qint64 numel = 1;
    for (qint64 dim : shape)
        numel *= dim;
    return numel;
}

bool TensorEntry::isContiguous() const
{
    if (numel() <= 1)
        return true;
    const Shape expected = contiguousStrides(shape);
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] != 1 && strides[i] != expected[i])
            return false;
    }
    return true;
}

TensorBytes TensorBytes::view(MappedFilePtr file, const uchar *data, qint64 size)
{
    TensorBytes bytes;
    bytes.m_file = std::move(file);
    bytes.m_data = data;
    bytes.m_size = size;
    return bytes;
}

TensorBytes TensorBytes::owned(std::vector<uchar> buffer)
{
    TensorBytes bytes;
    auto owner = std::make_shared<std::vector<uchar>>(std::move(buffer));
    bytes.m_data = owner->data();
    bytes.m_size = static_cast<qint64>(owner->size());
    bytes.m_buffer = std::move(owner);
    return bytes;
}

TensorBytes TensorBytes::owned(std::unique_ptr<uchar[]> buffer, qint64 size)
{
    TensorBytes bytes;
    bytes.m_data = buffer.get();
    bytes.m_size = size;
    bytes.m_buffer = std::shared_ptr<const uchar[]>(std::move(buffer));
    return bytes;
}

const Checkpoint::Data &Checkpoint::data() const
{
    static const Data empty;
    return m_data ? *m_data : empty;
}

Checkpoint::Data &Checkpoint::buildableData()
{
    // Copy-on-write: a copy taken before (or during) building keeps the index it saw.
    if (!m_data)
        m_data = std::make_shared<Data>();
    else if (m_data.use_count() > 1)
        m_data = std::make_shared<Data>(*m_data);
    return *m_data;
}

qint64 Checkpoint::totalBytes() const
{
    qint64 total = 0;
    for (const TensorEntry &entry : tensors())
        total += entry.nbytes();
    return total;
}

int Checkpoint::addFile(MappedFilePtr file)
{
    std::vector<MappedFilePtr> &files = buildableData().files;
    files.push_back(std::move(file));
    return static_cast<int>(files.size()) - 1;
}

void Checkpoint::reserve(size_t tensors, size_t segments)
{
    Data &data = buildableData();
    data.tensors.reserve(data.tensors.size() + tensors);
    data.byKey.reserve(data.tensors.size() + tensors, data.tensors);
    data.segments.reserve(data.segments.size() + segments);
    data.checked.reserve(data.checked.size() + segments);
}

int Checkpoint::addSegment(const Segment &segment)
{
    Data &data = buildableData();
    data.segments.push_back(segment);
    data.checked.emplace_back();
    return static_cast<int>(data.segments.size()) - 1;
}

Status Checkpoint::verifySegment(int index) const { return verifySegment(index, nullptr); }

Status Checkpoint::verifySegment(int index, const uchar *bytes) const
{
    const Data &data = this->data();
    if (index < 0 || index >= static_cast<int>(data.segments.size()))
        return Error{m_path, QStringLiteral("no segment #%1").arg(index)};
    const Segment &segment = data.segments[static_cast<size_t>(index)];
    std::atomic<int> &state = data.checked[static_cast<size_t>(index)].state;
    if (!segment.hasCrc32 || state.load(std::memory_order_acquire) == CheckState::Good)
        return Status::success();
    const MappedFile &file = *data.files[static_cast<size_t>(segment.file)];
    std::optional<quint32> crc;
    std::vector<uchar> buffer;
    if (bytes != nullptr) {
        crc = recordCrc32(bytes, segment.logicalSize());
    } else if (!segment.deflated) {
        crc = recordCrc32(file, segment.offset, segment.size);
    } else {
        Result<std::vector<uchar>> result = inflateRaw(file.data() + segment.offset, segment.size, segment.inflatedSize);
        if (!result)
            return Error{m_path, QStringLiteral("record '%1': %2").arg(segment.record, result.error().message)};
        buffer = std::move(result).value();
        crc = recordCrc32(buffer.data(), segment.inflatedSize);
    }
    if (!crc)
        return Error{m_path, QStringLiteral("record '%1': cannot read its bytes").arg(segment.record)};
    return settleCheck(index, *crc);
}

Status Checkpoint::settleCheck(int index, quint32 crc) const
{
    const Data &data = this->data();
    const Segment &segment = data.segments[static_cast<size_t>(index)];
    const bool good = crc == segment.crc32;
    data.checked[static_cast<size_t>(index)].state.store(good ? CheckState::Good : CheckState::Bad, std::memory_order_release);
    if (!good) {
        const auto hex = [](quint32 value) { return QStringLiteral("%1").arg(value, 8, 16, QLatin1Char('0')); };
        return Error{m_path, QStringLiteral("record '%1' is corrupt: its CRC-32 is %2, the zip directory says %3")
                                 .arg(segment.record, hex(crc), hex(segment.crc32))};
    }
    return Status::success();
}

Status Checkpoint::completeCheck(const TensorBytes &bytes, quint32 crc) const
{
    const int index = bytes.segmentToCheck();
    if (index < 0 || index >= static_cast<int>(segments().size()))
        return Status::success();
    return settleCheck(index, crc);
}

void Checkpoint::addOther(OtherEntry entry) { buildableData().others.push_back(std::move(entry)); }

void Checkpoint::addMetadata(QString key, QString value)
{
    buildableData().metadata.emplace_back(std::move(key), std::move(value));
}

Status Checkpoint::addTensor(TensorEntry entry)
{
    // Built only on failure: a 100k-tensor file adds 100k tensors.
    const auto where = [&entry] { return QStringLiteral("tensor '%1'").arg(entry.key); };
    if (entry.segment < 0 || entry.segment >= static_cast<int>(segments().size()))
        return Error{m_path, where() + QStringLiteral(": no storage for its data")};
    if (entry.shape.size() > 64)
        return Error{m_path, where() + QStringLiteral(": %1 dimensions (at most 64)").arg(entry.shape.size())};
    // Checked before strides are derived from the shape, so that they cannot overflow.
    const qint64 numel = checkedNumel(entry.shape, std::numeric_limits<qint64>::max() / 16);
    if (numel < 0)
        return Error{m_path, where() + QStringLiteral(": shape %1 is invalid or its size overflows")
                                         .arg(shapeToString(entry.shape))};
    if (entry.strides.empty() && !entry.shape.empty())
        entry.strides = contiguousStrides(entry.shape);
    if (entry.strides.size() != entry.shape.size())
        return Error{m_path, where() + QStringLiteral(": %1 strides for %2 dimensions")
                                         .arg(entry.strides.size()).arg(entry.shape.size())};

    const Segment &segment = segments()[static_cast<size_t>(entry.segment)];
    const qint64 available = segment.logicalSize();
    const qint64 itemSize = dtypeSize(entry.dtype);
    if (numel > 0) {
        // The furthest element addressed, checked without overflow against the real bytes.
        qint64 lastElement = 0;
        for (size_t i = 0; i < entry.shape.size(); ++i) {
            if (entry.strides[i] < 0)
                return Error{m_path, where() + QStringLiteral(": negative stride")};
            const qint64 reach = entry.shape[i] - 1;
            if (entry.strides[i] != 0 && reach > (available / itemSize) / entry.strides[i])
                return Error{m_path, where() + QStringLiteral(": data lies beyond the end of its storage")};
            lastElement += reach * entry.strides[i];
            if (lastElement > available / itemSize)
                return Error{m_path, where() + QStringLiteral(": data lies beyond the end of its storage")};
        }
        if (entry.byteOffset < 0 || entry.byteOffset > available
            || (lastElement + 1) * itemSize > available - entry.byteOffset)
            return Error{m_path, where() + QStringLiteral(": needs %1 bytes at offset %2 but its storage holds %3")
                                             .arg((lastElement + 1) * itemSize).arg(entry.byteOffset).arg(available)};
    }
    // Two tensors under one key: which one a mapping or a diff would mean is a guess (Python
    // keeps the last of a dict's repeated keys; {'a': {'b': t}} and {'a.b': u} flatten alike).
    const size_t hash = TensorKeyIndex::hashOf(entry.key); // hashed once: checked, then added
    if (data().byKey.find(entry.key, hash, data().tensors) >= 0)
        return Error{m_path, where() + QStringLiteral(" appears twice: two entries of the file have this key")};
    Data &data = buildableData();
    data.tensors.push_back(std::move(entry));
    data.byKey.addLast(data.tensors, hash);
    return Status::success();
}

namespace {

void swapBytes(uchar *data, qint64 count, int width)
{
    for (qint64 i = 0; i < count; ++i)
        std::reverse(data + i * width, data + (i + 1) * width);
}

// Copies a strided tensor into C order, one element at a time (odometer over the index).
void gather(const uchar *base, const TensorEntry &entry, uchar *out)
{
    const qint64 itemSize = dtypeSize(entry.dtype);
    const qint64 numel = entry.numel();
    const size_t rank = entry.shape.size();
    std::vector<qint64> index(rank, 0);
    qint64 offset = 0;
    for (qint64 n = 0; n < numel; ++n) {
        std::memcpy(out + n * itemSize, base + offset * itemSize, static_cast<size_t>(itemSize));
        for (size_t d = rank; d-- > 0;) {
            if (++index[d] < entry.shape[d]) {
                offset += entry.strides[d];
                break;
            }
            offset -= (index[d] - 1) * entry.strides[d];
            index[d] = 0;
        }
    }
}

// The pieces of a segment joined in order (bounds were checked by the reader that made them).
Result<std::vector<uchar>> joinPieces(const MappedFile &file, const Segment &segment)
{
    std::vector<uchar> joined;
    try {
        joined.reserve(static_cast<size_t>(segment.size));
    } catch (const std::bad_alloc &) {
        return Error{QString(), QStringLiteral("not enough memory for %1 bytes").arg(segment.size)};
    }
    for (const auto &[offset, size] : segment.pieces) {
        if (offset < 0 || size < 0 || offset > file.size() || size > file.size() - offset)
            return Error{QString(), QStringLiteral("a chunk lies outside the file")};
        joined.insert(joined.end(), file.data() + offset, file.data() + offset + size);
    }
    if (static_cast<qint64>(joined.size()) != segment.size)
        return Error{QString(), QStringLiteral("its chunks hold %1 bytes, not %2").arg(joined.size()).arg(segment.size)};
    return joined;
}

} // namespace

Result<TensorBytes> Checkpoint::read(int index) const { return read(index, RecordCheck::Now); }

Result<TensorBytes> Checkpoint::read(int index, RecordCheck check) const
{
    const Data &data = this->data();
    if (index < 0 || index >= static_cast<int>(data.tensors.size()))
        return Error{m_path, QStringLiteral("no tensor #%1").arg(index)};
    const TensorEntry &entry = data.tensors[static_cast<size_t>(index)];
    const Segment &segment = data.segments[static_cast<size_t>(entry.segment)];
    const MappedFilePtr &file = data.files[static_cast<size_t>(segment.file)];
    const qint64 nbytes = entry.nbytes();

    std::vector<uchar> inflated;
    const uchar *segmentData = file->data() + segment.offset;
    if (segment.deflated) {
        Result<std::vector<uchar>> result =
            inflateRaw(segmentData, segment.size, segment.inflatedSize);
        if (!result)
            return Error{m_path, QStringLiteral("tensor '%1': %2").arg(entry.key, result.error().message)};
        inflated = std::move(result).value();
        segmentData = inflated.data();
    } else if (!segment.pieces.empty()) {
        Result<std::vector<uchar>> joined = joinPieces(*file, segment);
        if (!joined)
            return Error{m_path, QStringLiteral("tensor '%1': %2").arg(entry.key, joined.error().message)};
        inflated = std::move(joined).value();
        segmentData = inflated.data();
    }
    // Left to the reader only when it will see every byte of the record (a stored record the
    // tensor fills) and the record is not known good already.
    const bool wholeRecord = !segment.deflated && segment.pieces.empty() && entry.byteOffset == 0 && nbytes == segment.size
        && entry.isContiguous() && !entry.bigEndian;
    const bool byReader = check == RecordCheck::ByReader && wholeRecord && segment.hasCrc32
        && data.checked[static_cast<size_t>(entry.segment)].state.load(std::memory_order_acquire) != CheckState::Good;
    // Inside a writer's DeferredRecordChecks, a stored record's check runs beside the copy (the
    // writer commits nothing before it passed); a deflated one is checked on the bytes at hand.
    DeferredRecordChecks *deferred = segment.hasCrc32 && !segment.deflated && segment.pieces.empty() && !byReader
                                         && data.checked[static_cast<size_t>(entry.segment)].state.load(std::memory_order_acquire) != CheckState::Good
                                         ? DeferredRecordChecks::current()
                                         : nullptr;
    if (deferred != nullptr) {
        deferred->defer(*this, entry.segment, entry.key);
    } else if (!byReader) {
        if (Status checked = verifySegment(entry.segment, segment.deflated ? segmentData : nullptr); !checked)
            return Error{m_path, QStringLiteral("tensor '%1': %2").arg(entry.key, checked.error().message)};
    }
    const uchar *base = segmentData + entry.byteOffset;

    if (entry.isContiguous() && !entry.bigEndian) {
        if (!segment.deflated && segment.pieces.empty()) {
            TensorBytes bytes = TensorBytes::view(file, base, nbytes);
            if (byReader)
                bytes.m_segmentToCheck = entry.segment;
            if (wholeRecord && segment.hasCrc32)
                bytes.m_recordCrc32 = segment.crc32;
            return bytes;
        }
        if (entry.byteOffset == 0 && static_cast<qint64>(inflated.size()) == nbytes)
            return TensorBytes::owned(std::move(inflated));
        return TensorBytes::owned(std::vector<uchar>(base, base + nbytes));
    }

    std::vector<uchar> buffer;
    try {
        buffer.resize(static_cast<size_t>(nbytes));
    } catch (const std::bad_alloc &) {
        return Error{m_path, QStringLiteral("tensor '%1': not enough memory for %2 bytes").arg(entry.key).arg(nbytes)};
    }
    // An empty tensor (a 0 dim) leaves buffer.data() null, and memcpy with a null pointer is
    // undefined even for 0 bytes (found by fuzz_npz: a big-endian '>f4' of shape (0, 3)).
    if (entry.isContiguous()) {
        if (nbytes > 0)
            std::memcpy(buffer.data(), base, static_cast<size_t>(nbytes));
    } else {
        gather(base, entry, buffer.data());
    }
    if (entry.bigEndian) {
        const int width = isComplex(entry.dtype) ? dtypeSize(entry.dtype) / 2 : dtypeSize(entry.dtype);
        swapBytes(buffer.data(), nbytes / width, width);
    }
    return TensorBytes::owned(std::move(buffer));
}

} // namespace graft
