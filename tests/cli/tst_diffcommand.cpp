// `graft-cli diff` as a user runs it (QProcess on the built binary): exit codes 0 / 1 / 2, the
// JSON contract of issue 6 (keys and their order, NaN/inf as null), the readable report, the
// `graft-cli: error: <file>: ...` form, and checking a converted file through a profile.

#include "clirun.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

namespace {


QString diffFixture(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/diff/") + name; }
QString example(const QString &name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + name; }

QJsonObject parseObject(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    return error.error == QJsonParseError::NoError ? document.object() : QJsonObject();
}

QStringList keysOf(const QJsonObject &object)
{
    QStringList keys = object.keys();
    keys.sort();
    return keys;
}

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

/// The member names of the JSON object starting at `text[begin]` ('{'), in written order,
/// at its own level only.
QStringList memberOrder(const QByteArray &text, qsizetype begin)
{
    QStringList names;
    int depth = 0;
    bool inString = false;
    qsizetype stringStart = 0;
    for (qsizetype i = begin; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"') {
                inString = false;
                qsizetype j = i + 1;
                while (j < text.size() && text[j] == ' ')
                    ++j;
                if (depth == 1 && j < text.size() && text[j] == ':')
                    names << QString::fromUtf8(text.mid(stringStart, i - stringStart));
            }
            continue;
        }
        if (c == '"') {
            inString = true;
            stringStart = i + 1;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                break;
        }
    }
    return names;
}

const QStringList kTopLevel = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("only_in_a"), QStringLiteral("only_in_b"),
                               QStringLiteral("shape_changed"), QStringLiteral("dtype_changed"), QStringLiteral("compared")};
const QStringList kRow = {QStringLiteral("key"), QStringLiteral("shape"), QStringLiteral("dtype"), QStringLiteral("equal"),
                          QStringLiteral("max_abs_diff"), QStringLiteral("mean_abs_diff"), QStringLiteral("rms_diff"),
                          QStringLiteral("rel_l2"), QStringLiteral("cosine"), QStringLiteral("a"), QStringLiteral("b")};
const QStringList kStatistics = {QStringLiteral("count"), QStringLiteral("mean"), QStringLiteral("std"), QStringLiteral("min"),
                                 QStringLiteral("max"), QStringLiteral("l2"), QStringLiteral("max_abs"), QStringLiteral("zero_fraction"),
                                 QStringLiteral("nan"), QStringLiteral("inf")};

} // namespace

