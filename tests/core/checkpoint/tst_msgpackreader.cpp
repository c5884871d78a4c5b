// readFlaxMsgpack: the Flax msgpack fixtures (flax.serialization.to_bytes's bytes, made by
// tests/fixtures/msgpack_fixtures.py; tests/interop checks real flax writes the same) against
// their manifests, zero-copy views, kept values, the Flax convention, and one hand-built corrupt
// file per failure kind, each refused with an error naming the file and what is wrong.

#include "hostileinput.h"
#include "manifestcheck.h"
#include "mapping/automatcher.h"
#include "msgpackbuilder.h"

#include <QTemporaryDir>
#include <QTest>

using namespace graft;
namespace mp = graft::test::msgpack;

class TestMsgpackReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesTheTree_data();
    void listingMatchesTheTree();
    void tensorsAreViewsOfTheMap();
    void valuesAreKeptWithTheirBytes();
    void targetsAreFlax();
    void truncationIsRefused();
    void refusesCorruptFiles_data();
    void refusesCorruptFiles();
};

void TestMsgpackReader::listingMatchesTheTree_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("cnn") << QStringLiteral("flax_cnn.msgpack");
    QTest::newRow("mixed") << QStringLiteral("flax_mixed.msgpack");
    QTest::newRow("chunked") << QStringLiteral("flax_chunked.msgpack");
}

void TestMsgpackReader::listingMatchesTheTree()
{
    QFETCH(QString, file);
    test::checkAgainstManifest(file);
}

void TestMsgpackReader::tensorsAreViewsOfTheMap()
{
    Result<Checkpoint> cnn = openCheckpoint(test::fixturePath(QStringLiteral("flax_cnn.msgpack")));
    QVERIFY(cnn.ok());
    QCOMPARE(cnn->format(), CheckpointFormat::FlaxMsgpack);
    for (int i = 0; i < int(cnn->tensors().size()); ++i)
        QVERIFY(cnn->read(i)->isZeroCopy());
    // Chunked arrays are joined on read; the unchunked one beside them stays a view.
    Result<Checkpoint> chunked = openCheckpoint(test::fixturePath(QStringLiteral("flax_chunked.msgpack")));
    QVERIFY(chunked.ok());
    const int embedding = chunked->indexOf(QStringLiteral("params/Embed_0/embedding"));
    QVERIFY(embedding >= 0);
    const Segment &segment = chunked->segments()[size_t(chunked->tensors()[size_t(embedding)].segment)];
    QCOMPARE(segment.pieces.size(), size_t(4)); // 200 bytes in chunks of 16 floats: 64+64+64+8
    QVERIFY(!chunked->read(embedding)->isZeroCopy());
}

void TestMsgpackReader::valuesAreKeptWithTheirBytes()
{
    Result<Checkpoint> mixed = openCheckpoint(test::fixturePath(QStringLiteral("flax_mixed.msgpack")));
    QVERIFY2(mixed.ok(), mixed.ok() ? "" : qPrintable(mixed.error().toString()));
    // A numpy scalar (ext 3) is a Scalar leaf; a 0-d array (ext 1) an Array.
    QCOMPARE(mixed->tensors()[size_t(mixed->indexOf(QStringLiteral("rate")))].kind, LeafKind::Scalar);
    QCOMPARE(mixed->tensors()[size_t(mixed->indexOf(QStringLiteral("zero_d")))].kind, LeafKind::Array);
    QHash<QString, OtherEntry> others;
    for (const OtherEntry &other : mixed->others())
        others.insert(other.key, other);
    QCOMPARE(others.value(QStringLiteral("step")).summary, QStringLiteral("1200"));
    QCOMPARE(others.value(QStringLiteral("step")).encoded, QByteArray("\xcd\x04\xb0", 3));
    QCOMPARE(others.value(QStringLiteral("step")).tensorsBefore, 0);
    QCOMPARE(others.value(QStringLiteral("opt_state/1")).encoded, QByteArray("\x80", 1));
    QCOMPARE(others.value(QStringLiteral("opt_state/1")).tensorsBefore, 4); // after the 3 params and the count
    QCOMPARE(others.value(QStringLiteral("nothing")).encoded, QByteArray("\xc0", 1));
    QCOMPARE(others.value(QStringLiteral("phase")).summary, QStringLiteral("(1-2j)"));
    QCOMPARE(others.value(QStringLiteral("history")).type, QStringLiteral("list"));
    QVERIFY(others.value(QStringLiteral("int4")).summary.contains(QStringLiteral("'int4'")));
}

