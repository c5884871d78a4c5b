// Mapping profiles: a match recorded as a profile, saved, loaded and re-applied gives the same
// mapping; a profile applied to changed files reports each stale entry; hostile profiles are
// refused with an error naming the file and the entry.

#include "mappingcheck.h"
#include "mapping/profile.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace graft;
using graft::test::chainText;
using graft::test::mappingFixture;
using graft::test::openOrFail;

namespace {

QString mappingLine(const Mapping &m)
{
    return QStringLiteral("%1 <- %2 %3 %4").arg(m.target, m.sources.join(QLatin1Char(',')), matchStatusName(m.status), chainText(m.transforms));
}

QStringList mappingLines(const MappingResult &result)
{
    QStringList lines;
    for (const Mapping &m : result.mappings)
        lines << mappingLine(m);
    return lines;
}

// A minimal valid profile document, changed by the caller.
QJsonObject profileSkeleton()
{
    return QJsonObject{{"format", "graft-profile"}, {"version", 1}, {"rules", QJsonArray()}, {"mappings", QJsonArray()},
                       {"kept", QJsonArray()}, {"ignored", QJsonArray()}, {"notes", ""}};
}

QJsonObject mappingEntry(const QString &target, const QJsonValue &source, const QJsonArray &transforms)
{
    QJsonObject entry{{"target", target}, {"transforms", transforms}};
    entry.insert(source.isArray() ? QStringLiteral("sources") : QStringLiteral("source"), source);
    return entry;
}

} // namespace

class TestProfile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void savedDocumentIsReadable();
    void staleEntriesAfterFilesChanged();
    void transformThatNoLongerFitsIsStale();
    void mappingWithoutTransformsIsDerived();
    void hostileProfiles_data();
    void hostileProfiles();
    void saveFailureNamesTheFile();
};

void TestProfile::roundTrip_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("rule");

    QTest::newRow("vgg mirrored") << mappingFixture("vgg11.pth") << mappingFixture("vgg11_eqx.skeleton.json") << QString();
    QTest::newRow("vgg by order") << mappingFixture("vgg11.pth") << mappingFixture("vgg11_renamed.skeleton.json") << QString();
    QTest::newRow("vgg bf16 casts") << mappingFixture("vgg11_bf16.pth") << mappingFixture("vgg11_eqx.skeleton.json") << QString();
    QTest::newRow("resnet state") << test::fixturePath("resnet18.pth") << mappingFixture("resnet18_eqx.skeleton.json") << QString();
    QTest::newRow("flax transposes") << mappingFixture("mlp.pth") << mappingFixture("mlp_flax.npz") << QString();
    QTest::newRow("fused slices") << mappingFixture("mha.pth") << mappingFixture("mha_eqx.skeleton.json") << QString();
    QTest::newRow("with a rename rule") << mappingFixture("module_prefixed.pth") << mappingFixture("tiny_vgg_plain.pth")
                                        << QStringLiteral("^module\\.(.*)=>\\1");
}

