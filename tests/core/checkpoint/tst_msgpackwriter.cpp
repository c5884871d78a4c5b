// The Flax msgpack writer: a fixture (flax.serialization.to_bytes's own bytes) read and written
// again with itself as the layout is the same file, byte for byte, and so is the next round
// (read -> write -> read); a tree from keys alone; interleaved keys; chunking; refusals.
// tests/interop checks flax.serialization.from_bytes restores what it writes.

#include "hostileinput.h"
#include "writercheck.h"

#include <QTemporaryDir>

#include <cstring>

using namespace graft;

namespace {

Result<WriteSummary> writeMsgpack(const QString &path, const std::vector<OutputLeaf> &leaves, std::optional<Checkpoint> layout = {},
                                  qint64 chunkBytes = qint64(1) << 30)
{
    WriteOptions options;
    options.format = OutputFormat::FlaxMsgpack;
    options.layout = std::move(layout);
    options.msgpackChunkBytes = chunkBytes;
    return writeCheckpoint(path, leaves, options);
}

OutputLeaf floats(const QString &key, const Shape &shape, float start)
{
    qint64 numel = 1;
    for (qint64 dim : shape)
        numel *= dim;
    std::vector<uchar> bytes(size_t(numel) * 4);
    for (qint64 i = 0; i < numel; ++i) {
        const float value = start + float(i);
        std::memcpy(bytes.data() + 4 * i, &value, 4);
    }
    return {key, TensorSpec{DType::Float32, shape}, [bytes] { return Result<TensorBytes>(TensorBytes::owned(bytes)); }};
}

QStringList keysOf(const Checkpoint &checkpoint)
{
    QStringList keys;
    for (const TensorEntry &tensor : checkpoint.tensors())
        keys << tensor.key;
    return keys;
}

} // namespace

class TestMsgpackWriter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTripIsByteStable_data();
    void roundTripIsByteStable();
    void treeFromKeysAlone();
    void interleavedKeysAreGroupedByMap();
    void bigArraysAreChunked();
    void refusesWhatIsNoTree_data();
    void refusesWhatIsNoTree();
};

void TestMsgpackWriter::roundTripIsByteStable_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<qint64>("chunkBytes");
    QTest::newRow("cnn") << QStringLiteral("flax_cnn.msgpack") << (qint64(1) << 30);
    QTest::newRow("mixed (kept values, scalars, dtypes)") << QStringLiteral("flax_mixed.msgpack") << (qint64(1) << 30);
    QTest::newRow("chunked") << QStringLiteral("flax_chunked.msgpack") << qint64(64);
}

void TestMsgpackWriter::roundTripIsByteStable()
{
    QFETCH(QString, fixture);
    QFETCH(qint64, chunkBytes);
    const QString original = test::fixturePath(fixture);
    QTemporaryDir dir;
    QString previous = original;
    for (int round = 1; round <= 2; ++round) {
        Result<Checkpoint> input = openCheckpoint(previous);
        QVERIFY2(input.ok(), input.ok() ? "" : qPrintable(input.error().toString()));
        const QString out = dir.filePath(QStringLiteral("round%1.msgpack").arg(round));
        Result<WriteSummary> written = writeMsgpack(out, test::leavesOf(*input), *input, chunkBytes);
        QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().toString()));
        QVERIFY2(test::readBytes(out) == test::readBytes(original), qPrintable(QStringLiteral("round %1 differs").arg(round)));
        previous = out;
    }
    Result<Checkpoint> last = openCheckpoint(previous);
    QVERIFY(last.ok());
    QCOMPARE(last->others().size(), openCheckpoint(original)->others().size());
}

