#pragma once

#include <QStringList>

namespace graft::cli {

/// `graft-cli map SOURCE TARGET [--profile P] [--rule 'REGEX=>REPLACEMENT']... [--save-profile OUT] [--json]`.
/// Returns the exit code of a usage, open or save error; once the mapping is printed (and the
/// profile saved) it ends the process itself (exitNow).
int runMap(const QStringList &arguments);

} // namespace graft::cli
