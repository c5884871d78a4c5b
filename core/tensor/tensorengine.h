#pragma once
// The tensor library behind transforms on data, loaded on first need. (.pt files are written by
// core/checkpoint/writers/torchwriter.cpp without it: LibTorch's pickle_save output needs weights_only=False.)
//
// LibTorch costs ~0.44 s and ~157 MB before main() in any process that links it, so it lives
// in a separate module (graft_torch, a shared library opened with QLibrary). Listing,
// byte-preserving copies and everything else in core never load it. Headers here mention no
// torch types: tensors cross the boundary as contiguous little-endian bytes + dtype + shape.

#include "checkpoint/checkpoint.h"
#include "mapping/transform.h"

#include <memory>
#include <optional>
#include <vector>

namespace graft {

/// A contiguous tensor handed to the engine (not owned).
struct TensorInput {
    const uchar *data = nullptr;
    TensorSpec spec;
};

/// A contiguous tensor produced by the engine.
struct TensorOutput {
    std::vector<uchar> bytes;
    TensorSpec spec;
};

class TensorEngine {
public:
    virtual ~TensorEngine() = default;
    /// "LibTorch 1.13.0", for diagnostics.
    virtual QString description() const = 0;
    /// Applies `chain` to `inputs`. Library exceptions are caught inside and returned as
    /// errors (no file name: the caller adds it).
    virtual Result<TensorOutput> apply(const std::vector<TensorInput> &inputs, const TransformChain &chain) = 0;
};

/// The process-wide engine, loading the module on the first call. Looks in $GRAFT_PLUGIN_DIR,
/// next to the executable, relative to it (bin/../<the module dir this build installs to>,
/// ../lib/graft, ../lib/x86_64-linux-gnu/graft: an installed, packaged or unpacked tree works
/// wherever it lies), the build tree and the configured install prefix. The error says where
/// it looked and why loading failed.
Result<TensorEngine *> tensorEngine();

/// True once tensorEngine() has loaded the module (tests check that listing never does).
bool tensorEngineLoaded();

/// What applyExactWidening() makes: the output's spec and its bytes (not zeroed before the cast
/// wrote them).
struct WidenedTensor {
    TensorSpec spec;
    TensorBytes bytes;
};

/// `chain` applied without the engine, when it is reshapes around exactly one cast from bfloat16
/// or float16 to float32 on one contiguous little-endian input: the bytes LibTorch's cast gives,
/// bit for bit (tst_transform compares every 16-bit pattern). nullopt for any other chain or
/// input. A bf16 checkpoint converted onto a float32 skeleton (the usual Equinox port) needs
/// nothing else, and loading the engine costs 0.44 s and 157 MB (exactwidening.cpp).
std::optional<WidenedTensor> applyExactWidening(const TensorInput &input, const TransformChain &chain);

} // namespace graft

/// The module's one exported symbol; returns a new engine owned by the caller.
extern "C" typedef graft::TensorEngine *(*GraftCreateTensorEngine)();
