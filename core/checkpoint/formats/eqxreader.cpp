// readEqx and readEqxRecords: see eqxreader.h for the layout.

#include "checkpoint/formats/eqxreader.h"

#include "base/mappedfilecursor.h"

#include "checkpoint/formats/readers.h"

#include <QHash>

#include <algorithm>
#include <cstring>

namespace graft {
namespace {

constexpr qint64 kNpyPreamble = 12; // magic (6), version (2), header length (2 or 4), rounded up
constexpr qint64 kFirstRead = 256;  // covers a typical record's header (64-byte padded)

// A dtype np.save spells as a void of `itemSize` bytes (bfloat16 as '<V2'), if any.
std::optional<DType> voidSpelledDtype(qint64 itemSize)
{
    for (DType dtype : {DType::BFloat16, DType::Float8E4M3, DType::Float8E5M2}) {
        if (dtypeSize(dtype) == itemSize)
            return dtype;
    }
    return std::nullopt;
}

// The itemsize of a header's void descr ('<V2' -> 2), or 0 when its descr is not a void. Reads
// the raw dict only as far as the descr (parseNpyHeader judges the rest).
qint64 voidItemSize(const uchar *start, qint64 headerBytes)
{
    const QByteArrayView text(reinterpret_cast<const char *>(start), headerBytes);
    const qsizetype at = text.indexOf(QByteArrayView("'descr'"));
    if (at < 0)
        return 0;
    qsizetype quote = text.indexOf('\'', at + 7);
    if (quote < 0 || quote + 3 >= text.size() || text[quote + 2] != 'V')
        return 0;
    qint64 size = 0;
    for (qsizetype i = quote + 3; i < text.size() && text[i] >= '0' && text[i] <= '9' && size < 1000; ++i)
        size = size * 10 + (text[i] - '0');
    return size;
}

} // namespace

Result<std::vector<EqxRecord>> readEqxRecords(const MappedFile &file, const std::vector<std::optional<DType>> &voidAs,
                                              bool standInForVoid)
{
    const QString &path = file.path();
    std::vector<EqxRecord> records;
    // Headers read through the map with a cursor that gives the pages back as it goes (a
    // 100k-record file: ~13k faults of 16 pages where a pread per header took 100k calls).
    MappedFileCursor cursor(file);
    // Equal header bytes parse equally: a model's records share a few dozen headers (dtype,
    // shape), parsed once each.
    QHash<QByteArray, NpyHeader> parsed;
    qint64 position = 0;
    // Each pass consumes a whole record (at least its 10-byte preamble), so the loop ends.
    while (position < file.size()) {
        const qint64 index = static_cast<qint64>(records.size());
        const qint64 remaining = file.size() - position;
        // The preamble (magic, version, header length), then the whole header when its length
        // makes sense; parseNpyHeader judges both exactly as it would on the mapped bytes.
        const qint64 firstBytes = std::min<qint64>(kFirstRead, remaining);
        const uchar *start = cursor.at(position, firstBytes);
        if (start == nullptr)
            return Error{path, QStringLiteral("cannot read record [%1] at byte %2").arg(index).arg(position)};
        qint64 headerBytes = std::min<qint64>(kNpyPreamble, remaining);
        if (Result<qint64> dataOffset = npyDataOffset(start, headerBytes); dataOffset && *dataOffset <= firstBytes) {
            headerBytes = std::max(headerBytes, *dataOffset);
        } else if (dataOffset && *dataOffset > headerBytes) {
            headerBytes = std::min({*dataOffset, remaining, kNpyPreamble + kMaxNpyHeaderLength});
            start = cursor.at(position, headerBytes);
            if (start == nullptr)
                return Error{path, QStringLiteral("cannot read record [%1] at byte %2").arg(index).arg(position)};
        }
        if (remaining < 6 || std::memcmp(start, "\x93NUMPY", 6) != 0)
            return Error{path, QStringLiteral("%1 trailing bytes at offset %2 after %3 records are not an .npy record")
                                   .arg(remaining).arg(position).arg(index)};
        if (index >= kMaxEqxRecords)
            return Error{path, QStringLiteral("more than %1 records").arg(kMaxEqxRecords)};

        std::optional<DType> expected = index < static_cast<qint64>(voidAs.size()) ? voidAs[index] : std::nullopt;
        bool standIn = false;
        if (standInForVoid && !expected) {
            if (const qint64 itemSize = voidItemSize(start, headerBytes); itemSize > 0) {
                expected = voidSpelledDtype(itemSize);
                standIn = expected.has_value();
            }
        }
        QByteArray cacheKey(reinterpret_cast<const char *>(start), static_cast<qsizetype>(headerBytes));
        cacheKey += expected ? static_cast<char>(static_cast<int>(*expected) + 1) : '\0';
        const auto known = parsed.constFind(cacheKey);
        Result<NpyHeader> header = known != parsed.constEnd() ? Result<NpyHeader>(*known) : parseNpyHeader(start, headerBytes, expected);
        if (header && known == parsed.constEnd() && parsed.size() < 4096)
            parsed.insert(cacheKey, *header);
        const auto where = [&] { return QStringLiteral("record [%1] at byte %2: ").arg(index).arg(position); };
        if (!header)
            return Error{path, where() + header.error().message};
        const qint64 nbytes = header->nbytes();
        if (nbytes > remaining - header->dataOffset)
            return Error{path, where() + QStringLiteral("shape %1 of %2 needs %3 bytes of data but only %4 remain")
                                           .arg(shapeToString(header->shape), dtypeName(header->dtype))
                                           .arg(nbytes).arg(remaining - header->dataOffset)};
        EqxRecord record;
        record.header = std::move(header).value();
        record.offset = position;
        record.dataOffset = position + record.header.dataOffset;
        record.voidDescr = standIn;
        position = record.dataOffset + nbytes;
        records.push_back(std::move(record));
    }
    return records;
}

Status resolveVoidRecord(const MappedFile &file, qint64 index, EqxRecord &record, DType named)
{
    // The header parsed again with the dtype named, exactly as readEqxRecords() would have.
    const uchar *start = file.data() + record.offset;
    Result<NpyHeader> header = parseNpyHeader(start, record.dataOffset - record.offset, named);
    if (!header)
        return Error{file.path(), QStringLiteral("record [%1] at byte %2: ").arg(index).arg(record.offset) + header.error().message};
    if (header->nbytes() != record.header.nbytes()) // cannot happen: the stand-in had the same itemsize
        return Error{file.path(), QStringLiteral("record [%1] at byte %2: its size changed with its dtype").arg(index).arg(record.offset)};
    record.header = std::move(header).value();
    record.voidDescr = false;
    return Status::success();
}

Result<Checkpoint> readEqx(const MappedFilePtr &file)
{
    if (file->size() == 0)
        return Error{file->path(), QStringLiteral("the file is empty")};
    Result<std::vector<EqxRecord>> records = readEqxRecords(*file);
    if (!records)
        return records.error();

    Checkpoint checkpoint(file->path(), CheckpointFormat::Eqx);
    // One segment over the whole file; each tensor points at its record's data.
    Segment segment;
    segment.file = checkpoint.addFile(file);
    segment.size = file->size();
    const int segmentIndex = checkpoint.addSegment(segment);
    for (size_t i = 0; i < records->size(); ++i) {
        const EqxRecord &record = (*records)[i];
        TensorEntry entry;
        entry.key = QStringLiteral("[%1]").arg(i);
        entry.dtype = record.header.dtype;
        entry.shape = record.header.shape;
        entry.strides = record.header.strides();
        entry.segment = segmentIndex;
        entry.byteOffset = record.dataOffset;
        entry.bigEndian = record.header.bigEndian;
        if (Status status = checkpoint.addTensor(std::move(entry)); !status)
            return status.error();
    }
    return checkpoint;
}

} // namespace graft
