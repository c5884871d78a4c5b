#pragma once
// The one place where a container format gives meaning to a pickled call. The unpickler itself
// knows only plain Python (dict, OrderedDict, set, frozenset, _codecs.encode); every other
// REDUCE is offered to the reducer the caller passed, and what it declines stays an inert
// Object. Nothing is ever imported or called: a reducer reads the arguments and builds values.

#include "base/result.h"
#include "checkpoint/formats/picklearena.h"

#include <QString>

namespace graft {

class PickleReducer {
public:
    virtual ~PickleReducer() = default;

    /// REDUCE of the global `name` ("module.name") with `args` (always a Tuple). Returns the
    /// value it built in `arena`, nullptr to leave the call an inert Object, or an Error whose
    /// message says what is wrong (the unpickler adds the byte offset; no file name).
    virtual Result<const PickleValue *> reduce(const QString &name, const PickleValue *args, PickleArena &arena) const = 0;

    /// BINPERSID/PERSID with `id`: the value it stands for, or nullptr to keep a PersistentId
    /// (a storage, which the container resolves later). Default: always a PersistentId.
    virtual Result<const PickleValue *> persistentLoad(const PickleValue *id, PickleArena &arena) const
    {
        Q_UNUSED(id);
        Q_UNUSED(arena);
        return static_cast<const PickleValue *>(nullptr);
    }
};

} // namespace graft
