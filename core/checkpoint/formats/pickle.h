#pragma once
// An allowlist unpickler: turns a pickle (protocols 0-4 opcodes) into a tree of plain values.
// It NEVER imports or calls anything. GLOBAL names become inert Global values; REDUCE/NEWOBJ
// produce a value only for plain Python containers (OrderedDict, dict, set, _codecs.encode) and
// for what the caller's PickleReducer recognises (torch's tensor rebuilds: TorchGlobals), and an
// opaque Object for everything else, so `os.system` in a hostile file is just a name in the tree.
//
// Values live in an arena owned by the result: sharing (memo), cycles and deep nesting are
// harmless to destroy. Limits: stack, memo entries and container nesting are capped; every
// length is checked against the bytes left.

#include "base/result.h"
#include "checkpoint/formats/picklearena.h"
#include "checkpoint/formats/picklereducer.h"
#include "checkpoint/formats/picklerender.h"
#include "checkpoint/formats/picklevalue.h"

#include <memory>

namespace graft {

struct Unpickled {
    std::unique_ptr<PickleArena> arena;
    const PickleValue *root = nullptr;
    qint64 bytesConsumed = 0; ///< up to and including STOP
};

/// Unpickles one pickle from `data`. `reducer` (may be null: plain Python only) gives meaning
/// to the calls a format needs, e.g. TorchGlobals. Errors say what failed and at which byte
/// offset (relative to `data` plus `baseOffset`); no file name (the caller adds it).
Result<Unpickled> unpickle(const uchar *data, qint64 size, qint64 baseOffset = 0, const PickleReducer *reducer = nullptr);

} // namespace graft
