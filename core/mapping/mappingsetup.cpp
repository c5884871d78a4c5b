#include "mapping/mappingsetup.h"

#include "checkpoint/checkpointopener.h"

#include <QFileInfo>

#include <future>

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
    // A file converted or compared onto itself (a re-save, a format change) is opened once:
    // the two Checkpoints share its index. Two files open at once, the target on a thread of
    // its own: a 100k-key source and a 100k-leaf skeleton each take about half a second.
    const QString canonicalSource = QFileInfo(sourcePath).canonicalFilePath();
    const bool sameFile = !canonicalSource.isEmpty() && canonicalSource == QFileInfo(targetPath).canonicalFilePath();
    std::future<Result<Checkpoint>> target;
    if (!sameFile)
        target = std::async(std::launch::async, [targetPath] { return openCheckpoint(targetPath); });
    Result<Checkpoint> source = openCheckpoint(sourcePath);
    // The source's error comes first, as if the files were opened one after the other.
    Result<Checkpoint> opened = sameFile ? Result<Checkpoint>(Checkpoint()) : target.get();
    if (!source)
        return source.error();
    if (!opened)
        return opened.error();
    setup.source = std::move(source).value();
    setup.target = sameFile ? setup.source : std::move(opened).value();
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
