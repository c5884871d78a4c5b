#include "cli/mappingsetup.h"

#include "checkpoint/checkpointopener.h"

namespace graft::cli {

Result<MappingSetup> loadMappingSetup(const QString &sourcePath, const QString &targetPath, const QString &profilePath,
                                      const QStringList &ruleTexts)
{
    MappingSetup setup;
    Result<Checkpoint> source = openCheckpoint(sourcePath);
    if (!source)
        return source.error();
    Result<Checkpoint> target = openCheckpoint(targetPath);
    if (!target)
        return target.error();
    setup.source = std::move(source).value();
    setup.target = std::move(target).value();
    if (!profilePath.isEmpty()) {
        Result<Profile> profile = loadProfile(profilePath);
        if (!profile)
            return profile.error();
        setup.options = profile->toMatchOptions();
        setup.warnings = profileMismatchWarnings(*profile, setup.source, setup.target);
        setup.profile = std::move(profile).value();
    }
    for (const QString &text : ruleTexts) {
        Result<RenameRule> rule = RenameRule::parse(text);
        if (!rule)
            return Error{QStringLiteral("--rule"), rule.error().message};
        setup.options.rules.push_back(*rule);
    }
    return setup;
}

} // namespace graft::cli