class TestDiffCommand : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void exitCodes_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        const QString a = diffFixture(QStringLiteral("a.pth"));
        QTest::newRow("identical copy") << QStringList{a, diffFixture(QStringLiteral("a_copy.pth"))} << 0;
        QTest::newRow("same file") << QStringList{a, a} << 0;
        QTest::newRow("crafted pair") << QStringList{a, diffFixture(QStringLiteral("b.pth"))} << 1;
        QTest::newRow("crafted pair, json") << QStringList{a, diffFixture(QStringLiteral("b.safetensors")), QStringLiteral("--json")} << 1;
        QTest::newRow("crafted pair, generous tolerance") << QStringList{a, diffFixture(QStringLiteral("b.pth")), QStringLiteral("--rtol"), QStringLiteral("10")} << 1;
        QTest::newRow("nudged") << QStringList{a, diffFixture(QStringLiteral("a_nudged.pth"))} << 1;
        QTest::newRow("nudged, atol 1e-2") << QStringList{a, diffFixture(QStringLiteral("a_nudged.pth")), QStringLiteral("--atol"), QStringLiteral("1e-2")} << 0;
        QTest::newRow("nudged, atol 1e-4") << QStringList{a, diffFixture(QStringLiteral("a_nudged.pth")), QStringLiteral("--atol=1e-4")} << 1;
        QTest::newRow("missing file") << QStringList{a, m_dir.filePath(QStringLiteral("missing.pth"))} << 2;
        QTest::newRow("one file") << QStringList{a} << 2;
        QTest::newRow("three files") << QStringList{a, a, a} << 2;
        QTest::newRow("negative atol") << QStringList{a, a, QStringLiteral("--atol"), QStringLiteral("-1")} << 2;
        QTest::newRow("rtol not a number") << QStringList{a, a, QStringLiteral("--rtol"), QStringLiteral("abc")} << 2;
        QTest::newRow("unknown option") << QStringList{a, a, QStringLiteral("--frobnicate")} << 2;
        QTest::newRow("missing profile") << QStringList{a, a, QStringLiteral("--profile"), m_dir.filePath(QStringLiteral("none.graft.json"))} << 2;
        QTest::newRow("help") << QStringList{QStringLiteral("--help")} << 0;
    }

    void exitCodes()
    {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        const CliRun run = runCli(QStringList{QStringLiteral("diff")} + arguments);
        QVERIFY2(run.exitCode == exitCode, qPrintable(describe(run)));
        if (exitCode == 2)
            QVERIFY2(run.out.isEmpty(), qPrintable(describe(run)));
    }

    void errorMessages_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("expected");
        const QString a = diffFixture(QStringLiteral("a.pth"));
        const QString missing = m_dir.filePath(QStringLiteral("missing.pth"));
        const QString junk = m_dir.filePath(QStringLiteral("junk.bin"));
        QFile file(junk);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("this is not a checkpoint");
        file.close();
        const QString profile = m_dir.filePath(QStringLiteral("broken.graft.json"));
        QFile broken(profile);
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("{\"format\": \"graft-profile\", ");
        broken.close();
        QTest::newRow("missing B") << QStringList{a, missing} << QStringLiteral("graft-cli: error: %1: ").arg(missing);
        QTest::newRow("missing A") << QStringList{missing, a} << QStringLiteral("graft-cli: error: %1: ").arg(missing);
        QTest::newRow("not a checkpoint") << QStringList{a, junk} << QStringLiteral("graft-cli: error: %1: not a recognised checkpoint").arg(junk);
        QTest::newRow("broken profile") << QStringList{a, a, QStringLiteral("--profile"), profile} << QStringLiteral("graft-cli: error: %1: ").arg(profile);
        QTest::newRow("bad rtol") << QStringList{a, a, QStringLiteral("--rtol"), QStringLiteral("abc")}
                                  << QStringLiteral("graft-cli: error: --rtol needs a number >= 0, not 'abc'");
        QTest::newRow("bad atol") << QStringList{a, a, QStringLiteral("--atol"), QStringLiteral("-0.5")}
                                  << QStringLiteral("graft-cli: error: --atol needs a number >= 0, not '-0.5'");
        QTest::newRow("one file") << QStringList{a} << QStringLiteral("graft-cli: error: diff needs A and B (usage: graft-cli diff A B");
    }

    void errorMessages()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, expected);
        const CliRun run = runCli(QStringList{QStringLiteral("diff")} + arguments);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(QString::fromUtf8(run.err).startsWith(expected), qPrintable(describe(run)));
        QCOMPARE(run.err.count('\n'), 1); // one line, one error
    }

    void jsonContract()
    {
        const QString a = diffFixture(QStringLiteral("a.pth")), b = diffFixture(QStringLiteral("b.pth"));
        const CliRun run = runCli({QStringLiteral("diff"), a, b, QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 1);
        const QJsonObject report = parseObject(run.out);
        QVERIFY2(!report.isEmpty(), qPrintable(describe(run)));

        QCOMPARE(memberOrder(run.out, 0), kTopLevel);
        QCOMPARE(report.value(QStringLiteral("a")).toString(), a);
        QCOMPARE(report.value(QStringLiteral("b")).toString(), b);
        QCOMPARE(report.value(QStringLiteral("only_in_a")).toArray(), QJsonArray{QStringLiteral("removed.bias")});
        QCOMPARE(report.value(QStringLiteral("only_in_b")).toArray(), QJsonArray{QStringLiteral("added.bias")});
        const QJsonArray shapes = report.value(QStringLiteral("shape_changed")).toArray();
        QCOMPARE(shapes.size(), 1);
        QCOMPARE(shapes[0].toObject(), (QJsonObject{{QStringLiteral("key"), QStringLiteral("reshaped.weight")},
                                                    {QStringLiteral("a_shape"), QJsonArray{2, 6}},
                                                    {QStringLiteral("b_shape"), QJsonArray{6, 2}}}));
        const QJsonArray dtypes = report.value(QStringLiteral("dtype_changed")).toArray();
        QCOMPARE(dtypes.size(), 1);
        QCOMPARE(dtypes[0].toObject(), (QJsonObject{{QStringLiteral("key"), QStringLiteral("retyped.weight")},
                                                    {QStringLiteral("a_dtype"), QStringLiteral("float32")},
                                                    {QStringLiteral("b_dtype"), QStringLiteral("float16")}}));
        const qsizetype shapeAt = run.out.indexOf("\"shape_changed\": [") + qsizetype(strlen("\"shape_changed\": ["));
        QCOMPARE(memberOrder(run.out, shapeAt), (QStringList{QStringLiteral("key"), QStringLiteral("a_shape"), QStringLiteral("b_shape")}));
        const qsizetype dtypeAt = run.out.indexOf("\"dtype_changed\": [") + qsizetype(strlen("\"dtype_changed\": ["));
        QCOMPARE(memberOrder(run.out, dtypeAt), (QStringList{QStringLiteral("key"), QStringLiteral("a_dtype"), QStringLiteral("b_dtype")}));

        const QJsonArray compared = report.value(QStringLiteral("compared")).toArray();
        QCOMPARE(compared.size(), 6);
        // Every row, in written order, with both statistics objects in order.
        qsizetype at = run.out.indexOf("\"compared\": [") + qsizetype(strlen("\"compared\": ["));
        for (const QJsonValue &value : compared) {
            const QJsonObject row = value.toObject();
            QCOMPARE(keysOf(row), sorted(kRow));
            QCOMPARE(memberOrder(run.out, at), kRow);
            for (const char *side : {"\"a\": {", "\"b\": {"}) {
                const qsizetype statisticsAt = run.out.indexOf(side, at) + qsizetype(strlen(side)) - 1;
                QCOMPARE(memberOrder(run.out, statisticsAt), kStatistics);
            }
            at = run.out.indexOf("{\"key\": ", at + 1);
        }
        const QJsonObject first = compared[0].toObject();
        QCOMPARE(first.value(QStringLiteral("key")).toString(), QStringLiteral("scaled.weight"));
        QCOMPARE(first.value(QStringLiteral("shape")).toArray(), (QJsonArray{3, 4}));
        QCOMPARE(first.value(QStringLiteral("dtype")).toString(), QStringLiteral("float32"));
        QCOMPARE(first.value(QStringLiteral("equal")).toBool(), false);
        QVERIFY(qAbs(first.value(QStringLiteral("rel_l2")).toDouble() - 1.0) < 1e-12);
        QVERIFY(qAbs(first.value(QStringLiteral("cosine")).toDouble() - 1.0) < 1e-12);
        const QJsonObject statisticsA = first.value(QStringLiteral("a")).toObject();
        const QJsonObject statisticsB = first.value(QStringLiteral("b")).toObject();
        QCOMPARE(statisticsA.value(QStringLiteral("count")).toInt(), 12);
        QVERIFY(qAbs(statisticsB.value(QStringLiteral("l2")).toDouble() - 2 * statisticsA.value(QStringLiteral("l2")).toDouble()) < 1e-9);
        for (const QJsonValue &value : compared) {
            const QJsonObject row = value.toObject();
            const QString key = row.value(QStringLiteral("key")).toString();
            const bool identicalByConstruction = key == QLatin1String("same.weight") || key == QLatin1String("ints.index") || key == QLatin1String("nan.mixed");
            QCOMPARE(row.value(QStringLiteral("equal")).toBool(), identicalByConstruction);
        }
        const QJsonObject retyped = compared[2].toObject().value(QStringLiteral("key")) == QStringLiteral("retyped.weight") ? compared[2].toObject() : compared[1].toObject();
        QCOMPARE(retyped.value(QStringLiteral("dtype")).toString(), QStringLiteral("float16")); // B's dtype: the values were compared in it
    }

    // NaN and infinities are not JSON: they are written as null.
    void nonFiniteAsNull()
    {
        const QString file = QStringLiteral(GRAFT_FIXTURE_DIR "/empty_tensor.pth");
        const CliRun run = runCli({QStringLiteral("diff"), file, file, QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject report = parseObject(run.out);
        QVERIFY2(!report.isEmpty(), qPrintable(describe(run)));
        QVERIFY(!QString::fromUtf8(run.out).contains(QRegularExpression(QStringLiteral(":\\s*-?(nan|NaN|inf|Infinity)\\b"))));
        const QJsonObject empty = report.value(QStringLiteral("compared")).toArray().at(0).toObject();
        QCOMPARE(empty.value(QStringLiteral("key")).toString(), QStringLiteral("e"));
        const QJsonObject statistics = empty.value(QStringLiteral("a")).toObject();
        QCOMPARE(statistics.value(QStringLiteral("count")).toInt(), 0);
        for (const char *name : {"mean", "std", "min", "max", "max_abs", "zero_fraction"})
            QVERIFY2(statistics.value(QLatin1String(name)).isNull(), name);
        QCOMPARE(statistics.value(QStringLiteral("l2")).toDouble(), 0.0);
        QVERIFY(run.out.contains("\"mean\": null"));
    }

    void readableReport()
    {
        const QString a = diffFixture(QStringLiteral("a.pth")), b = diffFixture(QStringLiteral("b.pth"));
        const CliRun run = runCli({QStringLiteral("diff"), a, b});
        QCOMPARE(run.exitCode, 1);
        const QString out = QString::fromUtf8(run.out);
        QVERIFY2(out.contains(QStringLiteral("DIFFERENT: 3 of 6 compared tensors differ; 1 only in A; 1 only in B; 1 shape changed; 1 dtype changed (rtol 0, atol 0)\n")),
                 qPrintable(out));
        QVERIFY(out.contains(QStringLiteral("Only in A (1):\n  removed.bias\n")));
        QVERIFY(out.contains(QStringLiteral("Only in B (1):\n  added.bias\n")));
        QVERIFY(out.contains(QStringLiteral("Shape changed (1):\n  reshaped.weight  [2, 6] -> [6, 2]\n")));
        QVERIFY(out.contains(QStringLiteral("Dtype changed (1):\n  retyped.weight  float32 -> float16\n")));
        // The differing tensors, largest relative difference first, with their figures.
        const QStringList lines = out.split(QLatin1Char('\n'));
        const qsizetype header = lines.indexOf(QRegularExpression(QStringLiteral("^  KEY +SHAPE +DTYPE +REL L2 +MAX\\|A-B\\| +MEAN\\|A-B\\| +RMS +COSINE +DIFFERING$")));
        QVERIFY2(header > 0, qPrintable(out));
        QVERIFY(lines[header + 1].contains(QRegularExpression(QStringLiteral("^  scaled\\.weight +\\[3, 4\\] +float32 +1 +\\S+ +\\S+ +\\S+ +1 +12 of 12$"))));
        QVERIFY(lines[header + 2].startsWith(QStringLiteral("  nudged.weight")) || lines[header + 2].startsWith(QStringLiteral("  retyped.weight")));
        QVERIFY(out.contains(QStringLiteral("float32->float16")));
        QVERIFY(out.contains(QStringLiteral("1 of 20")));
        QVERIFY(out.contains(QStringLiteral("3 compared tensors are equal (3 byte for byte).")));
    }

    // The main use: check the file `convert` wrote against its source, through the profile.
    void convertedFileThroughProfile_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::newRow("eqx") << QStringLiteral("eqx");
        QTest::newRow("safetensors") << QStringLiteral("safetensors");
    }

    void convertedFileThroughProfile()
    {
        QFETCH(QString, suffix);
        const QString source = example(QStringLiteral("tiny_vgg.pth")), skeleton = example(QStringLiteral("tiny_vgg.skeleton.json"));
        const QString profile = m_dir.filePath(QStringLiteral("tiny_vgg.graft.json"));
        const QString output = m_dir.filePath(QStringLiteral("tiny_vgg_grafted.") + suffix);
        CliRun run = runCli({QStringLiteral("map"), source, skeleton, QStringLiteral("--save-profile"), profile});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        run = runCli({QStringLiteral("convert"), source, skeleton, QStringLiteral("-o"), output, QStringLiteral("--profile"), profile});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));

        run = runCli({QStringLiteral("diff"), source, output, QStringLiteral("--profile"), profile});
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        QVERIFY2(run.out.contains("EQUAL: 0 of 12 compared tensors differ; 6 kept by B (not compared)"), qPrintable(describe(run)));
        QVERIFY(run.out.contains("12 compared tensors are equal (12 byte for byte)."));

        run = runCli({QStringLiteral("diff"), source, output, QStringLiteral("--profile"), profile, QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject report = parseObject(run.out);
        QCOMPARE(report.value(QStringLiteral("compared")).toArray().size(), 12);
        QVERIFY(report.value(QStringLiteral("only_in_a")).toArray().isEmpty());
        QVERIFY(report.value(QStringLiteral("only_in_b")).toArray().isEmpty());
        for (const QJsonValue &row : report.value(QStringLiteral("compared")).toArray()) {
            QVERIFY(row.toObject().value(QStringLiteral("equal")).toBool());
            QCOMPARE(row.toObject().value(QStringLiteral("max_abs_diff")).toDouble(), 0.0);
        }

        // Without the mapping, keys are compared as they are: nothing lines up with a bare .eqx.
        if (suffix == QLatin1String("eqx")) {
            run = runCli({QStringLiteral("diff"), source, output, QStringLiteral("--json")});
            QCOMPARE(run.exitCode, 1);
            QCOMPARE(parseObject(run.out).value(QStringLiteral("only_in_a")).toArray().size(), 12);
        }
    }

    void listedInUsage()
    {
        const CliRun run = runCli({QStringLiteral("--help")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("diff A B [--profile P] [--rtol R] [--atol A] [--json]"));
    }
};

QTEST_GUILESS_MAIN(TestDiffCommand)
#include "tst_diffcommand.moc"