void TestMsgpackWriter::treeFromKeysAlone()
{
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("keys.msgpack"));
    std::vector<OutputLeaf> leaves{floats(QStringLiteral("params/Dense_0/kernel"), {2, 3}, 1),
                                   floats(QStringLiteral("params/Dense_0/bias"), {3}, 10),
                                   floats(QStringLiteral("batch_stats/BatchNorm_0/mean"), {}, 7)};
    QVERIFY(writeMsgpack(out, leaves).ok());
    Result<Checkpoint> back = openCheckpoint(out);
    QVERIFY2(back.ok(), back.ok() ? "" : qPrintable(back.error().toString()));
    QCOMPARE(keysOf(*back), (QStringList{"params/Dense_0/kernel", "params/Dense_0/bias", "batch_stats/BatchNorm_0/mean"}));
    QCOMPARE(back->tensors()[2].kind, LeafKind::Array); // without a layout a 0-d leaf is an ndarray
    for (size_t i = 0; i < leaves.size(); ++i)
        QCOMPARE(test::sha256Hex(*back->read(int(i))), test::sha256Hex(*leaves[i].produce()));
    // The exact bytes to_bytes writes for {"params": {"Dense_0": {...}}, ...} start so.
    QVERIFY(test::readBytes(out).startsWith(QByteArray("\x82\xa6params\x81\xa7" "Dense_0\x82\xa6kernel\xc7", 26)));
}

void TestMsgpackWriter::interleavedKeysAreGroupedByMap()
{
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("interleaved.msgpack"));
    std::vector<OutputLeaf> leaves{floats(QStringLiteral("a/x"), {2}, 1), floats(QStringLiteral("b/y"), {2}, 3),
                                   floats(QStringLiteral("a/z"), {2}, 5)};
    int produced = 0;
    WriteOptions options;
    options.format = OutputFormat::FlaxMsgpack;
    options.progress = [&produced](qint64 done, qint64 total) { produced = int(done); return total == 3; };
    QVERIFY(writeCheckpoint(out, leaves, options).ok());
    QCOMPARE(produced, 3);
    Result<Checkpoint> back = openCheckpoint(out);
    QVERIFY(back.ok());
    QCOMPARE(keysOf(*back), (QStringList{"a/x", "a/z", "b/y"}));
    QCOMPARE(test::sha256Hex(*back->read(1)), test::sha256Hex(*leaves[2].produce()));
}

void TestMsgpackWriter::bigArraysAreChunked()
{
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("chunked.msgpack"));
    std::vector<OutputLeaf> leaves{floats(QStringLiteral("params/embedding"), {5, 7}, 0), floats(QStringLiteral("params/small"), {4}, 0)};
    QVERIFY(writeMsgpack(out, leaves, {}, 16).ok());
    const QByteArray bytes = test::readBytes(out);
    QCOMPARE(bytes.count("__msgpack_chunked_array__"), 1); // the 16-byte one is not chunked
    Result<Checkpoint> back = openCheckpoint(out);
    QVERIFY(back.ok());
    const Segment &segment = back->segments()[size_t(back->tensors()[0].segment)];
    QCOMPARE(segment.pieces.size(), size_t(9)); // 35 floats in chunks of 4
    QCOMPARE(shapeToString(back->tensors()[0].shape), QStringLiteral("[5, 7]"));
    QCOMPARE(test::sha256Hex(*back->read(0)), test::sha256Hex(*leaves[0].produce()));
}

void TestMsgpackWriter::refusesWhatIsNoTree_data()
{
    QTest::addColumn<QStringList>("keys");
    QTest::addColumn<QString>("message");
    QTest::newRow("a value and a map") << QStringList{"a", "a/b"} << "'a' is both a value and a map";
    QTest::newRow("a map and a value") << QStringList{"a/b", "a"} << "'a' is both a value and a map";
    QTest::newRow("empty part") << QStringList{"a//b"} << "empty part between '/'";
    QTest::newRow("duplicate keys") << QStringList{"a/b", "a/b"} << "a/b";
    QTest::newRow("too deep") << QStringList{QStringList(70, QStringLiteral("x")).join(QLatin1Char('/'))} << "nested deeper than 63 maps";
}

void TestMsgpackWriter::refusesWhatIsNoTree()
{
    QFETCH(QStringList, keys);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("bad.msgpack"));
    std::vector<OutputLeaf> leaves;
    for (const QString &key : keys)
        leaves.push_back(floats(key, {1}, 0));
    Result<WriteSummary> written = writeMsgpack(out, leaves);
    QVERIFY(!written.ok());
    QCOMPARE(written.error().file, out);
    QVERIFY2(written.error().message.contains(message), qPrintable(written.error().message));
    QVERIFY(!QFile::exists(out));
}

QTEST_GUILESS_MAIN(TestMsgpackWriter)
#include "tst_msgpackwriter.moc"
