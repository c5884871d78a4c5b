#pragma once
// Unpickled values as a user reads them: short summaries and Python type names, for the
// "other" entries of a checkpoint (hyper-parameters, numpy scalars, ...) and error messages.

#include "checkpoint/formats/picklevalue.h"

#include <QString>

namespace graft {

/// A short readable rendering, e.g. "Namespace(lr=0.1, arch='vgg')", "0.75", "[2 items]".
QString pickleSummary(const PickleValue *value, int maxLength = 120);
/// The Python type name a user would recognise: "int", "str", "argparse.Namespace", ...
QString pickleTypeName(const PickleValue *value);

} // namespace graft
