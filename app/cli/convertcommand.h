#pragma once

#include <QStringList>

namespace graft::cli {

/// `graft-cli convert SOURCE TARGET -o OUT [--profile P] [--format eqx|safetensors|npz|pt|msgpack] [--keep-unmapped]`.
int runConvert(const QStringList &arguments);

} // namespace graft::cli
