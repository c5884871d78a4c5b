// graft-cli as a user runs it (QProcess on the built binary): `inspect` and `map` outputs, the
// JSON contracts (issue 3), exit codes 0 / 1 / 2 and the `graft-cli: error: <file>: ...` form.

#include "clirun.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

namespace {


QString example(const QString &name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + name; }
QString mappingFixture(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/mapping/") + name; }

QSet<QString> keysOf(const QJsonObject &object)
{
    const QStringList keys = object.keys();
    return QSet<QString>(keys.begin(), keys.end());
}

QJsonObject parseObject(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    return error.error == QJsonParseError::NoError ? document.object() : QJsonObject();
}

// The parts of a mapping a profile must reproduce (confidence and reason may differ).
QStringList mappingDecisions(const QJsonObject &report)
{
    QStringList lines;
    for (const QJsonValue &value : report.value(QStringLiteral("mappings")).toArray()) {
        QJsonObject m = value.toObject();
        m.remove(QStringLiteral("confidence"));
        m.remove(QStringLiteral("reason"));
        m.remove(QStringLiteral("origin")); // a profile's pairs come back as "explicit"
        lines << QString::fromUtf8(QJsonDocument(m).toJson(QJsonDocument::Compact));
    }
    return lines;
}

} // namespace

class TestCliCommands : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void inspectJson();
    void inspectJsonOtherEntries();
    void inspectTable();
    void inspectErrors_data();
    void inspectErrors();
    void errorsShowControlCharactersEscaped();
    void mapExample();
    void mapJsonContract();
    void mapProblemsExitOne_data();
    void mapProblemsExitOne();
    void mapBadRule();
    void mapBadInput_data();
    void mapBadInput();
    void mapProfileRoundTrip();
    void mapStaleProfileIsReported();
    void convertListsAScreenfulOfKeptLeaves();

private:
    QTemporaryDir m_dir;
    QString m_truncated;
    QString m_ambiguousSource;
    QString m_ambiguousTarget;
};

void TestCliCommands::initTestCase()
{
    QVERIFY(QFileInfo(QStringLiteral(GRAFT_CLI_PATH)).isExecutable());
    QVERIFY(m_dir.isValid());
    const QByteArray whole = graft::test::readBytes(example(QStringLiteral("tiny_vgg.pth")));
    QVERIFY(whole.size() > 1000);
    m_truncated = graft::test::writeFile(m_dir, QStringLiteral("truncated.pth"), whole.left(whole.size() / 2));
    QVERIFY(!m_truncated.isEmpty());

    // Two same-shape sources for one renamed target: order and shape cannot decide.
    m_ambiguousSource = m_dir.filePath(QStringLiteral("two.pth"));
    m_ambiguousTarget = m_dir.filePath(QStringLiteral("one.npz"));
    QProcess python;
    python.start(QStringLiteral(GRAFT_PYTHON),
                 {QStringLiteral("-c"),
                  QStringLiteral("import sys, torch, numpy as np\n"
                                 "torch.save({'a.weight': torch.ones(4, 4), 'b.weight': torch.zeros(4, 4)}, sys.argv[1])\n"
                                 "np.savez(sys.argv[2], proj=np.zeros((4, 4), np.float32))\n"),
                  m_ambiguousSource, m_ambiguousTarget});
    QVERIFY(python.waitForFinished(120000));
    QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
}

// ---------------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------------