void TestProfile::roundTrip()
{
    QFETCH(QString, source);
    QFETCH(QString, target);
    QFETCH(QString, rule);

    const Checkpoint sourceCheckpoint = openOrFail(source);
    const Checkpoint targetCheckpoint = openOrFail(target);
    MatchOptions options;
    if (!rule.isEmpty()) {
        Result<RenameRule> parsed = RenameRule::parse(rule);
        QVERIFY(parsed.ok());
        options.rules.push_back(*parsed);
    }
    MappingResult first = matchCheckpoints(sourceCheckpoint, targetCheckpoint, options);
    if (QLatin1String(QTest::currentDataTag()) == QLatin1String("vgg by order")) {
        // Order and shape only guess; the profile records the user's acceptance.
        QVERIFY(!first.complete());
        const int guessed = first.summary().guessed;
        QVERIFY(guessed > 0);
        QCOMPARE(acceptGuesses(first), guessed);
    }
    QVERIFY(first.complete());

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("pair.graft.json"));
    const Profile made = profileFromResult(first, sourceCheckpoint, targetCheckpoint, options.rules, QStringLiteral("made by a test"));
    Status saved = saveProfile(made, path);
    QVERIFY2(saved.ok(), saved.ok() ? "" : qPrintable(saved.error().toString()));
    Result<Profile> loaded = loadProfile(path);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : qPrintable(loaded.error().toString()));
    QCOMPARE(loaded->notes, QStringLiteral("made by a test"));
    QCOMPARE(loaded->rules.size(), options.rules.size());
    QCOMPARE(loaded->mappings.size(), made.mappings.size());
    QVERIFY(profileMismatchWarnings(*loaded, sourceCheckpoint, targetCheckpoint).isEmpty());

    const MappingResult second = matchCheckpoints(sourceCheckpoint, targetCheckpoint, loaded->toMatchOptions());
    QCOMPARE(mappingLines(second), mappingLines(first));
    QCOMPARE(second.unusedSources, first.unusedSources);
    QVERIFY(second.stale.empty());
    QVERIFY(second.complete());
    for (const Mapping &m : second.mappings) {
        if (m.status != MatchStatus::Kept)
            QCOMPARE(m.origin, MatchOrigin::Explicit);
    }
}

void TestProfile::savedDocumentIsReadable()
{
    const Checkpoint source = openOrFail(mappingFixture("mha.pth"));
    const Checkpoint target = openOrFail(mappingFixture("mha_eqx.skeleton.json"));
    const MappingResult result = matchCheckpoints(source, target, {});
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("mha.graft.json"));
    QVERIFY(saveProfile(profileFromResult(result, source, target, {}), path).ok());

    const QJsonObject root = QJsonDocument::fromJson(test::readBytes(path)).object();
    QCOMPARE(root.value("format").toString(), QStringLiteral("graft-profile"));
    QCOMPARE(root.value("version").toInt(), 1);
    const QJsonObject sourceSide = root.value("source").toObject();
    QCOMPARE(sourceSide.value("file").toString(), QStringLiteral("mha.pth"));
    QCOMPARE(sourceSide.value("format").toString(), QStringLiteral("pytorch-zip"));
    QCOMPARE(sourceSide.value("keys").toInt(), 4);
    QVERIFY(sourceSide.value("fingerprint").toString().startsWith(QStringLiteral("sha256:")));
    QCOMPARE(sourceSide.value("fingerprint").toString().size(), 7 + 64);
    QCOMPARE(root.value("target").toObject().value("format").toString(), QStringLiteral("graft-skeleton"));
    const QJsonArray mappings = root.value("mappings").toArray();
    QCOMPARE(mappings.size(), 4);
    const QJsonObject query = mappings[0].toObject();
    QCOMPARE(query.value("target").toString(), QStringLiteral(".attn.query_proj.weight"));
    QCOMPARE(query.value("source").toString(), QStringLiteral("attn.in_proj_weight"));
    QCOMPARE(QJsonDocument(query.value("transforms").toArray()).toJson(QJsonDocument::Compact),
             QByteArray(R"([{"axis":0,"op":"slice","start":0,"stop":16}])"));
    // Pretty-printed: one key per line, so profiles diff well.
    QVERIFY(test::readBytes(path).count('\n') > 20);
}

