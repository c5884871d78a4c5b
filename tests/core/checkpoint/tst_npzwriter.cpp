// The .npz writer against np.load and zipfile's CRC check (tests/python/read_npz.py) and Graft's
// own reader, including ZIP64 records (forced on small members, and for real past 65535 entries).

#include "checkpoint/writers/formatwriters.h"
#include "writercheck.h"

#include <QFileInfo>
#include <QTemporaryDir>

using namespace graft;

namespace {

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

quint64 littleEndianAt(const QByteArray &bytes, qsizetype at, int size)
{
    quint64 value = 0;
    for (int i = size - 1; i >= 0; --i)
        value = (value << 8) | static_cast<uchar>(bytes[at + i]);
    return value;
}

// Writes `leaves` as .npz through writeCheckpoint().
Result<WriteSummary> writeNpzFile(const QString &output, const std::vector<OutputLeaf> &leaves)
{
    WriteOptions options;
    options.format = OutputFormat::Npz;
    return writeCheckpoint(output, leaves, options);
}

// How every test here ends: numpy (np.load) reads `output` as `leaves` say, then, with
// `roundTrip`, Graft's own reader gives the same bytes back.
void checkReadBack(const QString &output, const std::vector<OutputLeaf> &leaves, bool roundTrip = true)
{
    const QJsonObject manifest = test::expectedManifest(leaves);
    test::checkWithPython(QStringLiteral("read_npz.py"), output, manifest);
    if (roundTrip && !QTest::currentTestFailed())
        test::checkRoundTrip(output, manifest);
}

} // namespace

class TestNpzWriter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void numpyReadsEveryLeaf_data();
    void numpyReadsEveryLeaf();
    void memberNamesKeepSlashesAndUnicode();
    void forcedZip64IsReadable();
    void bigMembersAmongSmallOnes();
    void moreThan65535EntriesUseZip64();
    void refusesDuplicateKeys();
};

void TestNpzWriter::numpyReadsEveryLeaf_data()
{
    QTest::addColumn<QString>("fixture");
    for (const char *name : {"dtypes.pth", "dtypes.safetensors", "tiny_vgg.pth", "views.pth", "empty_tensor.pth"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestNpzWriter::numpyReadsEveryLeaf()
{
    QFETCH(QString, fixture);
    const Checkpoint source = test::openFixture(fixture);
    const std::vector<OutputLeaf> leaves = test::leavesOf(source);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.npz"));
    Result<WriteSummary> summary = writeNpzFile(output, leaves);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(summary->bytes, QFileInfo(output).size());

    // Graft reads bfloat16/float8 members only through a skeleton (they are void to numpy).
    const bool hasVoid = std::any_of(leaves.begin(), leaves.end(), [](const OutputLeaf &leaf) {
        return leaf.spec.dtype == DType::BFloat16 || leaf.spec.dtype == DType::Float8E4M3
               || leaf.spec.dtype == DType::Float8E5M2;
    });
    checkReadBack(output, leaves, !hasVoid);
}

void TestNpzWriter::memberNamesKeepSlashesAndUnicode()
{
    const Checkpoint source = test::openFixture(QStringLiteral("tiny_vgg.pth"));
    std::vector<OutputLeaf> leaves = test::leavesOf(source);
    leaves.resize(3);
    leaves[0].key = QStringLiteral("encoder/layer.0/weight");
    leaves[1].key = QStringLiteral("Gewichte.größe");
    leaves[2].key = QStringLiteral("plain");
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("names.npz"));
    QVERIFY(writeNpzFile(output, leaves).ok());
    checkReadBack(output, leaves);
}

void TestNpzWriter::forcedZip64IsReadable()
{
    // Members of 4 GiB are too slow to test; forcing the ZIP64 records on small members checks
    // their layout (local extra with both sizes, central extra with sizes and offset, ZIP64 end
    // record and locator) against zipfile/np.load and Graft's reader.
    const Checkpoint source = test::openFixture(QStringLiteral("dtypes.pth"));
    const std::vector<OutputLeaf> leaves = test::leavesOf(source, [](const TensorEntry &tensor) {
        return tensor.dtype != DType::BFloat16;
    });
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("zip64.npz"));
    const writers::LeafStream stream(output, leaves, {});
    Result<WriteSummary> summary = writers::writeAtomically(output, static_cast<qint64>(leaves.size()), [&](writers::OutputSink &sink) {
        return writers::writeNpz(sink, stream, writers::NpzOptions{true});
    });
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));

    const QByteArray bytes = readAll(output);
    // Local header of the first member: ZIP64 sizes are 0xffffffff, version needed 4.5.
    QCOMPARE(littleEndianAt(bytes, 4, 2), 45u);
    QCOMPARE(littleEndianAt(bytes, 18, 4), 0xffffffffu);
    QCOMPARE(littleEndianAt(bytes, 22, 4), 0xffffffffu);
    // ZIP64 locator right before the 22-byte end record.
    QCOMPARE(littleEndianAt(bytes, bytes.size() - 22 - 20, 4), 0x07064b50u);

    checkReadBack(output, leaves);
}

