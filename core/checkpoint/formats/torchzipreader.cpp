// torch.save zip container (PyTorch >= 1.6, incl. 2.x).
//
//   <root>/data.pkl             pickle (protocol 2) of the saved object; tensors are
//                               torch._utils._rebuild_tensor_v2/_v3 calls whose storages are
//                               persistent ids ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
//   <root>/data/<key>           raw little-endian bytes of storage <key> (stored, 64-byte aligned)
//   <root>/version, byteorder, .format_version, .storage_alignment, .data/serialization_id
// <root> is the file stem or "archive". Storages are mapped, never read here. The same
// container with <root>/constants.pkl and <root>/code/ is a TorchScript archive
// (torchscriptreader.cpp).

#include "checkpoint/formats/readers.h"

#include "checkpoint/formats/earlypickle.h"
#include "checkpoint/formats/torchglobals.h"
#include "checkpoint/formats/torchobjects.h"
#include "checkpoint/formats/torchzipstorages.h"

namespace graft {

bool isTorchScriptMember(const QString &name)
{
    return name == QLatin1String("constants.pkl") || name.endsWith(QLatin1String("/constants.pkl")) || name.startsWith(QLatin1String("code/__torch__/"))
        || name.contains(QLatin1String("/code/__torch__/"));
}

Result<Checkpoint> readTorchZip(const MappedFilePtr &file, const ZipArchive &archive, EarlyPickle *early)
{
    const QString &path = file->path();
    const ZipEntry *pickleEntry = nullptr;
    const ZipEntry *scriptMember = nullptr;
    for (const ZipEntry &entry : archive.entries()) {
        if (entry.name == QLatin1String("data.pkl") || entry.name.endsWith(QLatin1String("/data.pkl"))) {
            if (pickleEntry == nullptr || entry.name.size() < pickleEntry->name.size())
                pickleEntry = &entry; // the top-level one (TorchScript archives nest others)
        } else if (isTorchScriptMember(entry.name)) {
            scriptMember = &entry;
        }
    }
    if (pickleEntry == nullptr && scriptMember != nullptr)
        return Error{path, QStringLiteral("TorchScript archive without data.pkl (the module's attributes): incomplete or damaged")};
    if (pickleEntry == nullptr)
        return Error{path, QStringLiteral("zip archive has no data.pkl: not a torch.save file")};
    const QString root = pickleEntry->name.left(pickleEntry->name.size() - int(qstrlen("data.pkl")));
    if (scriptMember != nullptr && scriptMember->name.startsWith(root))
        return readTorchScript(file, archive, root);

    Checkpoint checkpoint(path, CheckpointFormat::PyTorchZip);
    std::optional<Result<Unpickled>> taken = early != nullptr ? early->take(*pickleEntry) : std::nullopt;
    Result<Unpickled> unpickled = taken ? std::move(*taken) : unpickleZipMember(file, *pickleEntry);
    if (!unpickled)
        return unpickled.error();

    // torch.save writes one record per storage and most storages hold one tensor.
    checkpoint.reserve(archive.entries().size(), archive.entries().size());
    ZipStorages storages(file, archive, root + QStringLiteral("data/"), checkpoint, zipIsBigEndian(file, archive, root));
    Status status = collectTorchObjects(*unpickled, storages.resolver(), checkpoint);
    if (!status)
        return status.error();
    return checkpoint;
}

} // namespace graft
