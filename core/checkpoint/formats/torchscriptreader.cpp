// TorchScript archive (torch.jit.save, torch.jit.script / trace): torch.save's zip container
// plus the compiled code.
//
//   <root>/data.pkl          the module objects' attributes: `__torch__.<module path>.<Class>`
//                            objects (NEWOBJ + BUILD of a dict), tensors as in torch.save
//   <root>/data/<key>        storages of data.pkl's tensors
//   <root>/code/__torch__/…  each class as Python-like source; its __parameters__ and
//                            __buffers__ lines say which attributes state_dict() holds
//   <root>/constants.pkl     a tuple of the code's constants (tensors captured by tracing),
//                            storages in <root>/constants/<key>
//   <root>/version, extra/, *.debug_pkl
// Nothing is compiled or run. The modules are listed under state_dict() names (torchmodules.h);
// constants are not state: they are listed as other entries ("CONSTANTS.c0", as the code names
// them), each checked against its record, and never offered as tensors to convert.

#include "checkpoint/formats/readers.h"

#include "checkpoint/formats/torchglobals.h"
#include "checkpoint/formats/torchobjects.h"
#include "checkpoint/formats/torchzipstorages.h"

namespace graft {
namespace {

// Adds constants.pkl's values as other entries after checking each tensor's storage record.
Status listConstants(const MappedFilePtr &file, const ZipArchive &archive, const QString &root, Checkpoint &checkpoint, bool bigEndian)
{
    const QString &path = file->path();
    const ZipEntry *entry = archive.find(root + QStringLiteral("constants.pkl"));
    if (entry == nullptr)
        return Status::success(); // written by every torch.jit.save, but holds nothing we list
    Result<Unpickled> constants = unpickleZipMember(file, *entry);
    if (!constants)
        return constants.error();
    const PickleValue *tuple = constants->root;
    if (tuple->kind != PickleKind::Tuple)
        return Error{path, QStringLiteral("constants.pkl holds %1, not a tuple of constants").arg(pickleTypeName(tuple))};
    ZipStorages storages(file, archive, root + QStringLiteral("constants/"), checkpoint, bigEndian, false);
    for (size_t i = 0; i < tuple->items().size(); ++i) {
        const PickleValue *value = tuple->items()[i];
        const QString key = QStringLiteral("CONSTANTS.c%1").arg(i);
        if (value->kind != PickleKind::Tensor) {
            checkpoint.addOther({key, pickleTypeName(value), pickleSummary(value)});
            continue;
        }
        Result<ResolvedStorage> storage = storages.resolve(*value->tensor());
        if (!storage)
            return Error{path, QStringLiteral("constants.pkl: constant %1: %2").arg(key, storage.error().message)};
        const DType dtype = value->tensor()->dtype.value_or(storage->dtype);
        checkpoint.addOther({key, QStringLiteral("torch.Tensor (constant)"),
                             QStringLiteral("%1%2, a constant of the compiled code (not in state_dict())")
                                 .arg(dtypeName(dtype), shapeToString(value->tensor()->shape))});
    }
    return Status::success();
}

} // namespace

Result<Checkpoint> readTorchScript(const MappedFilePtr &file, const ZipArchive &archive, const QString &root)
{
    const QString &path = file->path();
    const ZipEntry *dataEntry = archive.find(root + QStringLiteral("data.pkl"));
    if (dataEntry == nullptr)
        return Error{path, QStringLiteral("TorchScript archive without %1data.pkl (the module's attributes): incomplete or damaged").arg(root)};
    Checkpoint checkpoint(path, CheckpointFormat::TorchScript);
    Result<Unpickled> unpickled = unpickleZipMember(file, *dataEntry);
    if (!unpickled)
        return unpickled.error();

    const bool bigEndian = zipIsBigEndian(file, archive, root);
    ZipStorages storages(file, archive, root + QStringLiteral("data/"), checkpoint, bigEndian);
    ScriptClasses classes(file, archive, root);
    if (Status status = collectTorchObjects(*unpickled, storages.resolver(), checkpoint, &classes); !status)
        return status.error();
    if (Status status = listConstants(file, archive, root, checkpoint, bigEndian); !status)
        return status.error();
    return checkpoint;
}

} // namespace graft