// The output sink gathers small writes in a 1 MiB buffer and sends big ones straight to the
// file; a member over 4 MiB is streamed and its CRC patched into its header afterwards. Members
// of every size in between, in turn: numpy (zipfile checks each CRC) and Graft read back each
// leaf's own bytes.
void TestNpzWriter::bigMembersAmongSmallOnes()
{
    const QList<qint64> elements{3, (qint64(5) << 20) / 4 + 7, 1, (qint64(2) << 20) / 4, 17, (qint64(1) << 20) / 4 - 40, 5};
    std::vector<OutputLeaf> leaves;
    for (qsizetype i = 0; i < elements.size(); ++i) {
        const qint64 count = elements[i];
        leaves.push_back({QStringLiteral("leaf%1").arg(i), {DType::Float32, {count}}, [count, i]() -> Result<TensorBytes> {
                              std::vector<uchar> bytes(static_cast<size_t>(count) * 4);
                              for (size_t b = 0; b < bytes.size(); ++b)
                                  bytes[b] = static_cast<uchar>((b * 131 + static_cast<size_t>(i) * 7) >> 3);
                              return TensorBytes::owned(std::move(bytes));
                          }});
    }
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("sizes.npz"));
    Result<WriteSummary> summary = writeNpzFile(output, leaves);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(summary->bytes, QFileInfo(output).size());
    checkReadBack(output, leaves);
}

void TestNpzWriter::moreThan65535EntriesUseZip64()
{
    // 70,000 0-d members: the end record's 16-bit count can't hold them, so the ZIP64 end
    // record carries the count (0xffff in the classic record).
    const Checkpoint source = test::openFixture(QStringLiteral("empty_tensor.pth"));
    const int scalar = source.indexOf(QStringLiteral("s"));
    QVERIFY(scalar >= 0);
    QCOMPARE(source.tensors()[scalar].shape, Shape{});
    constexpr int count = 70'000;
    std::vector<OutputLeaf> leaves;
    leaves.reserve(count);
    for (int i = 0; i < count; ++i)
        leaves.push_back({QStringLiteral("leaf%1").arg(i), TensorSpec{DType::Float32, {}}, [&source, scalar] { return source.read(scalar); }});
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("many.npz"));
    Result<WriteSummary> summary = writeNpzFile(output, leaves);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));

    const QByteArray bytes = readAll(output);
    const qsizetype end = bytes.size() - 22;
    QCOMPARE(littleEndianAt(bytes, end, 4), 0x06054b50u);
    QCOMPARE(littleEndianAt(bytes, end + 10, 2), 0xffffu);
    QCOMPARE(littleEndianAt(bytes, end - 20, 4), 0x07064b50u);
    QCOMPARE(littleEndianAt(bytes, end - 20 - 56, 4), 0x06064b50u);
    QCOMPARE(littleEndianAt(bytes, end - 20 - 56 + 32, 8), static_cast<quint64>(count));

    checkReadBack(output, leaves);
}

void TestNpzWriter::refusesDuplicateKeys()
{
    const Checkpoint source = test::openFixture(QStringLiteral("tiny_vgg.pth"));
    std::vector<OutputLeaf> leaves = test::leavesOf(source);
    leaves[1].key = leaves[0].key;
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("dup.npz"));
    Result<WriteSummary> summary = writeNpzFile(output, leaves);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(QStringLiteral("two leaves are named '%1'").arg(leaves[0].key)),
             qPrintable(summary.error().message));
    QCOMPARE(test::directoryListing(dir.path()), QStringList());

    // Several names written twice: the one reported is the first written again (leaf 4 repeats
    // leaf 3, before leaf 6 repeats leaf 0), whatever the order the check finds them in.
    leaves = test::leavesOf(source);
    QVERIFY(leaves.size() >= 7);
    leaves[6].key = leaves[0].key;
    leaves[4].key = leaves[3].key;
    summary = writeNpzFile(output, leaves);
    QVERIFY(!summary.ok());
    QVERIFY2(summary.error().message.contains(QStringLiteral("two leaves are named '%1'").arg(leaves[3].key)),
             qPrintable(summary.error().message));
    QCOMPARE(test::directoryListing(dir.path()), QStringList());
}

QTEST_GUILESS_MAIN(TestNpzWriter)
#include "tst_npzwriter.moc"
