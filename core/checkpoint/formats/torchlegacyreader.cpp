// torch.save legacy format (PyTorch < 1.6, or _use_new_zipfile_serialization=False).
//
//   pickle: magic number 0x1950a86a20f9469cfc6c
//   pickle: protocol version (1001)
//   pickle: sys_info {'protocol_version', 'little_endian', 'type_sizes'}
//   pickle: the object; storages are persistent ids
//           ('storage', torch.FloatStorage, '<key>', 'cpu', numel, view_metadata)
//   pickle: list of storage keys, in the order their data follows
//   for each key: int64 numel (little-endian), then numel * itemsize raw bytes
// Storage data is mapped in place, never copied.

#include "checkpoint/formats/readers.h"

#include "checkpoint/formats/bytereader.h"
#include "checkpoint/formats/torchglobals.h"
#include "checkpoint/formats/torchobjects.h"

#include <QHash>

namespace graft {
namespace {

const QString kLegacyMagic = QStringLiteral("0x1950a86a20f9469cfc6c");

struct StorageReference {
    DType dtype = DType::Float32;
    bool untyped = false;
    qint64 numel = 0; ///< as the persistent id declares it
};

} // namespace

Result<Checkpoint> readTorchLegacy(const MappedFilePtr &file)
{
    const QString &path = file->path();
    auto fail = [&](const QString &what) { return Error{path, QStringLiteral("legacy torch file: ") + what}; };

    qint64 position = 0;
    std::vector<Unpickled> pickles;
    for (int i = 0; i < 5; ++i) {
        Result<Unpickled> next = unpickleTorch(file->data() + position, file->size() - position, position);
        if (!next)
            return fail(next.error().message);
        position += next->bytesConsumed;
        pickles.push_back(std::move(next).value());
    }
    const PickleValue *magic = pickles[0].root;
    if (magic->kind != PickleKind::Int || !magic->integerOverflow || magic->text() != kLegacyMagic)
        return fail(QStringLiteral("wrong magic number"));
    const PickleValue *protocol = pickles[1].root;
    if (protocol->kind != PickleKind::Int || protocol->integer != 1001)
        return fail(QStringLiteral("unsupported protocol version %1").arg(pickleSummary(protocol)));
    bool bigEndian = false;
    if (pickles[2].root->kind == PickleKind::Dict) {
        for (const auto &[k, v] : pickles[2].root->entries()) {
            if (k->kind == PickleKind::String && k->text() == QLatin1String("little_endian") && v->kind == PickleKind::Bool)
                bigEndian = !v->boolean;
        }
    }
    const PickleValue *keys = pickles[4].root;
    if (keys->kind != PickleKind::List)
        return fail(QStringLiteral("storage key list missing"));

    // Element types of the storages, from every storage id the object pickle still holds: in its
    // tensors (which keep the id's parts) and in bare persistent ids. An id only a dropped value
    // held is gone (the unpickler's collector reclaims it): nothing the file lists can use it.
    // (Scanning persistent ids alone lost the tensors' ids once the collector ran: a legacy file
    // of 20k tensors failed with "storage ... is listed but never used".)
    QHash<QString, StorageReference> references;
    const PickleArena &arena = *pickles[3].arena;
    for (size_t i = 0; i < arena.size(); ++i) {
        const PickleValue &value = arena.at(i);
        std::optional<PickledStorageId> id;
        const PickleValue *unreadable = nullptr;
        if (value.kind == PickleKind::PersistentId) {
            id = torchStorageId(value.state());
            unreadable = value.state();
        } else if (value.kind == PickleKind::Tensor) {
            id = value.tensor()->storageId;
            unreadable = value.tensor()->storage;
        } else {
            continue;
        }
        if (!id)
            return fail(QStringLiteral("unexpected storage reference %1").arg(pickleSummary(unreadable)));
        const std::optional<DType> dtype = dtypeOfStorageClass(id->className());
        if (!dtype)
            return fail(QStringLiteral("unknown storage class %1").arg(id->className()));
        const PickleValue *declared = id->numel;
        if (declared->kind != PickleKind::Int || declared->integerOverflow || declared->integer < 0)
            return fail(QStringLiteral("storage '%1' has an invalid size").arg(id->keyText()));
        references.insert(id->keyText(), {*dtype, id->className() == QLatin1String("torch.UntypedStorage"), declared->integer});
    }

    Checkpoint checkpoint(path, CheckpointFormat::PyTorchLegacy);
    const int fileIndex = checkpoint.addFile(file);
    QHash<QString, int> segments;
    ByteReader reader(file->data(), file->size());
    reader.seek(position);
    for (const PickleValue *key : keys->items()) {
        if (key->kind != PickleKind::String)
            return fail(QStringLiteral("a storage key is not a string"));
        const auto reference = references.constFind(key->text());
        if (reference == references.constEnd())
            return fail(QStringLiteral("storage '%1' is listed but never used").arg(key->text()));
        const qint64 storageStart = reader.position();
        const qint64 numel = reader.i64();
        const qint64 itemSize = reference->untyped ? 1 : dtypeSize(reference->dtype);
        if (reader.failed() || numel < 0 || numel > reader.remaining() / itemSize)
            return fail(QStringLiteral("storage '%1' at byte %2 claims %3 elements, more than the file holds")
                            .arg(key->text()).arg(storageStart).arg(numel));
        if (numel != reference->numel)
            return fail(QStringLiteral("storage '%1' at byte %2 holds %3 elements, but the pickle declares %4")
                            .arg(key->text()).arg(storageStart).arg(numel).arg(reference->numel));
        Segment segment;
        segment.file = fileIndex;
        segment.offset = reader.position();
        segment.size = numel * itemSize;
        reader.skip(segment.size);
        if (segments.contains(key->text()))
            return fail(QStringLiteral("storage '%1' is listed twice").arg(key->text()));
        segments.insert(key->text(), checkpoint.addSegment(segment));
    }

    StorageResolver resolve = [&](const PickledTensor &tensor) -> Result<ResolvedStorage> {
        if (!tensor.storageId)
            return Error{path, QStringLiteral("unexpected storage reference")};
        const QString key = tensor.storageId->keyText();
        const auto segment = segments.constFind(key);
        if (segment == segments.constEnd())
            return Error{path, QStringLiteral("storage '%1' has no data in the file").arg(key)};
        ResolvedStorage resolved;
        resolved.segment = *segment;
        resolved.dtype = references.value(key).dtype;
        resolved.untyped = references.value(key).untyped;
        resolved.bigEndian = bigEndian;
        // A view into a larger storage: ('storage', cls, root_key, location, size, (view_key, offset, size)).
        if (tensor.storageId->isView)
            return Error{path, QStringLiteral("storage views (PyTorch < 0.4 files) are not supported")};
        return resolved;
    };
    Status status = collectTorchObjects(pickles[3], resolve, checkpoint);
    if (!status)
        return status.error();
    return checkpoint;
}

} // namespace graft
