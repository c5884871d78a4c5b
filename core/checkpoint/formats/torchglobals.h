#pragma once
// The torch callables a torch.save pickle needs, as a PickleReducer: the tensor rebuild
// functions (torch._utils._rebuild_tensor, _v2, _v3), parameters (_rebuild_parameter,
// _rebuild_parameter_with_state) and torch.Size. They become Tensor values (PickledTensor:
// storage id, offset, shape, strides, dtype) that collectTorchObjects resolves; nothing is
// imported or called. Also the plain data a pickled nn.Module or TorchScript archive needs:
// protocol 2's `__builtin__.set` (a module's _non_persistent_buffers_set), TorchScript's
// torch.jit._pickle list builders, _rebuild_from_type_v2 around a known rebuild, and the legacy
// format's ('module', class, source file, source) persistent ids, which stand for the class.
// Every other name stays an inert Object.

#include "checkpoint/formats/pickle.h"

namespace graft {

class TorchGlobals : public PickleReducer {
public:
    Result<const PickleValue *> reduce(const QString &name, const PickleValue *args, PickleArena &arena) const override;
    Result<const PickleValue *> persistentLoad(const PickleValue *id, PickleArena &arena) const override;
};

/// The parts of a storage's persistent id in torch's form, a tuple ('storage', <class Global>,
/// <key string>, location, numel[, view]); nullopt for any other value.
std::optional<PickledStorageId> torchStorageId(const PickleValue *id);

/// unpickle() with TorchGlobals: a pickle written by torch.save.
Result<Unpickled> unpickleTorch(const uchar *data, qint64 size, qint64 baseOffset = 0);

} // namespace graft