void TestMsgpackReader::targetsAreFlax()
{
    Result<Checkpoint> cnn = openCheckpoint(test::fixturePath(QStringLiteral("flax_cnn.msgpack")));
    QVERIFY(cnn.ok());
    QCOMPARE(detectConvention(*cnn), Convention::Flax);
    QVERIFY(cnn->indexOf(QStringLiteral("batch_stats/BatchNorm_0/var")) >= 0);
}

void TestMsgpackReader::truncationIsRefused()
{
    const QByteArray bytes = test::readBytes(test::fixturePath(QStringLiteral("flax_mixed.msgpack")));
    QVERIFY(!bytes.isEmpty());
    QTemporaryDir dir;
    for (int k = 1; k < 32; ++k) {
        const QString path = test::writeFile(dir, QStringLiteral("cut.msgpack"), bytes.left(bytes.size() * k / 32));
        Result<Checkpoint> checkpoint = openCheckpoint(path);
        QVERIFY2(!checkpoint.ok(), qPrintable(QStringLiteral("cut at %1/32 opened").arg(k)));
        QCOMPARE(checkpoint.error().file, path);
        QVERIFY2(checkpoint.error().message.contains(QStringLiteral("truncated")), qPrintable(checkpoint.error().message));
    }
}

void TestMsgpackReader::refusesCorruptFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    const QByteArray f4 = QByteArray(16, '\x01');
    const QByteArray good = mp::array({4}, "float32", f4);
    auto in = [](const QByteArray &value) { return mp::map({{"params", mp::map({{"w", value}})}}); };

    QTest::newRow("top level is an array") << QByteArray("\x91\x01", 2) << "not a map";
    QByteArray deep = good;
    for (int i = 0; i < 100; ++i)
        deep = mp::map({{"a", deep}});
    QTest::newRow("depth bomb") << deep << "nested deeper than 64";
    QTest::newRow("map count lie") << mp::mapHeader(0xffffffff) + mp::str("a") + good << "4294967295 elements, but only";
    QTest::newRow("array count lie") << in(mp::arrayHeader(0x7fffffff)) << "2147483647 elements, but only";
    QTest::newRow("key length lie") << mp::mapHeader(1) + char(0xdb) + mp::bigEndian(0xffffffff, 4) + "abc" << "a str of 4294967295 bytes";
    QTest::newRow("ext length lie") << in(char(0xc9) + mp::bigEndian(0xfffffff0, 4) + char(1)) << "an ext of 4294967280 bytes";
    QTest::newRow("bin length lie in the payload")
        << in(mp::ext(1, mp::arrayHeader(3) + mp::arrayHeader(1) + mp::uint(4) + mp::str("float32") + char(0xc6) + mp::bigEndian(0xffffff, 4) + f4))
        << "the data is not a byte string";
    QTest::newRow("payload is not a triple") << in(mp::ext(1, QByteArray("\xc0", 1))) << "not a (shape, dtype, bytes) triple";
    QTest::newRow("shape is not an array") << in(mp::ext(1, mp::arrayHeader(3) + mp::uint(4) + mp::str("float32") + mp::bin(f4)))
                                          << "the shape is not an array";
    QTest::newRow("negative dim") << in(mp::ext(1, mp::arrayHeader(3) + mp::arrayHeader(1) + char(0xff) + mp::str("float32") + mp::bin(f4)))
                                  << "non-negative integer";
    QTest::newRow("shape x dtype is not the byte count") << in(mp::array({4}, "float32", QByteArray(8, '\0')))
                                                         << "shape [4] of float32 needs 16 bytes, but the array holds 8";
    QTest::newRow("dims overflow") << in(mp::array({quint64(1) << 40, quint64(1) << 40}, "float32", f4)) << "is too large";
    QTest::newRow("bytes after the triple") << in(mp::ext(1, mp::arrayPayload({4}, "float32", f4) + "x")) << "1 bytes follow the";
    QTest::newRow("numpy scalar with a shape") << in(mp::array({4}, "float32", f4, 3)) << "scalars have shape ()";
    QTest::newRow("complex payload wrong") << in(mp::ext(2, mp::str("1+2j"))) << "(real, imag) pair";
    const QByteArray marker = "__msgpack_chunked_array__";
    auto chunked = [&](const QByteArray &shape, const QByteArray &chunks) {
        return in(mp::map({{marker, QByteArray("\xc3", 1)}, {"shape", shape}, {"chunks", chunks}}));
    };
    const QByteArray two = mp::array({2}, "float32", QByteArray(8, '\0'));
    QTest::newRow("chunked: shape does not hold the chunks") << chunked(mp::map({{"0", mp::uint(5)}}), mp::map({{"0", two}, {"1", two}}))
                                                             << "shape [5] does not hold the 4 elements";
    QTest::newRow("chunked: no chunks") << in(mp::map({{marker, QByteArray("\xc3", 1)}, {"shape", mp::map({{"0", mp::uint(2)}})}}))
                                        << "without 'shape' or 'chunks'";
    QTest::newRow("chunked: dtypes differ") << chunked(mp::map({{"0", mp::uint(4)}}), mp::map({{"0", two}, {"1", mp::array({2}, "int32", QByteArray(8, '\0'))}}))
                                            << "not a 1-d array of the first chunk's dtype";
    QTest::newRow("chunked: chunk keys skip") << chunked(mp::map({{"0", mp::uint(4)}}), mp::map({{"0", two}, {"2", two}})) << "its keys must be 0 to 1";
    QTest::newRow("chunked: a chunk is not an array") << chunked(mp::map({{"0", mp::uint(2)}}), mp::map({{"0", mp::uint(1)}})) << "chunk 0 is not a numpy array";
    QTest::newRow("chunked: extra key") << in(mp::map({{marker, QByteArray("\xc3", 1)}, {"shape", mp::map({})}, {"chunks", mp::map({})}, {"x", two}}))
                                        << "unexpected key 'x'";
    QTest::newRow("duplicate keys") << mp::map({{"params", mp::map({{"w", good}, {"w", good}})}}) << "the key 'w' appears twice";
    QTest::newRow("non-string key") << mp::mapHeader(1) + mp::uint(1) + good << "has a int key";
    QTest::newRow("key with a slash") << mp::map({{"params/w", good}}) << "keys with '/'";
    QTest::newRow("empty key") << mp::map({{"", good}}) << "empty keys";
    QTest::newRow("key not UTF-8") << mp::mapHeader(1) + mp::str("\xff\xfe") + good << "not valid UTF-8";
    QTest::newRow("bytes after the map") << in(good) + "\xc0" << "1 bytes follow the top-level map";
    QTest::newRow("never-used type byte") << in(QByteArray("\xc1", 1)) << "byte 0xc1 is not a msgpack type";
    QTest::newRow("no arrays") << mp::map({{"step", mp::uint(3)}}) << "holds no arrays";
    QTest::newRow("top level is chunked") << mp::map({{marker, QByteArray("\xc3", 1)}, {"shape", mp::map({})}, {"chunks", mp::map({})}})
                                          << "the top-level map is a chunked array";
}

void TestMsgpackReader::refusesCorruptFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("bad.msgpack"), bytes);
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(!checkpoint.ok(), "a corrupt file was opened");
    QCOMPARE(checkpoint.error().file, path);
    QVERIFY2(checkpoint.error().message.contains(message), qPrintable(checkpoint.error().message));
}

QTEST_GUILESS_MAIN(TestMsgpackReader)
#include "tst_msgpackreader.moc"
