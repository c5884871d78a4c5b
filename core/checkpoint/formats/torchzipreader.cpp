// torch.save zip container (PyTorch >= 1.6, incl. 2.x).
//
//   <root>/data.pkl             pickle (protocol 2) of the saved object; tensors are
//                               torch._utils._rebuild_tensor_v2/_v3 calls whose storages are
//                               persistent ids ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
//   <root>/data/<key>           raw little-endian bytes of storage <key> (stored, 64-byte aligned)
//   <root>/version, byteorder, .format_version, .storage_alignment, .data/serialization_id
// <root> is the file stem or "archive". Storages are mapped, never read here.

#include "checkpoint/formats/readers.h"

#include "checkpoint/formats/inflate.h"
#include "checkpoint/formats/recordchecksum.h"
#include "checkpoint/formats/torchglobals.h"
#include "checkpoint/formats/torchobjects.h"

#include <QHash>

namespace graft {
namespace {

constexpr qint64 kMaxPickleBytes = qint64(1) << 31;

QString persistentIdText(const PickleValue *id) { return pickleSummary(id, 100); }

} // namespace

Result<Checkpoint> readTorchZip(const MappedFilePtr &file, const ZipArchive &archive)
{
    const QString &path = file->path();
    const ZipEntry *pickleEntry = nullptr;
    for (const ZipEntry &entry : archive.entries()) {
        if (entry.name == QLatin1String("data.pkl") || entry.name.endsWith(QLatin1String("/data.pkl"))) {
            if (pickleEntry == nullptr || entry.name.size() < pickleEntry->name.size())
                pickleEntry = &entry; // the top-level one (TorchScript archives nest others)
        }
    }
    if (pickleEntry == nullptr)
        return Error{path, QStringLiteral("zip archive has no data.pkl: not a torch.save file")};
    const QString root = pickleEntry->name.left(pickleEntry->name.size() - int(qstrlen("data.pkl")));

    Checkpoint checkpoint(path, CheckpointFormat::PyTorchZip);
    const int fileIndex = checkpoint.addFile(file);

    // Big-endian checkpoints (rare) say so in <root>/byteorder.
    bool bigEndian = false;
    if (const ZipEntry *order = archive.find(root + QStringLiteral("byteorder")); order != nullptr && order->method == 0) {
        const QByteArray text(reinterpret_cast<const char *>(file->data() + order->dataOffset),
                              static_cast<int>(std::min<qint64>(order->compressedSize, 16)));
        bigEndian = text.trimmed() == "big";
    }

    std::vector<uchar> inflatedPickle;
    const uchar *pickleData = file->data() + pickleEntry->dataOffset;
    qint64 pickleSize = pickleEntry->compressedSize;
    if (pickleEntry->method == 0 && pickleSize > kMaxPickleBytes)
        return Error{path, QStringLiteral("data.pkl holds %1 bytes (at most %2)").arg(pickleSize).arg(kMaxPickleBytes)};
    if (pickleEntry->method == 8) {
        if (pickleEntry->uncompressedSize > kMaxPickleBytes)
            return Error{path, QStringLiteral("data.pkl declares %1 bytes (at most %2)").arg(pickleEntry->uncompressedSize).arg(kMaxPickleBytes)};
        Result<std::vector<uchar>> inflated = inflateRaw(pickleData, pickleSize, pickleEntry->uncompressedSize);
        if (!inflated)
            return Error{path, QStringLiteral("data.pkl: ") + inflated.error().message};
        inflatedPickle = std::move(inflated).value();
        pickleData = inflatedPickle.data();
        pickleSize = static_cast<qint64>(inflatedPickle.size());
    }
    // The pickle is read whole here: its CRC-32 costs nothing next to unpickling it.
    if (const quint32 crc = recordCrc32(pickleData, pickleSize); crc != pickleEntry->crc32)
        return Error{path, QStringLiteral("record '%1' is corrupt: its CRC-32 is %2, the zip directory says %3")
                               .arg(pickleEntry->name, QStringLiteral("%1").arg(crc, 8, 16, QLatin1Char('0')),
                                    QStringLiteral("%1").arg(pickleEntry->crc32, 8, 16, QLatin1Char('0')))};
    Result<Unpickled> unpickled = unpickleTorch(pickleData, pickleSize);
    if (!unpickled)
        return Error{path, QStringLiteral("data.pkl: ") + unpickled.error().message};

    QHash<QString, ResolvedStorage> storages;
    StorageResolver resolve = [&](const PickleValue *id) -> Result<ResolvedStorage> {
        // ('storage', storage_class, key, location, numel)
        if (id == nullptr || id->kind != PickleKind::Tuple || id->items.size() < 5
            || id->items[0]->kind != PickleKind::String || id->items[0]->text != QLatin1String("storage")
            || id->items[1]->kind != PickleKind::Global || id->items[2]->kind != PickleKind::String)
            return Error{path, QStringLiteral("unexpected storage reference %1").arg(persistentIdText(id))};
        const QString storageKey = id->items[2]->text;
        const QString className = id->items[1]->text;
        if (auto it = storages.constFind(storageKey + QLatin1Char('/') + className); it != storages.constEnd())
            return *it;
        const std::optional<DType> dtype = dtypeOfStorageClass(className);
        if (!dtype)
            return Error{path, QStringLiteral("unknown storage class %1").arg(className)};
        const ZipEntry *data = archive.find(root + QStringLiteral("data/") + storageKey);
        if (data == nullptr)
            return Error{path, QStringLiteral("storage '%1' is missing from the archive").arg(storageKey)};
        // The record must hold exactly the storage the pickle declares (torch.save writes
        // numel * itemsize bytes; numel counts bytes for an UntypedStorage).
        const bool untyped = className == QLatin1String("torch.UntypedStorage");
        const PickleValue *numel = id->items[4];
        const qint64 itemSize = untyped ? 1 : dtypeSize(*dtype);
        if (numel->kind != PickleKind::Int || numel->integerOverflow || numel->integer < 0
            || numel->integer > data->uncompressedSize / itemSize || numel->integer * itemSize != data->uncompressedSize)
            return Error{path, QStringLiteral("storage '%1' declares %2 elements of %3 bytes, but its record holds %4 bytes")
                                   .arg(storageKey, pickleSummary(numel)).arg(itemSize).arg(data->uncompressedSize)};
        Segment segment;
        segment.file = fileIndex;
        segment.offset = data->dataOffset;
        segment.size = data->compressedSize;
        segment.deflated = data->method == 8;
        segment.inflatedSize = data->uncompressedSize;
        segment.hasCrc32 = true;
        segment.crc32 = data->crc32;
        segment.record = data->name;
        ResolvedStorage resolved;
        resolved.segment = checkpoint.addSegment(segment);
        resolved.dtype = *dtype;
        resolved.untyped = untyped;
        resolved.bigEndian = bigEndian;
        storages.insert(storageKey + QLatin1Char('/') + className, resolved);
        return resolved;
    };
    Status status = collectTorchObjects(*unpickled, resolve, checkpoint);
    if (!status)
        return status.error();
    return checkpoint;
}

} // namespace graft