void TestProfile::staleEntriesAfterFilesChanged()
{
    const Checkpoint source = openOrFail(mappingFixture("vgg11.pth"));
    const Checkpoint target = openOrFail(mappingFixture("vgg11_eqx.skeleton.json"));
    const Profile profile = profileFromResult(matchCheckpoints(source, target, {}), source, target, {});

    // A newer checkpoint of the family: one key dropped, one shape changed.
    QTemporaryDir dir;
    const QString changedPath = dir.filePath(QStringLiteral("vgg11_changed.pth"));
    QProcess python;
    python.start(QStringLiteral(GRAFT_PYTHON),
                 {QStringLiteral("-c"),
                  QStringLiteral("import sys, torch\n"
                                 "s = torch.load(sys.argv[1])\n"
                                 "del s['features.3.weight']\n"
                                 "s['classifier.6.weight'] = torch.zeros(10, 32)\n"
                                 "torch.save(s, sys.argv[2])\n"),
                  mappingFixture("vgg11.pth"), changedPath});
    QVERIFY(python.waitForFinished(120000));
    QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
    const Checkpoint changed = openOrFail(changedPath);

    const QStringList warnings = profileMismatchWarnings(profile, changed, target);
    QCOMPARE(warnings.size(), 1);
    QVERIFY2(warnings[0].contains(QStringLiteral("the profile was made for source 'vgg11.pth' (22 keys)")), qPrintable(warnings[0]));
    QVERIFY2(warnings[0].contains(QStringLiteral("(21 keys)")), qPrintable(warnings[0]));

    const MappingResult result = matchCheckpoints(changed, target, profile.toMatchOptions());
    QCOMPARE(result.stale.size(), size_t(2));
    QCOMPARE(result.stale[0].entry, QStringLiteral("mapping .features[3].weight <- features.3.weight"));
    QCOMPARE(result.stale[0].reason, QStringLiteral("source key 'features.3.weight' is gone"));
    QCOMPARE(result.stale[1].entry, QStringLiteral("mapping .classifier[6].weight <- classifier.6.weight"));
    QCOMPARE(result.stale[1].reason,
             QStringLiteral("shape changed: the transforms give float32 [10, 32], the target is float32 [10, 64]"));
    // Everything else still applies explicitly; the two targets are not silently filled.
    QCOMPARE(result.summary().stale, 2);
    QVERIFY(!result.complete());
    const Mapping &gone = result.mappings[static_cast<size_t>(result.indexOfTarget(QStringLiteral(".features[3].weight")))];
    QVERIFY(gone.status != MatchStatus::Exact && gone.status != MatchStatus::Fixable);
    const Mapping &bias = result.mappings[static_cast<size_t>(result.indexOfTarget(QStringLiteral(".features[3].bias")))];
    QCOMPARE(bias.origin, MatchOrigin::Explicit);
    QCOMPARE(bias.status, MatchStatus::Fixable);
}

void TestProfile::transformThatNoLongerFitsIsStale()
{
    QTemporaryDir dir;
    QJsonObject root = profileSkeleton();
    root.insert("mappings", QJsonArray{mappingEntry(".features[0].bias", "features.0.bias",
                                                    QJsonArray{QJsonObject{{"op", "reshape"}, {"shape", QJsonArray{4, 4}}}}),
                                       mappingEntry(".features[0].weight", "features.0.weight", QJsonArray())});
    const QString path = test::writeFile(dir, QStringLiteral("p.graft.json"), QJsonDocument(root).toJson());
    Result<Profile> profile = loadProfile(path);
    QVERIFY2(profile.ok(), profile.ok() ? "" : qPrintable(profile.error().toString()));

    const MappingResult result = matchCheckpoints(openOrFail(mappingFixture("vgg11.pth")), openOrFail(mappingFixture("vgg11_eqx.skeleton.json")),
                                                  profile->toMatchOptions());
    QCOMPARE(result.stale.size(), size_t(1));
    QCOMPARE(result.stale[0].entry, QStringLiteral("mapping .features[0].bias <- features.0.bias"));
    QCOMPARE(result.stale[0].reason, QStringLiteral("shape changed: reshape to [4, 4] needs 16 elements, the tensor has 8"));
    const Mapping &weight = result.mappings[static_cast<size_t>(result.indexOfTarget(QStringLiteral(".features[0].weight")))];
    QCOMPARE(weight.origin, MatchOrigin::Explicit);
    QCOMPARE(weight.status, MatchStatus::Exact);
}

