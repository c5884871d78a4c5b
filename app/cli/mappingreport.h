#pragma once
// Printing a MappingResult: the table and the JSON of `graft-cli map` (also used by convert
// when it refuses).

#include "mapping/mapping.h"

#include <QString>

namespace graft::cli {

QString mappingTable(const MappingResult &result);
QString mappingJson(const MappingResult &result, const QString &sourcePath, const QString &targetPath);

} // namespace graft::cli
