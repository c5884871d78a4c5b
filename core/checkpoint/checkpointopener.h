#pragma once
// Opens any supported checkpoint, choosing the reader from the file's content (magic bytes)
// and, where content is ambiguous (.eqx vs .npy, JSON kinds), its name.

#include "checkpoint/checkpoint.h"

namespace graft {

/// Opens `path` and returns its index. Errors name the file and what is wrong with it.
Result<Checkpoint> openCheckpoint(const QString &path);

} // namespace graft
