#include "mapping/mappingsetup.h"

#include "checkpoint/checkpointopener.h"

#include <QFileInfo>

namespace graft {

Result<ProfileSetup> loadProfileSetup(const QString &profilePath, const Checkpoint &source, const Checkpoint &target)
{
    Result<Profile> profile = loadProfile(profilePath);
    if (!profile)
        return profile.error();
    ProfileSetup setup;
    setup.options = profile->toMatchOptions();
    setup.warnings = profileMismatchWarnings(*profile, source, target);
    setup.profile = std::move(profile).value();
    return setup;
}

Status addRenameRules(MatchOptions &options, const QStringList &ruleTexts, const QString &origin)
{
    std::vector<RenameRule> parsed;
    for (const QString &text : ruleTexts) {
        Result<RenameRule> rule = RenameRule::parse(text);
        if (!rule)
            return Error{origin, rule.error().message};
        parsed.push_back(*rule);
    }
    options.rules.insert(options.rules.end(), parsed.begin(), parsed.end());
    return Status::success();
}

Result<MappingSetup> loadMappingSetup(const QString &sourcePath, const QString &targetPath, const QString &profilePath,
                                      const QStringList &ruleTexts, const QString &ruleOrigin)
{
    MappingSetup setup;
    Result<Checkpoint> source = openCheckpoint(sourcePath);
    if (!source)
        return source.error();
    setup.source = std::move(source).value();
    // A file converted or compared onto itself (a re-save, a format change) is opened once:
    // the two Checkpoints share its index.
    const QString canonicalSource = QFileInfo(sourcePath).canonicalFilePath();
    if (!canonicalSource.isEmpty() && canonicalSource == QFileInfo(targetPath).canonicalFilePath()) {
        setup.target = setup.source;
    } else {
        Result<Checkpoint> target = openCheckpoint(targetPath);
        if (!target)
            return target.error();
        setup.target = std::move(target).value();
    }
    if (!profilePath.isEmpty()) {
        Result<ProfileSetup> profile = loadProfileSetup(profilePath, setup.source, setup.target);
        if (!profile)
            return profile.error();
        setup.options = std::move(profile->options);
        setup.warnings = std::move(profile->warnings);
        setup.profile = std::move(profile->profile);
    }
    if (Status added = addRenameRules(setup.options, ruleTexts, ruleOrigin); !added)
        return added.error();
    return setup;
}

} // namespace graft
