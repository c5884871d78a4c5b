#pragma once

#include <QStringList>

namespace graft::cli {

/// `graft-cli inspect FILE [--json]`: lists a checkpoint's tensors and other entries.
/// `arguments` excludes the program and command names. Returns the exit code of a usage or
/// open error; once the listing is printed it ends the process itself (exitNow).
int runInspect(const QStringList &arguments);

} // namespace graft::cli