void TestProfile::mappingWithoutTransformsIsDerived()
{
    // A hand-written entry may omit "transforms": the chain then comes from the shapes and the
    // target's convention, like an automatic match, but the pair is the user's.
    QTemporaryDir dir;
    QJsonObject root = profileSkeleton();
    root.insert("mappings", QJsonArray{QJsonObject{{"target", ".features[0].bias"}, {"source", "features.3.bias"}},
                                       QJsonObject{{"target", ".features[3].bias"}, {"source", "features.0.bias"}}});
    const QString path = test::writeFile(dir, QStringLiteral("p.graft.json"), QJsonDocument(root).toJson());
    Result<Profile> profile = loadProfile(path);
    QVERIFY2(profile.ok(), profile.ok() ? "" : qPrintable(profile.error().toString()));
    QVERIFY(!profile->mappings[0].hasTransforms);

    // features.3.bias has 16 channels, .features[0].bias 8: refused as stale, not forced.
    const MappingResult result = matchCheckpoints(openOrFail(mappingFixture("vgg11.pth")), openOrFail(mappingFixture("vgg11_eqx.skeleton.json")),
                                                  profile->toMatchOptions());
    QCOMPARE(result.stale.size(), size_t(2));
    QVERIFY2(result.stale[0].reason.startsWith(QStringLiteral("shape changed: shape [16] cannot become [8, 1, 1]")),
             qPrintable(result.stale[0].reason));

    QJsonObject fitting = profileSkeleton();
    fitting.insert("mappings", QJsonArray{QJsonObject{{"target", ".classifier[3].bias"}, {"source", "classifier.0.bias"}}});
    Result<Profile> swapped = loadProfile(test::writeFile(dir, QStringLiteral("q.graft.json"), QJsonDocument(fitting).toJson()));
    QVERIFY(swapped.ok());
    const MappingResult applied = matchCheckpoints(openOrFail(mappingFixture("vgg11.pth")), openOrFail(mappingFixture("vgg11_eqx.skeleton.json")),
                                                   swapped->toMatchOptions());
    QVERIFY(applied.stale.empty());
    const Mapping &m = applied.mappings[static_cast<size_t>(applied.indexOfTarget(QStringLiteral(".classifier[3].bias")))];
    QCOMPARE(m.sources, QStringList{QStringLiteral("classifier.0.bias")});
    QCOMPARE(m.origin, MatchOrigin::Explicit);
    QCOMPARE(m.status, MatchStatus::Exact);
    // classifier.3.bias, now unclaimed by its namesake, is the one source left over.
    QCOMPARE(applied.unusedSources, QStringList{QStringLiteral("classifier.3.bias")});
}

