// What a mapping starts from (core/mapping/mappingsetup.h), shared by the CLI and the GUI: both
// files opened (once when they are one file), the profile's options and warnings, rename rules
// after the profile's; each failure names the file (or the rule's origin) at fault; a bad rule
// leaves the options alone.

#include "mapping/automatcher.h"
#include "mapping/mappingsetup.h"
#include "mapping/profile.h"

#include <QTemporaryDir>
#include <QTest>

using namespace graft;

namespace {

QString example(const char *name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }

QStringList rulePatterns(const MatchOptions &options)
{
    QStringList patterns;
    for (const RenameRule &rule : options.rules)
        patterns << rule.pattern() + QStringLiteral("=>") + rule.replacement();
    return patterns;
}

QStringList mappingLines(const MappingResult &result)
{
    QStringList lines;
    for (const Mapping &m : result.mappings)
        lines << QStringLiteral("%1 <- %2 %3").arg(m.target, m.sources.join(QLatin1Char(',')), matchStatusName(m.status));
    return lines;
}

} // namespace

class TestMappingSetup : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void profileRulesComeBeforeGivenRules();
    void cliAndGuiStepsGiveTheSameMapping();
    void refusesWithTheCulpritNamed_data();
    void refusesWithTheCulpritNamed();
    void badRuleLeavesOptionsUnchanged();
    void oneFileOntoItselfIsOpenedOnce();

private:
    QTemporaryDir m_dir;
};

void TestMappingSetup::profileRulesComeBeforeGivenRules()
{
    const QString profilePath = m_dir.filePath(QStringLiteral("rules.graft.json"));
    Result<MappingSetup> plain = loadMappingSetup(example("tiny_vgg.pth"), example("tiny_vgg.skeleton.json"), QString(), {});
    QVERIFY2(plain.ok(), qPrintable(plain ? QString() : plain.error().toString()));
    QVERIFY(!plain->profile.has_value());
    QVERIFY(plain->options.rules.empty());
    Result<RenameRule> rule = RenameRule::parse(QStringLiteral("^model\\.=>"));
    QVERIFY(rule.ok());
    const MappingResult result = matchCheckpoints(plain->source, plain->target, plain->options);
    QVERIFY(saveProfile(profileFromResult(result, plain->source, plain->target, {*rule}), profilePath).ok());

    Result<MappingSetup> setup = loadMappingSetup(example("tiny_vgg.pth"), example("tiny_vgg.skeleton.json"), profilePath,
                                                  {QStringLiteral("^x\\.=>y.")}, QStringLiteral("--rule"));
    QVERIFY2(setup.ok(), qPrintable(setup ? QString() : setup.error().toString()));
    QVERIFY(setup->profile.has_value());
    QCOMPARE(rulePatterns(setup->options), (QStringList{QStringLiteral("^model\\.=>"), QStringLiteral("^x\\.=>y.")}));
    QCOMPARE(setup->source.tensors().size(), plain->source.tensors().size());
}

void TestMappingSetup::cliAndGuiStepsGiveTheSameMapping()
{
    // The CLI loads everything at once; the GUI opens the files one by one, then loads the
    // profile and adds a rule by hand. Both end at the same options, so the same mapping.
    const QString profilePath = m_dir.filePath(QStringLiteral("same.graft.json"));
    Result<MappingSetup> plain = loadMappingSetup(example("tiny_vgg.pth"), example("tiny_vgg.skeleton.json"), QString(), {});
    QVERIFY(plain.ok());
    MappingResult result = matchCheckpoints(plain->source, plain->target, plain->options);
    QVERIFY(saveProfile(profileFromResult(result, plain->source, plain->target, {}), profilePath).ok());
    const QStringList rules{QStringLiteral("^features\\.=>layers.")};

    Result<MappingSetup> cli = loadMappingSetup(example("tiny_vgg.pth"), example("tiny_vgg.skeleton.json"), profilePath, rules);
    QVERIFY(cli.ok());
    Result<ProfileSetup> gui = loadProfileSetup(profilePath, plain->source, plain->target);
    QVERIFY(gui.ok());
    MatchOptions guiOptions = gui->options;
    QVERIFY(addRenameRules(guiOptions, rules).ok());
    QCOMPARE(gui->warnings, cli->warnings);
    QCOMPARE(rulePatterns(guiOptions), rulePatterns(cli->options));
    const QStringList cliLines = mappingLines(matchCheckpoints(cli->source, cli->target, cli->options));
    QCOMPARE(mappingLines(matchCheckpoints(plain->source, plain->target, guiOptions)), cliLines);
    QCOMPARE(cliLines.size(), 18);
}