void TestCliCommands::inspectJson()
{
    const QString path = example(QStringLiteral("tiny_vgg.pth"));
    const CliRun run = runCli({QStringLiteral("inspect"), path, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QVERIFY2(run.err.isEmpty(), run.err.constData());
    const QJsonObject root = parseObject(run.out);
    QCOMPARE(keysOf(root), (QSet<QString>{"file", "format", "tensors", "other"}));
    QCOMPARE(root.value("file").toString(), path);
    QCOMPARE(root.value("format").toString(), QStringLiteral("pytorch-zip"));
    const QJsonArray tensors = root.value("tensors").toArray();
    QCOMPARE(tensors.size(), 12);
    for (const QJsonValue &value : tensors)
        QCOMPARE(keysOf(value.toObject()), (QSet<QString>{"key", "shape", "dtype", "nbytes"}));
    const QJsonObject first = tensors[0].toObject();
    QCOMPARE(first.value("key").toString(), QStringLiteral("features.0.weight"));
    QCOMPARE(first.value("shape").toArray(), (QJsonArray{8, 3, 3, 3}));
    QCOMPARE(first.value("dtype").toString(), QStringLiteral("float32"));
    QCOMPARE(first.value("nbytes").toInteger(), 8 * 3 * 3 * 3 * 4);
    QVERIFY(root.value("other").toArray().isEmpty());
}

void TestCliCommands::inspectJsonOtherEntries()
{
    const CliRun run = runCli({QStringLiteral("inspect"), graft::test::fixturePath(QStringLiteral("wrapped.pth")), QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonArray other = parseObject(run.out).value("other").toArray();
    QVERIFY(!other.isEmpty());
    QSet<QString> keys;
    for (const QJsonValue &value : other) {
        QVERIFY(value.toObject().contains("key"));
        QVERIFY(value.toObject().contains("type"));
        keys.insert(value.toObject().value("key").toString());
    }
    QVERIFY2(keys.contains(QStringLiteral("epoch")), qPrintable(QStringList(keys.begin(), keys.end()).join(", ")));
}

void TestCliCommands::inspectTable()
{
    const CliRun run = runCli({QStringLiteral("inspect"), example(QStringLiteral("tiny_vgg.skeleton.json"))});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QString out = QString::fromUtf8(run.out);
    QVERIFY(out.contains(QStringLiteral(".features[0].bias")));
    QVERIFY(out.contains(QStringLiteral("[8, 1, 1]")));
    QVERIFY(out.contains(QStringLiteral("graft-skeleton")));
}

void TestCliCommands::inspectErrors_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing file") << m_dir.filePath(QStringLiteral("nowhere.pth")) << QString();
    QTest::newRow("truncated file") << m_truncated << QString();
    QTest::newRow("directory") << m_dir.path() << QString();
}

void TestCliCommands::inspectErrors()
{
    QFETCH(QString, file);
    const CliRun run = runCli({QStringLiteral("inspect"), file});
    QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    QVERIFY(run.out.isEmpty());
    const QString err = QString::fromUtf8(run.err);
    QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: ") + file + QStringLiteral(": ")), qPrintable(err));
    QVERIFY2(err.trimmed().size() > QStringLiteral("graft-cli: error: ").size() + file.size() + 3, qPrintable(err)); // says what
    QCOMPARE(err.count(QLatin1Char('\n')), 1);
}

// A hostile tensor name holding an escape sequence and a NUL: the error still names the file and
// says what is wrong on one line, with the control characters shown as \xNN, never raw.
void TestCliCommands::errorsShowControlCharactersEscaped()
{
    const QByteArray header = R"({"w\u001b[31m\u0000x": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})";
    QByteArray bytes(8, '\0');
    qToLittleEndian<quint64>(static_cast<quint64>(header.size()), bytes.data());
    bytes += header + QByteArray(8, '\0');
    const QString file = m_dir.filePath(QStringLiteral("hostile-name.safetensors"));
    QFile out(file);
    QVERIFY(out.open(QIODevice::WriteOnly) && out.write(bytes) == bytes.size());
    out.close();

    const CliRun run = runCli({QStringLiteral("inspect"), file});
    QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    QVERIFY2(run.err.startsWith("graft-cli: error: " + file.toUtf8() + ": "), run.err.constData());
    QVERIFY2(run.err.contains("w\\x1b[31m\\x00x"), run.err.constData());
    QVERIFY2(run.err.contains("overflows"), run.err.constData());
    QVERIFY(!run.err.contains('\x1b'));
    QVERIFY(!run.err.contains('\0'));
    QCOMPARE(run.err.count('\n'), 1);
}

// ---------------------------------------------------------------------------------------------
// map
// ---------------------------------------------------------------------------------------------

void TestCliCommands::mapExample()
{
    const CliRun run = runCli({QStringLiteral("map"), example(QStringLiteral("tiny_vgg.pth")), example(QStringLiteral("tiny_vgg.skeleton.json"))});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QString out = QString::fromUtf8(run.out);
    QVERIFY2(out.contains(QStringLiteral("w[:, None, None]")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("18 targets: 9 exact, 3 fixable, 0 incompatible, 0 unmapped, 6 kept; 0 ambiguous; 0 sources unused")),
             qPrintable(out));
}

void TestCliCommands::mapJsonContract()
{
    const QString source = example(QStringLiteral("tiny_vgg.pth"));
    const QString target = example(QStringLiteral("tiny_vgg.skeleton.json"));
    const CliRun run = runCli({QStringLiteral("map"), source, target, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject root = parseObject(run.out);
    const QSet<QString> contract{"source", "target", "mappings", "unused_sources", "ambiguous", "summary"};
    QVERIFY2(keysOf(root).contains(contract), qPrintable(QString::fromUtf8(run.out.left(400))));
    QCOMPARE(root.value("source").toString(), source);
    QCOMPARE(root.value("target").toString(), target);
    QVERIFY(root.value("unused_sources").toArray().isEmpty());
    QVERIFY(root.value("ambiguous").toArray().isEmpty());

    const QJsonArray mappings = root.value("mappings").toArray();
    QCOMPARE(mappings.size(), 18);
    const QSet<QString> mappingKeys{"target", "source", "status", "transforms", "expr", "confidence", "reason", "origin"};
    QJsonObject bias;
    int kept = 0;
    for (const QJsonValue &value : mappings) {
        const QJsonObject m = value.toObject();
        QCOMPARE(keysOf(m), mappingKeys); // "sources" only for concat/stack/sum
        const QString status = m.value("status").toString();
        QVERIFY2(QStringList({"exact", "fixable", "kept"}).contains(status), qPrintable(status));
        QVERIFY(m.value("transforms").isArray());
        QVERIFY(m.value("confidence").isDouble());
        if (status == QLatin1String("kept")) {
            ++kept;
            QVERIFY(m.value("source").isNull());
        } else {
            QVERIFY(m.value("source").isString());
        }
        if (m.value("target").toString() == QLatin1String(".features[0].bias"))
            bias = m;
    }
    QCOMPARE(kept, 6);
    QCOMPARE(bias.value("source").toString(), QStringLiteral("features.0.bias"));
    QCOMPARE(bias.value("status").toString(), QStringLiteral("fixable"));
    QCOMPARE(QJsonDocument(bias.value("transforms").toArray()).toJson(QJsonDocument::Compact), QByteArray(R"([{"op":"reshape","shape":[8,1,1]}])"));
    QCOMPARE(bias.value("expr").toString(), QStringLiteral("w[:, None, None]"));
    QVERIFY(bias.value("confidence").toDouble() > 0.5 && bias.value("confidence").toDouble() <= 1.0);
    QVERIFY(!bias.value("reason").toString().isEmpty());

    const QJsonObject summary = root.value("summary").toObject();
    QCOMPARE(summary.value("targets").toInt(), 18);
    QCOMPARE(summary.value("exact").toInt(), 9);
    QCOMPARE(summary.value("fixable").toInt(), 3);
    QCOMPARE(summary.value("kept").toInt(), 6);
    QCOMPARE(summary.value("unmapped").toInt(), 0);
}

void TestCliCommands::mapProblemsExitOne_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("ambiguous");
    QTest::addColumn<int>("unmapped");
    QTest::newRow("ambiguous") << m_ambiguousSource << m_ambiguousTarget << 1 << 1;
    QTest::newRow("nothing fits") << mappingFixture(QStringLiteral("vgg11.pth")) << mappingFixture(QStringLiteral("mha_eqx.skeleton.json")) << 0
                                  << 4;
}

void TestCliCommands::mapProblemsExitOne()
{
    QFETCH(QString, source);
    QFETCH(QString, target);
    QFETCH(int, ambiguous);
    QFETCH(int, unmapped);
    const CliRun run = runCli({QStringLiteral("map"), source, target, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));
    const QJsonObject root = parseObject(run.out);
    QCOMPARE(root.value("ambiguous").toArray().size(), ambiguous);
    QCOMPARE(root.value("summary").toObject().value("unmapped").toInt(), unmapped);
    if (ambiguous) {
        const QJsonObject entry = root.value("ambiguous").toArray()[0].toObject();
        QCOMPARE(entry.value("target").toString(), QStringLiteral("proj"));
        QCOMPARE(entry.value("candidates").toArray(), (QJsonArray{"a.weight", "b.weight"}));
        QVERIFY(root.value("mappings").toArray()[0].toObject().value("source").isNull()); // not guessed
    }
    // The table form exits the same way.
    QCOMPARE(runCli({QStringLiteral("map"), source, target}).exitCode, 1);
}

void TestCliCommands::mapBadRule()
{
    const CliRun run = runCli({QStringLiteral("map"), example(QStringLiteral("tiny_vgg.pth")), example(QStringLiteral("tiny_vgg.skeleton.json")),
                            QStringLiteral("--rule"), QStringLiteral("bad[regex=>x")});
    QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    QVERIFY(run.out.isEmpty());
    const QString err = QString::fromUtf8(run.err);
    QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: --rule: rename rule 'bad[regex': invalid regular expression")), qPrintable(err));
}

void TestCliCommands::mapBadInput_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    const QString source = example(QStringLiteral("tiny_vgg.pth"));
    const QString target = example(QStringLiteral("tiny_vgg.skeleton.json"));
    const QString missing = m_dir.filePath(QStringLiteral("missing.pth"));
    const QString badProfile = graft::test::writeFile(m_dir, QStringLiteral("bad.graft.json"), "{\"format\": ");
    QTest::newRow("one file") << QStringList{"map", source} << "graft-cli: error: map needs SOURCE and TARGET";
    QTest::newRow("missing source") << QStringList{"map", missing, target} << QStringLiteral("graft-cli: error: %1: ").arg(missing);
    QTest::newRow("truncated target") << QStringList{"map", source, m_truncated} << QStringLiteral("graft-cli: error: %1: ").arg(m_truncated);
    QTest::newRow("bad profile") << QStringList{"map", source, target, "--profile", badProfile}
                                 << QStringLiteral("graft-cli: error: %1: not valid JSON").arg(badProfile);
    QTest::newRow("rule without arrow") << QStringList{"map", source, target, "--rule", "module."}
                                        << "graft-cli: error: --rule: rename rule 'module.' must be REGEX=>REPLACEMENT";
    QTest::newRow("unknown option") << QStringList{"map", source, target, "--frobnicate"} << "graft-cli: error: ";
}

void TestCliCommands::mapBadInput()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const CliRun run = runCli(arguments);
    QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    QVERIFY2(QString::fromUtf8(run.err).startsWith(message), qPrintable(describe(run)));
}

void TestCliCommands::mapProfileRoundTrip()
{
    const QString source = mappingFixture(QStringLiteral("vgg11.pth"));
    const QString target = mappingFixture(QStringLiteral("vgg11_renamed.skeleton.json"));
    const QString profile = m_dir.filePath(QStringLiteral("vgg.graft.json"));
    const CliRun first = runCli({QStringLiteral("map"), source, target, QStringLiteral("--json"), QStringLiteral("--save-profile"), profile,
                                 QStringLiteral("--accept-guesses")});
    QVERIFY2(first.exitCode == 0, qPrintable(describe(first)));
    QVERIFY(QFileInfo(profile).isFile());
    QCOMPARE(parseObject(graft::test::readBytes(profile)).value("format").toString(), QStringLiteral("graft-profile"));

    const CliRun second = runCli({QStringLiteral("map"), source, target, QStringLiteral("--json"), QStringLiteral("--profile"), profile});
    QVERIFY2(second.exitCode == 0, qPrintable(describe(second)));
    QVERIFY2(second.err.isEmpty(), second.err.constData()); // same files: no mismatch warning
    const QStringList before = mappingDecisions(parseObject(first.out));
    QCOMPARE(before.size(), 31);
    QCOMPARE(mappingDecisions(parseObject(second.out)), before);
}

void TestCliCommands::mapStaleProfileIsReported()
{
    // The vgg profile applied to another pair: a warning about the files, every stale entry
    // listed, exit 1 (the mapping is not complete).
    const QString profile = m_dir.filePath(QStringLiteral("vgg-for-stale.graft.json"));
    const CliRun made = runCli({QStringLiteral("map"), mappingFixture(QStringLiteral("vgg11.pth")),
                             mappingFixture(QStringLiteral("vgg11_eqx.skeleton.json")), QStringLiteral("--save-profile"), profile});
    QVERIFY2(made.exitCode == 0, qPrintable(describe(made)));
    const CliRun run = runCli({QStringLiteral("map"), mappingFixture(QStringLiteral("mha.pth")), mappingFixture(QStringLiteral("vgg11_eqx.skeleton.json")),
                            QStringLiteral("--profile"), profile, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));
    QVERIFY2(run.err.contains("graft-cli: warning: the profile was made for source 'vgg11.pth'"), run.err.constData());
    const QJsonObject root = parseObject(run.out);
    QCOMPARE(root.value("summary").toObject().value("stale").toInt(), 22);
    const QJsonArray stale = root.value("stale").toArray();
    QCOMPARE(stale.size(), 22);
    QCOMPARE(stale[0].toObject().value("reason").toString(), QStringLiteral("source key 'features.0.weight' is gone"));
}

// A target with a hundred leaves nothing provides, kept with --keep-unmapped: twenty of them are
// named, one line counts the others, and the file is written with every leaf.
void TestCliCommands::convertListsAScreenfulOfKeptLeaves()
{
    const QString out = m_dir.filePath(QStringLiteral("kept.eqx"));
    const CliRun run = runCli({QStringLiteral("convert"), graft::test::fixturePath(QStringLiteral("one_key.pth")),
                               mappingFixture(QStringLiteral("resnet18_eqx.skeleton.json")), QStringLiteral("--keep-unmapped"),
                               QStringLiteral("-o"), out});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QVERIFY(QFileInfo::exists(out));
    const QStringList lines = QString::fromUtf8(run.err).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 21);
    for (qsizetype i = 0; i < 20; ++i)
        QVERIFY2(lines[i].startsWith(QStringLiteral("graft-cli: warning: ")) && lines[i].endsWith(QStringLiteral("(keeps the target's values)")),
                 qPrintable(lines[i]));
    const QRegularExpression more(QStringLiteral("^graft-cli: warning: \\.\\.\\. and (\\d+) more leaves keep the target's values"));
    const QRegularExpressionMatch match = more.match(lines.last());
    QVERIFY2(match.hasMatch(), qPrintable(lines.last()));
    // Every warned leaf is one the summary counts as kept (the scalars and buffers it keeps
    // deliberately are not warned about).
    const QRegularExpressionMatch kept = QRegularExpression(QStringLiteral("(\\d+) kept from the target")).match(QString::fromUtf8(run.out));
    QVERIFY2(kept.hasMatch(), run.out.constData());
    const int warned = 20 + match.captured(1).toInt();
    QVERIFY2(warned > 20 && warned <= kept.captured(1).toInt(), qPrintable(describe(run)));
}

QTEST_GUILESS_MAIN(TestCliCommands)
#include "tst_clicommands.moc"

