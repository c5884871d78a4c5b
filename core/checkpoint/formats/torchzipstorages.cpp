#include "checkpoint/formats/torchzipstorages.h"

#include "checkpoint/formats/inflate.h"
#include "checkpoint/formats/recordchecksum.h"
#include "checkpoint/formats/torchglobals.h"

namespace graft {

namespace {

constexpr qint64 kMaxPickleBytes = qint64(1) << 31;

} // namespace

Result<std::pair<const uchar *, qint64>> zipMemberBytes(const MappedFilePtr &file, const ZipEntry &entry, std::vector<uchar> &buffer)
{
    const uchar *data = file->data() + entry.dataOffset;
    qint64 size = entry.compressedSize;
    // A stored member is capped like a deflated one: the unpickler's work follows its size.
    if (entry.method != 8 && size > kMaxPickleBytes)
        return Error{file->path(), QStringLiteral("%1 holds %2 bytes (at most %3)").arg(entry.name).arg(size).arg(kMaxPickleBytes)};
    if (entry.method == 8) {
        if (entry.uncompressedSize > kMaxPickleBytes)
            return Error{file->path(), QStringLiteral("%1 declares %2 bytes (at most %3)").arg(entry.name).arg(entry.uncompressedSize).arg(kMaxPickleBytes)};
        Result<std::vector<uchar>> inflated = inflateRaw(data, entry.compressedSize, entry.uncompressedSize);
        if (!inflated)
            return Error{file->path(), entry.name.section(QLatin1Char('/'), -1) + QStringLiteral(": ") + inflated.error().message};
        buffer = std::move(inflated).value();
        data = buffer.data();
        size = static_cast<qint64>(buffer.size());
    }
    // The member is read whole here: its CRC-32 costs nothing next to unpickling it.
    if (const quint32 crc = recordCrc32(data, size); crc != entry.crc32)
        return Error{file->path(), QStringLiteral("record '%1' is corrupt: its CRC-32 is %2, the zip directory says %3")
                                       .arg(entry.name, QStringLiteral("%1").arg(crc, 8, 16, QLatin1Char('0')),
                                            QStringLiteral("%1").arg(entry.crc32, 8, 16, QLatin1Char('0')))};
    return std::make_pair(data, size);
}

Result<Unpickled> unpickleZipMember(const MappedFilePtr &file, const ZipEntry &entry)
{
    std::vector<uchar> inflated;
    Result<std::pair<const uchar *, qint64>> bytes = zipMemberBytes(file, entry, inflated);
    if (!bytes)
        return bytes.error();
    Result<Unpickled> unpickled = unpickleTorch(bytes->first, bytes->second);
    // The values hold what they need (strings are copied): a stored member's pages are done
    // with (13.6 MB of a 100k-tensor data.pkl that would otherwise count until the file closes).
    if (entry.method != 8)
        file->releasePages(entry.dataOffset, entry.compressedSize);
    if (!unpickled)
        return Error{file->path(), entry.name.section(QLatin1Char('/'), -1) + QStringLiteral(": ") + unpickled.error().message};
    return unpickled;
}

bool zipIsBigEndian(const MappedFilePtr &file, const ZipArchive &archive, const QString &root)
{
    const ZipEntry *order = archive.find(root + QStringLiteral("byteorder"));
    if (order == nullptr || order->method != 0)
        return false;
    const QByteArray text(reinterpret_cast<const char *>(file->data() + order->dataOffset), static_cast<int>(std::min<qint64>(order->compressedSize, 16)));
    return text.trimmed() == "big";
}

ZipStorages::ZipStorages(const MappedFilePtr &file, const ZipArchive &archive, QString folder, Checkpoint &checkpoint, bool bigEndian,
                         bool addSegments)
    : m_file(file), m_archive(archive), m_folder(std::move(folder)), m_checkpoint(checkpoint), m_bigEndian(bigEndian),
      m_addSegments(addSegments)
{
    if (m_addSegments)
        m_fileIndex = m_checkpoint.addFile(m_file);
}

const ZipEntry *ZipStorages::record(const PickledStorageId &storage)
{
    // torch.save numbers its storages 0, 1, 2...: the records "<folder><n>" are listed once by
    // number, and a numbered key is found without building its record's name and hashing it
    // (100k tensors: 5 % of listing them). Any other key is looked up by name.
    if (!m_numberedListed) {
        m_numberedListed = true;
        const std::vector<ZipEntry> &entries = m_archive.entries();
        for (const ZipEntry &entry : entries) {
            if (!entry.name.startsWith(m_folder))
                continue;
            const qint64 number = storageKeyNumber(QStringView(entry.name).mid(m_folder.size()));
            if (number < 0 || number >= static_cast<qint64>(entries.size()))
                continue;
            if (m_numbered.size() <= static_cast<size_t>(number))
                m_numbered.resize(static_cast<size_t>(number) + 1, -1);
            m_numbered[static_cast<size_t>(number)] = static_cast<qint32>(&entry - entries.data());
        }
    }
    const qint64 number = storage.number;
    if (number >= 0 && static_cast<size_t>(number) < m_numbered.size() && m_numbered[static_cast<size_t>(number)] >= 0)
        return &m_archive.entries()[static_cast<size_t>(m_numbered[static_cast<size_t>(number)])];
    return m_archive.find(m_folder + storage.keyText()); // not numbered, or numbered past the listing
}

Result<ResolvedStorage> ZipStorages::resolve(const PickledTensor &tensor)
{
    const QString &path = m_file->path();
    // ('storage', storage_class, key, location, numel)
    if (!tensor.storageId)
        return Error{path, QStringLiteral("unexpected storage reference %1").arg(pickleSummary(tensor.storage, 100))};
    const QString className = tensor.storageId->className();
    const ZipEntry *data = record(*tensor.storageId);
    const auto storageKey = [&tensor] { return tensor.storageId->keyText(); }; // for messages
    const std::optional<DType> dtype = dtypeOfStorageClass(className);
    if (!dtype)
        return Error{path, QStringLiteral("unknown storage class %1").arg(className)};
    if (data == nullptr)
        return Error{path, QStringLiteral("storage '%1' is missing from the archive (no record %2)").arg(storageKey(), m_folder + storageKey())};
    const bool untyped = className == QLatin1String("torch.UntypedStorage");
    const size_t slot = static_cast<size_t>(data - m_archive.entries().data());
    if (m_known.empty())
        m_known.resize(m_archive.entries().size());
    if (const Known &known = m_known[slot]; known.set && known.dtype == *dtype && known.untyped == untyped)
        return ResolvedStorage{known.segment, known.dtype, known.untyped, known.bigEndian};
    // The record must hold exactly the storage the pickle declares (torch.save writes
    // numel * itemsize bytes; numel counts bytes for an UntypedStorage).
    const PickleValue *numel = tensor.storageId->numel;
    const qint64 itemSize = untyped ? 1 : dtypeSize(*dtype);
    if (numel->kind != PickleKind::Int || numel->integerOverflow || numel->integer < 0 || numel->integer > data->uncompressedSize / itemSize
        || numel->integer * itemSize != data->uncompressedSize)
        return Error{path, QStringLiteral("storage '%1' declares %2 elements of %3 bytes, but its record holds %4 bytes")
                               .arg(storageKey(), pickleSummary(numel))
                               .arg(itemSize)
                               .arg(data->uncompressedSize)};
    ResolvedStorage resolved;
    if (m_addSegments) {
        Segment segment;
        segment.file = m_fileIndex;
        segment.offset = data->dataOffset;
        segment.size = data->compressedSize;
        segment.deflated = data->method == 8;
        segment.inflatedSize = data->uncompressedSize;
        segment.hasCrc32 = true;
        segment.crc32 = data->crc32;
        segment.record = data->name;
        resolved.segment = m_checkpoint.addSegment(segment);
    }
    resolved.dtype = *dtype;
    resolved.untyped = untyped;
    resolved.bigEndian = m_bigEndian;
    // A record read as two element types keeps the first in the table (the second resolves each time).
    if (!m_known[slot].set)
        m_known[slot] = Known{resolved.segment, resolved.dtype, resolved.untyped, resolved.bigEndian, true};
    return resolved;
}

} // namespace graft
