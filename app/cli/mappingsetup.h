#pragma once
// Opening what `map` and `convert` share: source, target, profile and --rule options.

#include "mapping/automatcher.h"
#include "checkpoint/checkpoint.h"
#include "mapping/profile.h"

#include <optional>

namespace graft::cli {

struct MappingSetup {
    Checkpoint source;
    Checkpoint target;
    MatchOptions options;
    std::optional<Profile> profile;
    QStringList warnings;
};

/// Opens both files, loads the profile if given and parses the rules (profile rules first,
/// then --rule ones). Errors name the file or the rule at fault.
Result<MappingSetup> loadMappingSetup(const QString &sourcePath, const QString &targetPath, const QString &profilePath,
                                      const QStringList &ruleTexts);

} // namespace graft::cli
