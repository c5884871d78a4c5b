// readSafetensors / readSafetensorsIndex: the fixtures against an independent reading, the
// spec's validity rules one corrupt file at a time, and sharded indexes that disagree with
// their shards.

#include "checkpoint/formats/readers.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace graft;

namespace {

QByteArray safetensors(const QByteArray &header, const QByteArray &data)
{
    return test::littleEndian<quint64>(header.size()) + header + data;
}

// Two tensors, "a" (F32 [2], bytes 0-8) and "b" (U8 [4], bytes 8-12), with `a`/`b` entries
// replaced when given.
QByteArray twoTensors(const QByteArray &a = {}, const QByteArray &b = {}, const QByteArray &data = QByteArray(12, '\x07'))
{
    const QByteArray first = a.isEmpty() ? R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})" : a;
    const QByteArray second = b.isEmpty() ? R"({"dtype":"U8","shape":[4],"data_offsets":[8,12]})" : b;
    return safetensors("{\"a\":" + first + ",\"b\":" + second + "}", data);
}

QByteArray entry(const char *dtype, const char *shape, const char *offsets)
{
    return QByteArray(R"({"dtype":")") + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

const QString kShard1 = QStringLiteral("model-00001-of-00002.safetensors");
const QString kShard2 = QStringLiteral("model-00002-of-00002.safetensors");

} // namespace

class TestSafetensorsReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesReference_data();
    void listingMatchesReference();
    void metadataAndShards();
    void keysSortedAndEmptyTensors();
    void refusesCorruptFiles_data();
    void refusesCorruptFiles();
    void refusesBrokenIndexes_data();
    void refusesBrokenIndexes();
};

