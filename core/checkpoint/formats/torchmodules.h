#pragma once
// Pickled nn.Module objects read as state_dict() reads them, never built or run.
//
// torch.save(model) pickles each module as NEWOBJ of its class (torch.nn.modules.conv.Conv2d,
// or a user's __main__.Net) and BUILD with its __dict__:
//   {'training': True, '_parameters': OrderedDict{name: Parameter | None},
//    '_buffers': OrderedDict{name: Tensor | None}, '_non_persistent_buffers_set': set(names),
//    '_modules': OrderedDict{name: Module | None}, hook OrderedDicts, 'in_channels': 3, ...}
// The class is only a name: the object is data whatever the class. state_dict() lists, per
// module, its parameters, then its persistent buffers, then each child's entries under
// "<child>." (None entries skipped); that order and those names are kept here.
//
// A TorchScript module (torch.jit.save) is a `__torch__.` object whose state is a flat dict of
// attributes; its class source in code/ (ScriptClasses) says which are parameters and buffers.
// Every buffer is listed: a scripted module's state_dict() keeps non-persistent buffers too.

#include "checkpoint/formats/pickle.h"
#include "checkpoint/formats/torchscriptclasses.h"

#include <utility>
#include <vector>

namespace graft {

/// One module's state split the way state_dict() sees it.
struct ModuleParts {
    using Named = std::pair<QString, const PickleValue *>;
    std::vector<Named> tensors;    ///< parameters, then buffers, in state_dict() order (Tensor values)
    std::vector<Named> children;   ///< submodules, in order (None skipped)
    std::vector<Named> attributes; ///< every other attribute (shown in the module's summary)
};

/// True for a pickled eager nn.Module: an object whose state dict holds `_parameters` and `_modules`.
bool isEagerModule(const PickleValue *value);

/// True for a TorchScript object with attribute state (a `__torch__.` class, dict state).
bool isScriptObject(const PickleValue *value);

/// Splits an eager module found at `key`. Errors (no file name) say what is wrong and where:
/// `_modules` that is not a dict, a tensor that needs a call Graft does not make.
Result<ModuleParts> eagerModuleParts(const PickleValue *module, const QString &key);

/// Splits a TorchScript module found at `key` with its class definition (nullptr when code/
/// lacks it: every tensor attribute is then listed, none can be told from a parameter).
Result<ModuleParts> scriptModuleParts(const PickleValue *module, const ScriptClass *definition, const QString &key);

/// "Conv2d(in_channels=3, out_channels=64, kernel_size=(3, 3), …)": the class's short name and
/// its public attributes (and, for TorchScript, its Final constants), at most `maxLength` characters.
QString moduleSummary(const QString &className, const ModuleParts &parts, const ScriptClass *definition, int maxLength = 200);

} // namespace graft
