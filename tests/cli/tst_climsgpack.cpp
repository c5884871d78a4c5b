// graft-cli and Flax msgpack, as a user runs it: `inspect --json` names the format
// flax-msgpack and lists the '/' keys and kept values; `convert --format msgpack` (or a
// .msgpack suffix) writes a file that reads back, prints the flax.serialization.from_bytes
// snippet, and a msgpack target converted onto itself is the same bytes.

#include "clirun.h"
#include "hostileinput.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

namespace {

QString fixture(const char *name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/") + QLatin1String(name); }

QJsonObject inspectJson(const QString &path)
{
    const CliRun run = runCli({QStringLiteral("inspect"), QStringLiteral("--json"), path});
    if (run.exitCode != 0)
        qWarning("%s", qPrintable(describe(run)));
    return QJsonDocument::fromJson(run.out).object();
}

} // namespace

class TestCliMsgpack : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void inspectNamesTheFormat();
    void convertOntoAMsgpackTargetKeepsItsBytes();
    void convertWritesMsgpackForAnyTarget();
};

void TestCliMsgpack::inspectNamesTheFormat()
{
    const QJsonObject cnn = inspectJson(fixture("flax_cnn.msgpack"));
    QCOMPARE(cnn.value("format").toString(), QStringLiteral("flax-msgpack"));
    const QJsonArray tensors = cnn.value("tensors").toArray();
    QCOMPARE(tensors.size(), 12);
    QCOMPARE(tensors[0].toObject().value("key").toString(), QStringLiteral("params/Conv_0/kernel"));
    QCOMPARE(tensors[0].toObject().value("shape").toArray(), (QJsonArray{3, 3, 3, 8}));
    QCOMPARE(tensors[11].toObject().value("key").toString(), QStringLiteral("batch_stats/BatchNorm_0/var"));

    const QJsonObject mixed = inspectJson(fixture("flax_mixed.msgpack"));
    QStringList others;
    for (const QJsonValue &other : mixed.value("other").toArray())
        others << other.toObject().value("key").toString();
    QVERIFY2(others.contains(QStringLiteral("step")) && others.contains(QStringLiteral("opt_state/1")), qPrintable(others.join(", ")));
}

void TestCliMsgpack::convertOntoAMsgpackTargetKeepsItsBytes()
{
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("same.msgpack"));
    const CliRun run = runCli({QStringLiteral("convert"), fixture("flax_mixed.msgpack"), fixture("flax_mixed.msgpack"), QStringLiteral("-o"), out});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QVERIFY2(run.out.contains("serialization.from_bytes(variables, f.read())"), qPrintable(describe(run)));
    QVERIFY2(run.out.contains(out.toUtf8()), qPrintable(describe(run)));
    QVERIFY(graft::test::readBytes(out) == graft::test::readBytes(fixture("flax_mixed.msgpack")));
}

void TestCliMsgpack::convertWritesMsgpackForAnyTarget()
{
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("vgg.bin"));
    const CliRun run = runCli({QStringLiteral("convert"), fixture("tiny_vgg.pth"), fixture("tiny_vgg.safetensors"), QStringLiteral("-o"), out,
                               QStringLiteral("--format"), QStringLiteral("msgpack")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject written = inspectJson(out);
    QCOMPARE(written.value("format").toString(), QStringLiteral("flax-msgpack"));
    const QJsonObject target = inspectJson(fixture("tiny_vgg.safetensors"));
    QStringList writtenKeys, targetKeys;
    for (const QJsonValue &tensor : written.value("tensors").toArray())
        writtenKeys << tensor.toObject().value("key").toString();
    for (const QJsonValue &tensor : target.value("tensors").toArray())
        targetKeys << tensor.toObject().value("key").toString();
    QCOMPARE(writtenKeys, targetKeys);

    const CliRun bad = runCli({QStringLiteral("convert"), fixture("tiny_vgg.pth"), fixture("tiny_vgg.safetensors"), QStringLiteral("-o"),
                               dir.filePath(QStringLiteral("x")), QStringLiteral("--format"), QStringLiteral("msgpak")});
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.contains("eqx|safetensors|npz|pt|msgpack"), qPrintable(describe(bad)));
}

QTEST_GUILESS_MAIN(TestCliMsgpack)
#include "tst_climsgpack.moc"
