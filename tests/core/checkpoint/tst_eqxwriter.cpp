// The .eqx writer against the real consumer: tests/python/read_eqx.py walks the file as
// eqx.tree_deserialise_leaves does (np.load per leaf on one open file) and also demands that
// every record be byte-identical to np.save's; then Graft reads it back through a skeleton.

#include "checkpoint/formats/npyheader.h"
#include "writercheck.h"

#include <QJsonArray>
#include <QTemporaryDir>

using namespace graft;

namespace {

// A skeleton (contract v1) naming the records of `eqxPath`, so Graft's reader can give the
// leaves their keys and dtypes (bfloat16 and float8 records are void to numpy).
QString writeSkeleton(const QString &eqxPath, const std::vector<OutputLeaf> &leaves)
{
    QJsonArray entries;
    for (const OutputLeaf &leaf : leaves) {
        QJsonArray shape;
        for (qint64 dim : leaf.spec.shape)
            shape.append(dim);
        entries.append(QJsonObject{{QStringLiteral("path"), leaf.key},
                                   {QStringLiteral("kind"), QStringLiteral("array")},
                                   {QStringLiteral("shape"), shape},
                                   {QStringLiteral("dtype"), dtypeName(leaf.spec.dtype)}});
    }
    const QString path = eqxPath + QStringLiteral(".skeleton.json");
    test::writeJson(path, QJsonObject{{QStringLiteral("format"), QStringLiteral("graft-skeleton")},
                                      {QStringLiteral("version"), 1},
                                      {QStringLiteral("framework"), QStringLiteral("equinox")},
                                      {QStringLiteral("leaves_file"), QFileInfo(eqxPath).fileName()},
                                      {QStringLiteral("leaves"), entries}});
    return path;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestEqxWriter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void equinoxReadsEveryLeaf_data();
    void equinoxReadsEveryLeaf();
    void fileIsOnlyRecords();
    void reproducesEquinoxFilesByteForByte_data();
    void reproducesEquinoxFilesByteForByte();
    void emptyLeafListWritesEmptyFile();
};

void TestEqxWriter::equinoxReadsEveryLeaf_data()
{
    QTest::addColumn<QString>("fixture");
    // dtypes: all 12 torch dtypes incl. bfloat16 ('<V2'), bool, complex128, NaN/inf/-0.0;
    // dtypes.safetensors adds uint16/32/64 and float8; views: non-contiguous (copied) leaves;
    // empty_tensor: a (0, 3) and a 0-d leaf.
    for (const char *name : {"dtypes.pth", "tiny_vgg.pth", "views.pth", "empty_tensor.pth", "dtypes.safetensors"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestEqxWriter::equinoxReadsEveryLeaf()
{
    QFETCH(QString, fixture);
    const Checkpoint source = test::openFixture(fixture);
    const std::vector<OutputLeaf> leaves = test::leavesOf(source);
    QVERIFY(!leaves.empty());
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.eqx"));
    WriteOptions options;
    options.format = OutputFormat::Eqx;
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(summary->leaves, static_cast<qint64>(leaves.size()));
    QCOMPARE(summary->bytes, QFileInfo(output).size());

    const QJsonObject manifest = test::expectedManifest(leaves);
    test::checkWithPython(QStringLiteral("read_eqx.py"), output, manifest);
    if (QTest::currentTestFailed())
        return;
    test::checkRoundTrip(writeSkeleton(output, leaves), manifest);
}

void TestEqxWriter::fileIsOnlyRecords()
{
    // Byte layout without Python: record i = formatNpyHeader(spec i) + the leaf's bytes, and
    // the file is exactly their concatenation.
    const Checkpoint source = test::openFixture(QStringLiteral("dtypes.pth"));
    const std::vector<OutputLeaf> leaves = test::leavesOf(source);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.eqx"));
    WriteOptions options;
    options.format = OutputFormat::Eqx;
    QVERIFY(writeCheckpoint(output, leaves, options).ok());
    QByteArray expected;
    for (const OutputLeaf &leaf : leaves) {
        const TensorBytes bytes = leaf.produce().value();
        expected += formatNpyHeader(leaf.spec.dtype, leaf.spec.shape);
        expected += QByteArray(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    }
    QCOMPARE(readAll(output), expected);
}

void TestEqxWriter::reproducesEquinoxFilesByteForByte_data()
{
    QTest::addColumn<QString>("skeleton");
    QTest::addColumn<QString>("eqx");
    // Written by np.save record for record (as Equinox does): 0-d float64 and bool scalars,
    // conv biases (out, 1, 1); and a bfloat16 leaf with jnp.save's '<V2' descr.
    QTest::newRow("tiny_vgg") << "tiny_vgg.skeleton.json" << "tiny_vgg.eqx";
    QTest::newRow("bf16") << "bf16_skeleton.skeleton.json" << "bf16_skeleton.eqx";
}

void TestEqxWriter::reproducesEquinoxFilesByteForByte()
{
    QFETCH(QString, skeleton);
    QFETCH(QString, eqx);
    const Checkpoint source = test::openFixture(skeleton);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("copy.eqx"));
    WriteOptions options;
    options.format = OutputFormat::Eqx;
    Result<WriteSummary> summary = writeCheckpoint(output, test::leavesOf(source), options);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    const QByteArray original = readAll(test::fixturePath(eqx));
    QVERIFY(!original.isEmpty());
    QCOMPARE(readAll(output), original);
}

void TestEqxWriter::emptyLeafListWritesEmptyFile()
{
    // A tree with no saved leaves: tree_serialise_leaves writes an empty file.
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("empty.eqx"));
    WriteOptions options;
    options.format = OutputFormat::Eqx;
    Result<WriteSummary> summary = writeCheckpoint(output, {}, options);
    QVERIFY(summary.ok());
    QVERIFY(QFileInfo::exists(output));
    QCOMPARE(QFileInfo(output).size(), 0);
    QCOMPARE(summary->bytes, 0);
}

QTEST_GUILESS_MAIN(TestEqxWriter)
#include "tst_eqxwriter.moc"
