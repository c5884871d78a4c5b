// The .pt writer against Python's torch.load (tests/python/read_torch.py), both the way torch
// 1.13 loads by default and with weights_only=True (torch >= 2.6's default), and against
// Graft's own torch zip reader.

#include "tensor/tensorengine.h"
#include "writercheck.h"

#include <QTemporaryDir>

using namespace graft;

class TestTorchWriter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void torchLoadsEveryLeaf_data();
    void torchLoadsEveryLeaf();
    void storagesAreAlignedForMapping();
    void largeDimensionsPickle();
    void manyLeavesNameEachGlobalOnce();
    void refusesDtypesTorchLacks();
};

void TestTorchWriter::torchLoadsEveryLeaf_data()
{
    QTest::addColumn<QString>("fixture");
    // dtypes: all 12 torch dtypes (bfloat16, bool, complex128...); views: copied leaves;
    // empty_tensor: a 0-element and a 0-d tensor; resnet18: 45 MB, 122 entries.
    for (const char *name : {"dtypes.pth", "tiny_vgg.pth", "views.pth", "empty_tensor.pth", "resnet18.pth"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestTorchWriter::torchLoadsEveryLeaf()
{
    QFETCH(QString, fixture);
    const Checkpoint source = test::openFixture(fixture);
    const std::vector<OutputLeaf> leaves = test::leavesOf(source);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.pt"));
    WriteOptions options;
    options.format = OutputFormat::Torch;
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(summary->leaves, static_cast<qint64>(leaves.size()));
    QCOMPARE(summary->bytes, QFileInfo(output).size());
    // Written without LibTorch: no 0.44 s / 157 MB start-up for a byte copy.
    QVERIFY(!tensorEngineLoaded());

    const QJsonObject manifest = test::expectedManifest(leaves);
    test::checkWithPython(QStringLiteral("read_torch.py"), output, manifest);
    if (QTest::currentTestFailed())
        return;
    test::checkRoundTrip(output, manifest);
}

void TestTorchWriter::storagesAreAlignedForMapping()
{
    // Like torch.save: every storage starts on a multiple of 64 bytes, so readers can map it
    // (torch.load(mmap=True), Graft's zero-copy reads).
    const Checkpoint source = test::openFixture(QStringLiteral("dtypes.pth"));
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.pt"));
    WriteOptions options;
    options.format = OutputFormat::Torch;
    QVERIFY(writeCheckpoint(output, test::leavesOf(source), options).ok());
    Result<Checkpoint> back = openCheckpoint(output);
    QVERIFY(back.ok());
    QCOMPARE(back->tensors().size(), source.tensors().size());
    const uchar *mapStart = back->files().front()->data();
    for (int i = 0; i < static_cast<int>(back->tensors().size()); ++i) {
        Result<TensorBytes> bytes = back->read(i);
        QVERIFY(bytes.ok());
        QVERIFY(bytes->isZeroCopy());
        QCOMPARE((bytes->data() - mapStart) % 64, 0);
    }
}

void TestTorchWriter::largeDimensionsPickle()
{
    // Empty tensors with dims and strides that need every pickle integer width: BININT1 (< 256),
    // BININT2 (< 65536), BININT (< 2^31) and LONG1 (3,000,000,000).
    const std::vector<Shape> shapes{{0, 300}, {0, 70'000}, {0, 3'000'000'000LL}, {3'000'000'000LL, 0, 2}, {2, 0, 5}};
    std::vector<OutputLeaf> leaves;
    for (size_t i = 0; i < shapes.size(); ++i)
        leaves.push_back({QStringLiteral("empty%1").arg(i), TensorSpec{DType::Float32, shapes[i]},
                          [] { return Result<TensorBytes>(TensorBytes::owned({})); }});
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("dims.pt"));
    WriteOptions options;
    options.format = OutputFormat::Torch;
    QVERIFY(writeCheckpoint(output, leaves, options).ok());
    const QJsonObject manifest = test::expectedManifest(leaves);
    test::checkWithPython(QStringLiteral("read_torch.py"), output, manifest);
    if (QTest::currentTestFailed())
        return;
    test::checkRoundTrip(output, manifest);
}

void TestTorchWriter::manyLeavesNameEachGlobalOnce()
{
    // 2500 leaves of three dtypes: the globals and the constant strings are written once and
    // fetched from the memo after that (as torch.save does), the dict is filled 1000 pairs at a
    // time, and torch.load (both ways) and Graft read every leaf back.
    const DType dtypes[] = {DType::Float32, DType::BFloat16, DType::Int64};
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < 2500; ++i) {
        const TensorSpec spec{dtypes[i % 3], i % 2 ? Shape{2, 3} : Shape{4}};
        const qint64 bytes = checkedNumel(spec.shape, 1 << 20) * dtypeSize(spec.dtype);
        leaves.push_back({QStringLiteral("layers.%1.weight").arg(i), spec, [bytes, i] {
                              return Result<TensorBytes>(TensorBytes::owned(std::vector<uchar>(static_cast<size_t>(bytes), static_cast<uchar>(i % 7))));
                          }});
    }
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("many.pt"));
    WriteOptions options;
    options.format = OutputFormat::Torch;
    QVERIFY(writeCheckpoint(output, leaves, options).ok());
    QFile file(output);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray written = file.readAll(); // data.pkl is stored, not deflated
    for (const char *once : {"_rebuild_tensor_v2", "FloatStorage", "BFloat16Storage", "LongStorage", "OrderedDict", "cpu"})
        QVERIFY2(written.count(once) == 1, once);
    QCOMPARE(written.count("layers.1234.weight"), 1);
    const QJsonObject manifest = test::expectedManifest(leaves);
    test::checkWithPython(QStringLiteral("read_torch.py"), output, manifest);
    if (QTest::currentTestFailed())
        return;
    test::checkRoundTrip(output, manifest);
}

void TestTorchWriter::refusesDtypesTorchLacks()
{
    // uint16/32/64 and float8 have no storage type in torch 1.13: refused before any leaf is read.
    const Checkpoint source = test::openFixture(QStringLiteral("dtypes.safetensors"));
    std::vector<OutputLeaf> leaves = test::leavesOf(source);
    int produced = 0;
    for (OutputLeaf &leaf : leaves)
        leaf.produce = [&produced, inner = leaf.produce] {
            ++produced;
            return inner();
        };
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.pt"));
    WriteOptions options;
    options.format = OutputFormat::Torch;
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(QStringLiteral("PyTorch 1.13 cannot store")), qPrintable(summary.error().message));
    QCOMPARE(produced, 0);
    QCOMPARE(test::directoryListing(dir.path()), QStringList());
}

QTEST_GUILESS_MAIN(TestTorchWriter)
#include "tst_torchwriter.moc"