void TestMappingSetup::refusesWithTheCulpritNamed_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("profile");
    QTest::addColumn<QStringList>("rules");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("message");
    const QString source = example("tiny_vgg.pth");
    const QString target = example("tiny_vgg.skeleton.json");
    const QString missing = QStringLiteral("/nonexistent/graft/missing.pth");
    QTest::newRow("source missing") << missing << target << QString() << QStringList() << missing << QString();
    QTest::newRow("target missing") << source << missing << QString() << QStringList() << missing << QString();
    QTest::newRow("profile missing") << source << target << QStringLiteral("/nonexistent/graft/p.graft.json") << QStringList()
                                     << QStringLiteral("/nonexistent/graft/p.graft.json") << QString();
    QTest::newRow("profile is a checkpoint") << source << target << source << QStringList() << source << QString();
    QTest::newRow("rule without arrow") << source << target << QString() << QStringList{QStringLiteral("module.")}
                                        << QStringLiteral("--rule") << QStringLiteral("rename rule 'module.' must be REGEX=>REPLACEMENT");
    QTest::newRow("second rule invalid") << source << target << QString()
                                         << QStringList{QStringLiteral("a=>b"), QStringLiteral("bad[regex=>x")} << QStringLiteral("--rule")
                                         << QStringLiteral("rename rule 'bad[regex': invalid regular expression");
}

void TestMappingSetup::refusesWithTheCulpritNamed()
{
    QFETCH(QString, source);
    QFETCH(QString, target);
    QFETCH(QString, profile);
    QFETCH(QStringList, rules);
    QFETCH(QString, file);
    QFETCH(QString, message);
    Result<MappingSetup> setup = loadMappingSetup(source, target, profile, rules, QStringLiteral("--rule"));
    QVERIFY(!setup.ok());
    QCOMPARE(setup.error().file, file);
    QVERIFY2(!setup.error().message.isEmpty(), "the error says what is wrong");
    QVERIFY2(setup.error().message.startsWith(message), qPrintable(setup.error().message));
}

void TestMappingSetup::badRuleLeavesOptionsUnchanged()
{
    MatchOptions options;
    QVERIFY(addRenameRules(options, {QStringLiteral("^a=>b")}).ok());
    const Status added = addRenameRules(options, {QStringLiteral("^c=>d"), QStringLiteral("no arrow")});
    QVERIFY(!added.ok());
    QCOMPARE(added.error().file, QString()); // no origin given
    QCOMPARE(rulePatterns(options), QStringList{QStringLiteral("^a=>b")});
}

void TestMappingSetup::oneFileOntoItselfIsOpenedOnce()
{
    // The same file, spelled two ways: one index, shared; the mapping is the identity.
    const QString path = example("tiny_vgg.pth");
    const QString spelled = QStringLiteral(GRAFT_SOURCE_DIR "/resources/./examples/../examples/tiny_vgg.pth");
    Result<MappingSetup> setup = loadMappingSetup(path, spelled, QString(), {});
    QVERIFY2(setup, qPrintable(setup ? QString() : setup.error().toString()));
    QVERIFY(setup->target.sharesIndexWith(setup->source));
    QVERIFY(!setup->source.tensors().empty());
    const MappingResult mapping = matchCheckpoints(setup->source, setup->target, setup->options);
    QVERIFY(mapping.complete());
    for (const Mapping &m : mapping.mappings)
        QCOMPARE(m.sources, QStringList{m.target});
    // Two different files are two indexes.
    Result<MappingSetup> pair = loadMappingSetup(path, example("tiny_vgg.skeleton.json"), QString(), {});
    QVERIFY(pair);
    QVERIFY(!pair->target.sharesIndexWith(pair->source));
}

QTEST_GUILESS_MAIN(TestMappingSetup)
#include "tst_mappingsetup.moc"
