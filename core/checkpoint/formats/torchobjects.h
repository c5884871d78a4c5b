#pragma once
// Turns an unpickled torch.save object tree into Checkpoint entries: tensors keyed by their
// dotted path from the root (dict keys joined with '.', list/tuple indices as numbers), and
// every other leaf (numbers, strings, Namespace, numpy scalars...) as an OtherEntry. A pickled
// nn.Module (or TorchScript module) is listed as state_dict() names it, its attributes folded
// into one OtherEntry per module (torchmodules.h).
// Shared by the zip, legacy and TorchScript readers, which differ only in where storages live.

#include "checkpoint/formats/pickle.h"
#include "checkpoint/formats/torchscriptclasses.h"

#include <functional>

namespace graft {

/// A storage named by a persistent id, resolved by the container reader.
struct ResolvedStorage {
    int segment = -1;
    DType dtype = DType::Float32; ///< element type the storage class names
    bool untyped = false;         ///< torch.UntypedStorage: the tensor's own dtype applies
    bool bigEndian = false;       ///< the checkpoint was written on a big-endian machine
};

/// Maps a tensor's storage id (PickledTensor::storageId, or the id it could not read) to a
/// storage, or an error.
using StorageResolver = std::function<Result<ResolvedStorage>(const PickledTensor &tensor)>;

/// Element type named by a torch storage class ("torch.FloatStorage" -> Float32).
std::optional<DType> dtypeOfStorageClass(const QString &qualifiedName);

/// Walks the unpickled root and adds its tensors and other leaves to `checkpoint`. Shared
/// containers appear under each of their keys, within a budget of steps proportional to the
/// pickle's size (errors name the file). An eager nn.Module met on the way sets the format to
/// PyTorchModule. `script`: a TorchScript archive's classes (its `__torch__.` objects are then
/// modules), or nullptr. Each tensor's shape and strides move from `unpickled` into the index
/// (PickledTensor::emittedAs says where): walk an Unpickled once.
Status collectTorchObjects(Unpickled &unpickled, const StorageResolver &resolve, Checkpoint &checkpoint,
                           ScriptClasses *script = nullptr);

} // namespace graft
