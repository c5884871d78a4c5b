#pragma once

#include <QStringList>

namespace graft::cli {

/// `graft-cli map SOURCE TARGET [--profile P] [--rule 'REGEX=>REPLACEMENT']... [--save-profile OUT] [--json]`.
int runMap(const QStringList &arguments);

} // namespace graft::cli