void TestSafetensorsReader::listingMatchesReference_data()
{
    QTest::addColumn<QString>("file");
    for (const char *name : {"tiny_vgg.safetensors", "dtypes.safetensors", "sharded/model.safetensors.index.json",
                             "sharded/model-00001-of-00002.safetensors", "sharded/model-00002-of-00002.safetensors"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestSafetensorsReader::listingMatchesReference()
{
    QFETCH(QString, file);
    test::checkAgainstManifest(file);
}

void TestSafetensorsReader::metadataAndShards()
{
    Result<Checkpoint> single = openCheckpoint(test::fixturePath(QStringLiteral("tiny_vgg.safetensors")));
    QVERIFY(single.ok());
    QCOMPARE(single->format(), CheckpointFormat::Safetensors);
    QCOMPARE(single->metadata().size(), size_t(1));
    QCOMPARE(single->metadata().front(), std::pair(QStringLiteral("format"), QStringLiteral("pt")));
    QVERIFY(single->read(0)->isZeroCopy());

    Result<Checkpoint> sharded = openCheckpoint(test::fixturePath(QStringLiteral("sharded/model.safetensors.index.json")));
    QVERIFY(sharded.ok());
    QCOMPARE(sharded->files().size(), size_t(2));
    QCOMPARE(sharded->segments().size(), size_t(2));
    QCOMPARE(sharded->metadata().front().first, QStringLiteral("total_size"));
    QCOMPARE(sharded->metadata().front().second, QString::number(sharded->totalBytes()));
}

void TestSafetensorsReader::keysSortedAndEmptyTensors()
{
    // Code point order (as Rust sorts the names), and a 0-byte tensor sharing offset 0.
    const QByteArray bytes = safetensors(
        "{\"b\":" + entry("F32", "[1]", "[0,4]") + ",\"a\":" + entry("I64", "[0,3]", "[0,0]") + ",\"B\":"
            + entry("U8", "[]", "[4,5]") + ",\"\xc3\xa9\":" + entry("BOOL", "[1]", "[5,6]") + "}  ",
        QByteArray(6, '\1'));
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("order.safetensors"), bytes);
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QStringList keys;
    for (const TensorEntry &tensor : checkpoint->tensors())
        keys << tensor.key;
    QCOMPARE(keys, QStringList({QStringLiteral("B"), QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("\u00e9")}));
    QCOMPARE(checkpoint->tensors()[1].nbytes(), qint64(0));

    const QString empty = test::writeFile(dir, QStringLiteral("empty.safetensors"), safetensors("{}      ", {}));
    Result<Checkpoint> none = openCheckpoint(empty);
    QVERIFY(none.ok());
    QVERIFY(none->tensors().empty());
}

void TestSafetensorsReader::refusesCorruptFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");

    const QByteArray valid = twoTensors();
    QTest::newRow("empty") << QByteArray() << "0 bytes is too short";
    QTest::newRow("shorter than the size") << valid.left(5) << "5 bytes is too short";
    QTest::newRow("header size over the cap") << test::littleEndian<quint64>(100000001) + valid.mid(8)
                                              << "header size 100000001 exceeds the limit of 100000000 bytes";
    QTest::newRow("header size 2^64-1") << test::littleEndian<quint64>(~0ULL) + valid.mid(8)
                                        << "header size 18446744073709551615 exceeds";
    QTest::newRow("header size past the end") << test::littleEndian<quint64>(500) + valid.mid(8)
                                              << QStringLiteral("header size 500 runs past the end of the file (%1 bytes")
                                                     .arg(valid.size() - 8);
    QTest::newRow("truncated in the header") << valid.left(40) << "runs past the end of the file";
    QTest::newRow("truncated in the data") << valid.left(valid.size() - 4)
                                           << "the tensors' data ends at offset 12 but the data section holds 8 bytes";
    QTest::newRow("bytes after the data") << valid + "tail" << "the data section holds 16 bytes";
    QTest::newRow("zero header size") << test::littleEndian<quint64>(0) + valid.mid(8) << "does not start with '{'";
    QTest::newRow("header not an object") << safetensors(" {}", {}) << "does not start with '{'";
    QTest::newRow("not JSON") << safetensors("{\"a\": nope}", {}) << "header: not valid JSON";
    QTest::newRow("deep nesting") << safetensors("{\"a\":" + QByteArray(5000, '[') + QByteArray(5000, ']') + "}", {})
                                  << "too deeply nested";
    QTest::newRow("duplicate names") << safetensors("{\"a\":" + entry("U8", "[4]", "[0,4]") + ",\"a\":"
                                                        + entry("U8", "[4]", "[4,8]") + "}", QByteArray(8, '\0'))
                                     << "header: duplicate key 'a'";
    QTest::newRow("duplicate names by escape") << safetensors("{\"a\":" + entry("U8", "[4]", "[0,4]") + ",\"\\u0061\":"
                                                                  + entry("U8", "[4]", "[4,8]") + "}", QByteArray(8, '\0'))
                                               << "header: duplicate key 'a'";
    QTest::newRow("duplicate field") << twoTensors(R"({"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]})")
                                     << "duplicate key 'dtype' inside 'a'";
    QTest::newRow("unknown dtype") << twoTensors(entry("F128", "[2]", "[0,8]")) << "tensor 'a': unsupported dtype 'F128'";
    QTest::newRow("unsupported float8") << twoTensors(entry("F8_E8M0", "[8]", "[0,8]"))
                                        << "tensor 'a': unsupported dtype 'F8_E8M0' (only F8_E4M3 and F8_E5M2";
    QTest::newRow("unsupported float6") << twoTensors(entry("F6_E2M3", "[8]", "[0,8]")) << "unsupported dtype 'F6_E2M3'";
    QTest::newRow("no dtype") << twoTensors(R"({"shape":[2],"data_offsets":[0,8]})") << "unsupported dtype ''";
    QTest::newRow("entry not an object") << twoTensors("3") << "tensor 'a': entry is not a JSON object";
    QTest::newRow("shape not an array") << twoTensors(entry("F32", "2", "[0,8]")) << "tensor 'a': 'shape' is not an array";
    QTest::newRow("negative dim") << twoTensors(entry("F32", "[-2]", "[0,8]")) << "'shape' holds something other";
    QTest::newRow("dim product overflow") << twoTensors(entry("F32", "[4294967296,4294967296,4]", "[0,8]"))
                                          << "tensor 'a': shape [4294967296, 4294967296, 4] is too large";
    QTest::newRow("span mismatch") << twoTensors(entry("F32", "[2]", "[0,4]"))
                                   << "tensor 'a': data_offsets [0, 4] span 4 bytes but shape [2] of F32 needs 8";
    QTest::newRow("offsets outside the file")
        << twoTensors(entry("F32", "[250000000000]", "[0,1000000000000]"), entry("U8", "[4]", "[1000000000000,1000000000004]"))
        << "the tensors' data ends at offset 1000000000004 but the data section holds 12 bytes";
    QTest::newRow("offset beyond 64 bits") << twoTensors(entry("F32", "[2]", "[0,18446744073709551615]"))
                                           << "'data_offsets' is not a pair of non-negative integers";
    QTest::newRow("offsets not a pair") << twoTensors(entry("F32", "[2]", "[8]")) << "not a pair";
    QTest::newRow("end before begin") << twoTensors(entry("F32", "[2]", "[8,0]")) << "end before they begin";
    QTest::newRow("overlapping offsets") << twoTensors({}, entry("U8", "[4]", "[4,8]"))
                                         << "tensor 'b': data_offsets [4, 8] overlap the previous tensor's data, which ends at 8";
    QTest::newRow("hole between tensors") << twoTensors({}, entry("U8", "[4]", "[9,13]"), QByteArray(13, '\0'))
                                          << "tensor 'b': data_offsets [9, 13] leave a hole after";
    QTest::newRow("hole at the start") << twoTensors(entry("F32", "[2]", "[4,12]"), entry("U8", "[4]", "[12,16]"),
                                                     QByteArray(16, '\0'))
                                       << "tensor 'a': data_offsets [4, 12] leave a hole after the previous tensor's data, "
                                          "which ends at 0";
    QTest::newRow("metadata not strings") << safetensors(R"({"__metadata__":{"epoch":3}})", {})
                                          << "__metadata__ value of 'epoch' is not a string";
    QTest::newRow("metadata not an object") << safetensors(R"({"__metadata__":"pt"})", {}) << "__metadata__ is not a JSON object";
}

