#pragma once

#include <QStringList>

namespace graft::cli {

/// `graft-cli diff A B [--profile P] [--rtol R] [--atol A] [--json]`: exit 0 when equal within
/// the tolerance (and no key, shape or dtype differs), 1 when different, 2 on bad input.
/// Once the report is printed it ends the process itself (exitNow).
int runDiff(const QStringList &arguments);

} // namespace graft::cli