void TestProfile::hostileProfiles_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("message");

    auto with = [](const QString &key, const QJsonValue &value) {
        QJsonObject root = profileSkeleton();
        root.insert(key, value);
        return QJsonDocument(root).toJson();
    };
    auto withMapping = [&](const QJsonObject &entry) { return with(QStringLiteral("mappings"), QJsonArray{entry}); };

    QTest::newRow("bad JSON") << QByteArray("{\"format\": \"graft-profile\", ") << "not valid JSON: ";
    QTest::newRow("empty file") << QByteArray() << "not valid JSON";
    QTest::newRow("not an object") << QByteArray("[1, 2]") << "a profile must be a JSON object";
    QTest::newRow("wrong format") << with("format", "graft-skeleton") << "not a Graft profile (\"format\" is not \"graft-profile\")";
    QTest::newRow("no format") << QByteArray(R"({"version": 1})") << "not a Graft profile";
    QTest::newRow("version 2") << with("version", 2) << "unsupported profile version 2 (this Graft reads version 1)";
    QTest::newRow("version as text") << with("version", "1") << "unsupported profile version \"1\" (this Graft reads version 1)";
    QTest::newRow("no version") << QByteArray(R"({"format": "graft-profile"})") << "unsupported profile version (none)";
    QTest::newRow("bad regex") << with("rules", QJsonArray{QJsonObject{{"pattern", "bad[regex"}, {"replacement", "x"}}})
                               << "rules[0]: rename rule 'bad[regex': invalid regular expression";
    QTest::newRow("empty pattern") << with("rules", QJsonArray{QJsonObject{{"pattern", ""}, {"replacement", "x"}}})
                                   << "rules[0]: rename rule has an empty pattern";
    QTest::newRow("rules not a list") << with("rules", QJsonObject{{"pattern", "a"}}) << "\"rules\" must be a list";
    QTest::newRow("mappings not a list") << with("mappings", QJsonObject{{"target", ".a"}}) << "\"mappings\" must be a list";
    QTest::newRow("unknown op") << withMapping(mappingEntry(".a", "a", QJsonArray{QJsonObject{{"op", "rotate"}}}))
                                << "mappings[0] (.a): unknown transform op 'rotate'";
    QTest::newRow("bad transform arguments")
        << withMapping(mappingEntry(".a", "a", QJsonArray{QJsonObject{{"op", "reshape"}, {"shape", "8,1,1"}}}))
        << "mappings[0] (.a): transform 'reshape': \"shape\" must be a list of integers";
    QTest::newRow("transforms not a list") << withMapping(QJsonObject{{"target", ".a"}, {"source", "a"}, {"transforms", "w.T"}})
                                           << "mappings[0] (.a): \"transforms\" must be a list";
    QTest::newRow("no target") << withMapping(QJsonObject{{"source", "a"}}) << "mappings[0]: no \"target\"";
    QTest::newRow("no source") << withMapping(QJsonObject{{"target", ".a"}}) << "mappings[0] (.a): no \"source\"";
    QTest::newRow("source not a string") << withMapping(QJsonObject{{"target", ".a"}, {"source", 3}}) << "mappings[0] (.a): no \"source\"";
    QTest::newRow("sources not strings") << withMapping(QJsonObject{{"target", ".a"}, {"sources", QJsonArray{1, 2}}})
                                         << "mappings[0]: \"sources\" must be a list of strings";
    QTest::newRow("sources without concat") << withMapping(mappingEntry(".a", QJsonArray{"a", "b"}, QJsonArray{QJsonObject{{"op", "transpose"}, {"perm", QJsonArray{1, 0}}}}))
                                            << "mappings[0] (.a): 2 sources need concat, stack or sum first";
    QTest::newRow("sources, no transforms") << withMapping(mappingEntry(".a", QJsonArray{"a", "b"}, QJsonArray()))
                                            << "mappings[0] (.a): 2 sources need concat, stack or sum first";
    QTest::newRow("sources, no transforms key") << withMapping(QJsonObject{{"target", ".a"}, {"sources", QJsonArray{"a", "b", "c"}}})
                                                << "mappings[0] (.a): 3 sources need concat, stack or sum first";
    QTest::newRow("kept not strings") << with("kept", QJsonArray{1}) << "\"kept\" must be a list of strings";
    QTest::newRow("ignored not a list") << with("ignored", "a.weight") << "\"ignored\" must be a list of strings";
}

void TestProfile::hostileProfiles()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("hostile.graft.json"), text);
    Result<Profile> profile = loadProfile(path);
    QVERIFY2(!profile.ok(), "a hostile profile was accepted");
    QCOMPARE(profile.error().file, path);
    QVERIFY2(profile.error().toString().startsWith(path + QStringLiteral(": ")), qPrintable(profile.error().toString()));
    QVERIFY2(profile.error().message.contains(message), qPrintable(profile.error().message));
}

void TestProfile::saveFailureNamesTheFile()
{
    QTemporaryDir dir;
    const QString missing = dir.filePath(QStringLiteral("missing.graft.json"));
    Result<Profile> absent = loadProfile(missing);
    QVERIFY(!absent.ok());
    QCOMPARE(absent.error().toString(), missing + QStringLiteral(": no such file"));
    Result<Profile> directory = loadProfile(dir.path());
    QVERIFY(!directory.ok());
    QCOMPARE(directory.error().toString(), dir.path() + QStringLiteral(": is not a file"));

    const QString unwritable = dir.filePath(QStringLiteral("no/such/folder/p.graft.json"));
    Status saved = saveProfile(Profile{}, unwritable);
    QVERIFY(!saved.ok());
    QCOMPARE(saved.error().file, unwritable);
    QVERIFY2(saved.error().message.startsWith(QStringLiteral("cannot write profile")), qPrintable(saved.error().message));
}

QTEST_GUILESS_MAIN(TestProfile)
#include "tst_profile.moc"
