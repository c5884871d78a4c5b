#pragma once
// What a mapping starts from, the same in the CLI (`map`, `convert`, `diff --profile`) and the
// GUI: the opened source and target, the match options a profile stands for (with warnings
// about its entries these files lack), and rename rules given as REGEX=>REPLACEMENT text.
// The mapping itself is then matchCheckpoints(source, target, options).

#include "checkpoint/checkpoint.h"
#include "mapping/automatcher.h"
#include "mapping/profile.h"

#include <optional>

namespace graft {

/// A profile loaded for one source/target pair.
struct ProfileSetup {
    Profile profile;
    MatchOptions options;  ///< profile.toMatchOptions()
    QStringList warnings;  ///< entries that name keys `source` or `target` lacks
};

/// Loads the profile at `profilePath` for mapping `source` onto `target`. Errors name the
/// profile file.
Result<ProfileSetup> loadProfileSetup(const QString &profilePath, const Checkpoint &source, const Checkpoint &target);

/// Parses each REGEX=>REPLACEMENT of `ruleTexts` and appends it to `options.rules`, in order.
/// The first rule that does not parse is the error (its file is `origin`, e.g. "--rule");
/// `options` is then unchanged.
Status addRenameRules(MatchOptions &options, const QStringList &ruleTexts, const QString &origin = QString());

struct MappingSetup {
    Checkpoint source;
    Checkpoint target;
    MatchOptions options;
    std::optional<Profile> profile;
    QStringList warnings;
};

/// Opens both files, loads the profile if `profilePath` is not empty and parses the rules
/// (profile rules first, then `ruleTexts`). Errors name the file at fault; a rule that does not
/// parse is reported with `ruleOrigin` as its file.
Result<MappingSetup> loadMappingSetup(const QString &sourcePath, const QString &targetPath, const QString &profilePath,
                                      const QStringList &ruleTexts, const QString &ruleOrigin = QString());

} // namespace graft
