// graft-cli inspect --verify: every tensor's bytes read once, zip CRC-32s checked; exit 2 naming
// the file and the record when one fails, 0 otherwise (a file with no tensors included), and
// the same answer in --json.

#include "clirun.h"
#include "hostilebuilders.h"
#include "hostileinput.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace graft::test;
using namespace graft::test::hostile;

namespace {

QString fixture(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/") + name; }

// The offset of the first byte of the last `archive/data/<n>`-style record's data: found by
// its local header (stored members only), so a flip lands inside tensor bytes.
qint64 lastRecordData(const QByteArray &zip, const QByteArray &namePart)
{
    qint64 found = -1;
    for (qsizetype at = zip.indexOf("PK\x03\x04"); at >= 0; at = zip.indexOf("PK\x03\x04", at + 4)) {
        const int nameLength = uchar(zip[at + 26]) | (uchar(zip[at + 27]) << 8);
        const int extraLength = uchar(zip[at + 28]) | (uchar(zip[at + 29]) << 8);
        if (zip.mid(at + 30, nameLength).contains(namePart))
            found = at + 30 + nameLength + extraLength;
    }
    return found;
}

} // namespace

class TestInspectVerify : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void validFilesVerify_data();
    void validFilesVerify();
    void flippedByteIsFound();

private:
    QTemporaryDir m_dir;
};

void TestInspectVerify::validFilesVerify_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<qint64>("tensors");
    QTest::newRow("torch zip") << fixture("tiny_vgg.pth") << qint64(-1);
    QTest::newRow("safetensors") << fixture("tiny_vgg.safetensors") << qint64(-1);
    QTest::newRow("npz, deflated") << fixture("deflated.npz") << qint64(-1);
    QTest::newRow("eqx") << fixture("tiny_vgg.eqx") << qint64(-1);
    QTest::newRow("legacy torch") << fixture("legacy_dtypes.pth") << qint64(-1);
    QTest::newRow("no tensors") << writeFile(m_dir, "empty.pth", torchZip(dictPickle({}))) << qint64(0);
}

void TestInspectVerify::validFilesVerify()
{
    QFETCH(QString, path);
    QFETCH(qint64, tensors);
    const CliRun table = runCli({QStringLiteral("inspect"), QStringLiteral("--verify"), path});
    QVERIFY2(table.exitCode == 0, qPrintable(describe(table)));
    QVERIFY2(table.out.contains("verified: "), qPrintable(describe(table)));
    const CliRun json = runCli({QStringLiteral("inspect"), QStringLiteral("--verify"), QStringLiteral("--json"), path});
    QVERIFY2(json.exitCode == 0, qPrintable(describe(json)));
    const QJsonObject verify = QJsonDocument::fromJson(json.out).object().value(QStringLiteral("verify")).toObject();
    QCOMPARE(verify.value(QStringLiteral("ok")).toBool(), true);
    const qint64 listed = QJsonDocument::fromJson(json.out).object().value(QStringLiteral("tensors")).toArray().size();
    QCOMPARE(verify.value(QStringLiteral("tensors")).toInteger(), listed);
    if (tensors >= 0)
        QCOMPARE(listed, tensors);
    else
        QVERIFY(listed > 0);
}

void TestInspectVerify::flippedByteIsFound()
{
    // tiny_vgg.pth as torch.save wrote it, one byte of its last storage flipped: it still lists
    // (as torch.load still loads it), but --verify reads the record and its CRC-32 disagrees.
    QByteArray bytes = readBytes(fixture("tiny_vgg.pth"));
    const qint64 at = lastRecordData(bytes, "/data/");
    QVERIFY(at > 0);
    bytes[at + 2] = char(bytes[at + 2] ^ 0x08);
    const QString path = writeFile(m_dir, "flipped.pth", bytes);

    const CliRun plain = runCli({QStringLiteral("inspect"), path});
    QVERIFY2(plain.exitCode == 0, qPrintable(describe(plain)));
    const CliRun table = runCli({QStringLiteral("inspect"), QStringLiteral("--verify"), path});
    QVERIFY2(table.exitCode == 2, qPrintable(describe(table)));
    const QString err = QString::fromUtf8(table.err);
    QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: ") + path + QStringLiteral(": tensor '")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("/data/")) && err.contains(QStringLiteral("is corrupt: its CRC-32 is ")), qPrintable(err));

    const CliRun json = runCli({QStringLiteral("inspect"), QStringLiteral("--verify"), QStringLiteral("--json"), path});
    QCOMPARE(json.exitCode, 2);
    const QJsonObject verify = QJsonDocument::fromJson(json.out).object().value(QStringLiteral("verify")).toObject();
    QCOMPARE(verify.value(QStringLiteral("ok")).toBool(), false);
    QVERIFY2(verify.value(QStringLiteral("error")).toString().contains(QStringLiteral("is corrupt")), json.out.constData());
}

QTEST_GUILESS_MAIN(TestInspectVerify)
#include "tst_inspectverify.moc"