void TestSafetensorsReader::refusesCorruptFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("bad.safetensors"), bytes);
    QVERIFY(!path.isEmpty());
    // The reader itself: the opener would send bytes without a plausible header elsewhere.
    Result<MappedFilePtr> file = MappedFile::open(path);
    QVERIFY(file.ok());
    test::verifyRefused(readSafetensors(*file), path, message);
}

void TestSafetensorsReader::refusesBrokenIndexes_data()
{
    QTest::addColumn<QByteArray>("index");
    QTest::addColumn<bool>("truncateShard2");
    QTest::addColumn<QString>("faultyFile"); // relative to the folder
    QTest::addColumn<QString>("message");

    const QString indexName = QStringLiteral("model.safetensors.index.json");
    const QByteArray valid = test::readBytes(test::fixturePath(QStringLiteral("sharded/") + indexName));
    const QJsonObject root = QJsonDocument::fromJson(valid).object();
    const auto edited = [&](const std::function<void(QJsonObject &)> &edit) {
        QJsonObject map = root.value(QStringLiteral("weight_map")).toObject();
        edit(map);
        QJsonObject copy = root;
        copy.insert(QStringLiteral("weight_map"), map);
        return QJsonDocument(copy).toJson();
    };

    QTest::newRow("listed tensor missing from its shard")
        << edited([&](QJsonObject &map) { map.insert(QStringLiteral("ghost"), kShard1); }) << false << kShard1
        << "the index's weight_map places tensor 'ghost' in this shard, but it holds no such tensor";
    QTest::newRow("shard tensor missing from the index")
        << edited([](QJsonObject &map) { map.remove(QStringLiteral("fc.bias")); }) << false << indexName
        << QStringLiteral("shard '%1' holds tensor 'fc.bias', which the weight_map does not list").arg(kShard2);
    QTest::newRow("tensor in the wrong shard")
        << edited([&](QJsonObject &map) { map.insert(QStringLiteral("bn1.bias"), kShard2); }) << false << indexName
        << QStringLiteral("shard '%1' holds tensor 'bn1.bias', which the weight_map places in '%2'").arg(kShard1, kShard2);
    QTest::newRow("missing shard")
        << edited([](QJsonObject &map) {
               for (auto it = map.begin(); it != map.end(); ++it) {
                   if (it.value().toString() == kShard2)
                       it.value() = QStringLiteral("missing.safetensors");
               }
           })
        << false << QStringLiteral("missing.safetensors") << "no such file";
    QTest::newRow("absolute shard path")
        << edited([](QJsonObject &map) { map.insert(QStringLiteral("fc.bias"), QStringLiteral("/tmp/x.safetensors")); })
        << false << indexName << "names an absolute path '/tmp/x.safetensors'";
    QTest::newRow("NUL in a shard name")
        << edited([](QJsonObject &map) { map.insert(QStringLiteral("fc.bias"), QStringLiteral("x\u0000.safetensors")); })
        << false << indexName << "weight_map entry 'fc.bias' names a file with a NUL character in it";
    QTest::newRow("shard name not a string") << edited([](QJsonObject &map) { map.insert(QStringLiteral("fc.bias"), 7); })
                                             << false << indexName << "weight_map entry 'fc.bias' is not a file name";
    QTest::newRow("empty weight_map") << edited([](QJsonObject &map) { map = QJsonObject(); }) << false << indexName
                                      << "the weight_map is empty";
    QTest::newRow("no weight_map") << QByteArray(R"({"metadata": {}})") << false << indexName << "no 'weight_map' object";
    QTest::newRow("duplicate weight_map name")
        << QByteArray(valid).replace("\"fc.bias\":", "\"fc.weight\": \"x\", \"fc.bias\":") << false << indexName
        << "duplicate key 'fc.weight' inside 'weight_map'";
    QTest::newRow("not JSON") << valid.left(100) << false << indexName << "not valid JSON";
    QTest::newRow("empty index") << QByteArray() << false << indexName << "the file is empty";
    QTest::newRow("corrupt shard") << valid << true << kShard2 << "but the data section holds";
}

void TestSafetensorsReader::refusesBrokenIndexes()
{
    QFETCH(QByteArray, index);
    QFETCH(bool, truncateShard2);
    QFETCH(QString, faultyFile);
    QFETCH(QString, message);
    QTemporaryDir dir;
    for (const QString &shard : {kShard1, kShard2}) {
        QByteArray bytes = test::readBytes(test::fixturePath(QStringLiteral("sharded/") + shard));
        if (truncateShard2 && shard == kShard2)
            bytes.chop(100);
        QVERIFY(!test::writeFile(dir, shard, bytes).isEmpty());
    }
    const QString path = test::writeFile(dir, QStringLiteral("model.safetensors.index.json"), index);
    test::verifyRefused(openCheckpoint(path), dir.filePath(faultyFile), message);
}

QTEST_GUILESS_MAIN(TestSafetensorsReader)
#include "tst_safetensorsreader.moc"
