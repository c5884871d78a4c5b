#pragma once

#include <QStringList>

namespace graft::cli {

/// `graft-cli convert SOURCE TARGET -o OUT [--profile P] [--format eqx|safetensors|npz|pt|msgpack] [--keep-unmapped]`.
/// Returns the exit code of a failure; after a successful write it ends the process itself
/// (exitNow: nothing it built is freed one allocation at a time).
int runConvert(const QStringList &arguments);

} // namespace graft::cli
