#include "mapping/profile.h"

#include "base/strictjson.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>

namespace graft {
namespace {

constexpr qint64 kMaxProfileBytes = 256ll << 20;
const QString kFormat = QStringLiteral("graft-profile");

QJsonObject sideToJson(const ProfileSide &side)
{
    return {{QStringLiteral("file"), side.file},
            {QStringLiteral("format"), side.format},
            {QStringLiteral("keys"), side.keys},
            {QStringLiteral("fingerprint"), side.fingerprint}};
}

ProfileSide sideFromJson(const QJsonObject &json)
{
    ProfileSide side;
    side.file = json.value(QStringLiteral("file")).toString();
    side.format = json.value(QStringLiteral("format")).toString();
    side.keys = json.value(QStringLiteral("keys")).toInt();
    side.fingerprint = json.value(QStringLiteral("fingerprint")).toString();
    return side;
}

Result<QStringList> stringList(const QJsonValue &value, const QString &what)
{
    if (value.isUndefined() || value.isNull())
        return QStringList();
    if (!value.isArray())
        return Error{QString(), QStringLiteral("\"%1\" must be a list of strings").arg(what)};
    QStringList list;
    for (const QJsonValue &item : value.toArray()) {
        if (!item.isString())
            return Error{QString(), QStringLiteral("\"%1\" must be a list of strings").arg(what)};
        list << item.toString();
    }
    return list;
}

} // namespace

MatchOptions Profile::toMatchOptions() const
{
    MatchOptions options;
    options.rules = rules;
    options.explicitMappings = mappings;
    options.keptTargets = kept;
    options.ignoredSources = ignored;
    return options;
}

QString checkpointFingerprint(const Checkpoint &checkpoint)
{
    QStringList lines;
    lines.reserve(static_cast<int>(checkpoint.tensors().size()));
    for (const TensorEntry &tensor : checkpoint.tensors())
        lines << tensor.key + QLatin1Char(' ') + shapeToString(tensor.shape);
    lines.sort();
    return QStringLiteral("sha256:") + QString::fromLatin1(QCryptographicHash::hash(lines.join(QLatin1Char('\n')).toUtf8(),
                                                                                     QCryptographicHash::Sha256).toHex());
}

ProfileSide describeSide(const Checkpoint &checkpoint)
{
    return {QFileInfo(checkpoint.path()).fileName(), formatName(checkpoint.format()), static_cast<int>(checkpoint.tensors().size()),
            checkpointFingerprint(checkpoint)};
}

Profile profileFromResult(const MappingResult &result, const Checkpoint &source, const Checkpoint &target,
                          const std::vector<RenameRule> &rules, const QString &notes)
{
    Profile profile;
    profile.source = describeSide(source);
    profile.target = describeSide(target);
    profile.rules = rules;
    profile.notes = notes;
    for (const Mapping &mapping : result.mappings) {
        if (mapping.origin == MatchOrigin::Constant)
            continue; // set by the matcher each time (a BatchNorm flag), not a pair of the user's
        if (mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable) {
            profile.mappings.push_back({mapping.target, mapping.sources, mapping.transforms, true});
        } else if (mapping.status == MatchStatus::Kept) {
            const int index = target.indexOf(mapping.target);
            if (index < 0 || target.tensors()[static_cast<size_t>(index)].kind != LeafKind::Scalar)
                profile.kept << mapping.target; // scalars are kept anyway
        }
    }
    return profile;
}

Status saveProfile(const Profile &profile, const QString &path)
{
    QJsonArray rules;
    for (const RenameRule &rule : profile.rules)
        rules.append(QJsonObject{{QStringLiteral("pattern"), rule.pattern()}, {QStringLiteral("replacement"), rule.replacement()}});
    QJsonArray mappings;
    for (const ExplicitMapping &mapping : profile.mappings) {
        QJsonObject entry{{QStringLiteral("target"), mapping.target}};
        if (mapping.sources.size() == 1)
            entry.insert(QStringLiteral("source"), mapping.sources.front());
        else
            entry.insert(QStringLiteral("sources"), QJsonArray::fromStringList(mapping.sources));
        QJsonArray transforms;
        for (const Transform &transform : mapping.transforms)
            transforms.append(transformToJson(transform));
        entry.insert(QStringLiteral("transforms"), transforms);
        mappings.append(entry);
    }
    const QJsonObject root{{QStringLiteral("format"), kFormat},
                           {QStringLiteral("version"), 1},
                           {QStringLiteral("source"), sideToJson(profile.source)},
                           {QStringLiteral("target"), sideToJson(profile.target)},
                           {QStringLiteral("rules"), rules},
                           {QStringLiteral("mappings"), mappings},
                           {QStringLiteral("kept"), QJsonArray::fromStringList(profile.kept)},
                           {QStringLiteral("ignored"), QJsonArray::fromStringList(profile.ignored)},
                           {QStringLiteral("notes"), profile.notes}};
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Error{path, QStringLiteral("cannot write profile: %1").arg(file.errorString())};
    file.write(QJsonDocument(root).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return Error{path, QStringLiteral("cannot write profile: %1").arg(file.errorString())};
    return Status::success();
}

Result<Profile> loadProfile(const QString &path)
{
    QFile file(path);
    if (!QFileInfo(path).isFile())
        return Error{path, QFileInfo::exists(path) ? QStringLiteral("is not a file") : QStringLiteral("no such file")};
    if (!file.open(QIODevice::ReadOnly))
        return Error{path, QStringLiteral("cannot open: %1").arg(file.errorString())};
    if (file.size() > kMaxProfileBytes)
        return Error{path, QStringLiteral("profile is %1 bytes (at most %2)").arg(file.size()).arg(kMaxProfileBytes)};
    // Strict: a key written twice (which QJsonDocument silently resolves) is an error.
    Result<QJsonDocument> parsed = parseStrictJson(file.readAll());
    if (!parsed)
        return Error{path, parsed.error().message};
    const QJsonDocument document = *parsed;
    if (!document.isObject())
        return Error{path, QStringLiteral("a profile must be a JSON object")};
    const QJsonObject root = document.object();
    if (root.value(QStringLiteral("format")).toString() != kFormat)
        return Error{path, QStringLiteral("not a Graft profile (\"format\" is not \"%1\")").arg(kFormat)};
    if (const QJsonValue version = root.value(QStringLiteral("version")); version.toInt(-1) != 1) {
        // Show the value as written: "1" (a string) is not 1.
        QString shown = version.toVariant().toString();
        if (version.isUndefined())
            shown = QStringLiteral("(none)");
        else if (version.isString())
            shown = QStringLiteral("\"%1\"").arg(version.toString());
        return Error{path, QStringLiteral("unsupported profile version %1 (this Graft reads version 1)").arg(shown)};
    }
    Profile profile;
    profile.source = sideFromJson(root.value(QStringLiteral("source")).toObject());
    profile.target = sideFromJson(root.value(QStringLiteral("target")).toObject());
    profile.notes = root.value(QStringLiteral("notes")).toString();

    // A section of the wrong type would otherwise read as empty and half-apply the profile.
    for (const char *section : {"rules", "mappings"}) {
        const QJsonValue value = root.value(QLatin1String(section));
        if (!value.isUndefined() && !value.isNull() && !value.isArray())
            return Error{path, QStringLiteral("\"%1\" must be a list").arg(QLatin1String(section))};
    }
    const QJsonArray rules = root.value(QStringLiteral("rules")).toArray();
    for (int i = 0; i < rules.size(); ++i) {
        const QJsonObject rule = rules[i].toObject();
        Result<RenameRule> parsed = RenameRule::create(rule.value(QStringLiteral("pattern")).toString(),
                                                       rule.value(QStringLiteral("replacement")).toString());
        if (!parsed)
            return Error{path, QStringLiteral("rules[%1]: %2").arg(i).arg(parsed.error().message)};
        profile.rules.push_back(*parsed);
    }
    const QJsonArray mappings = root.value(QStringLiteral("mappings")).toArray();
    for (int i = 0; i < mappings.size(); ++i) {
        const QJsonObject entry = mappings[i].toObject();
        ExplicitMapping mapping;
        mapping.target = entry.value(QStringLiteral("target")).toString();
        if (mapping.target.isEmpty())
            return Error{path, QStringLiteral("mappings[%1]: no \"target\"").arg(i)};
        if (entry.contains(QStringLiteral("source"))) {
            mapping.sources << entry.value(QStringLiteral("source")).toString();
        } else {
            Result<QStringList> sources = stringList(entry.value(QStringLiteral("sources")), QStringLiteral("sources"));
            if (!sources)
                return Error{path, QStringLiteral("mappings[%1]: %2").arg(i).arg(sources.error().message)};
            mapping.sources = *sources;
        }
        if (mapping.sources.isEmpty() || mapping.sources.contains(QString()))
            return Error{path, QStringLiteral("mappings[%1] (%2): no \"source\"").arg(i).arg(mapping.target)};
        if (entry.contains(QStringLiteral("transforms"))) {
            if (!entry.value(QStringLiteral("transforms")).isArray())
                return Error{path, QStringLiteral("mappings[%1] (%2): \"transforms\" must be a list").arg(i).arg(mapping.target)};
            mapping.hasTransforms = true;
            const QJsonArray transforms = entry.value(QStringLiteral("transforms")).toArray();
            for (const QJsonValue &value : transforms) {
                Result<Transform> transform = transformFromJson(value.toObject());
                if (!transform)
                    return Error{path, QStringLiteral("mappings[%1] (%2): %3").arg(i).arg(mapping.target, transform.error().message)};
                mapping.transforms.push_back(*transform);
            }
        }
        // Also without "transforms": several sources cannot be derived from shapes.
        if (mapping.sources.size() > 1 && (mapping.transforms.empty() || !mapping.transforms.front().combinesSources()))
            return Error{path, QStringLiteral("mappings[%1] (%2): %3 sources need concat, stack or sum first")
                                   .arg(i).arg(mapping.target).arg(mapping.sources.size())};
        profile.mappings.push_back(mapping);
    }
    Result<QStringList> kept = stringList(root.value(QStringLiteral("kept")), QStringLiteral("kept"));
    Result<QStringList> ignored = stringList(root.value(QStringLiteral("ignored")), QStringLiteral("ignored"));
    if (!kept)
        return Error{path, kept.error().message};
    if (!ignored)
        return Error{path, ignored.error().message};
    profile.kept = *kept;
    profile.ignored = *ignored;
    return profile;
}

QStringList profileMismatchWarnings(const Profile &profile, const Checkpoint &source, const Checkpoint &target)
{
    QStringList warnings;
    const ProfileSide s = describeSide(source);
    const ProfileSide t = describeSide(target);
    if (!profile.source.fingerprint.isEmpty() && profile.source.fingerprint != s.fingerprint)
        warnings << QStringLiteral("the profile was made for source '%1' (%2 keys); this source has other keys or shapes (%3 keys)")
                        .arg(profile.source.file).arg(profile.source.keys).arg(s.keys);
    if (!profile.target.fingerprint.isEmpty() && profile.target.fingerprint != t.fingerprint)
        warnings << QStringLiteral("the profile was made for target '%1' (%2 keys); this target has other keys or shapes (%3 keys)")
                        .arg(profile.target.file).arg(profile.target.keys).arg(t.keys);
    return warnings;
}

} // namespace graft
