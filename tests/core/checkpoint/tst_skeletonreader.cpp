// readSkeleton: Graft skeletons (contract v1) with their .eqx leaves, against what numpy sees,
// and one broken skeleton or leaves file per failure kind.

#include "checkpoint/formats/npyheader.h"
#include "hostilebuilders.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstring>
#include <functional>

using namespace graft;

namespace {

const QString kSkeleton = QStringLiteral("tiny_vgg.skeleton.json");
const QString kLeaves = QStringLiteral("leaves.eqx");

QJsonObject fixtureSkeleton(const QString &name)
{
    return QJsonDocument::fromJson(test::readBytes(test::fixturePath(name))).object();
}

// The tiny_vgg skeleton pointing at "leaves.eqx", changed by `edit`.
QByteArray skeletonWith(const std::function<void(QJsonObject &)> &edit, const QString &name = kSkeleton)
{
    QJsonObject root = fixtureSkeleton(name);
    root.insert(QStringLiteral("leaves_file"), kLeaves);
    edit(root);
    return QJsonDocument(root).toJson();
}

// Changes field `key` of leaf `index`.
std::function<void(QJsonObject &)> leafField(int index, const QString &key, const QJsonValue &value)
{
    return [=](QJsonObject &root) {
        QJsonArray leaves = root.value(QStringLiteral("leaves")).toArray();
        QJsonObject leaf = leaves[index].toObject();
        leaf.insert(key, value);
        leaves[index] = leaf;
        root.insert(QStringLiteral("leaves"), leaves);
    };
}

} // namespace

class TestSkeletonReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesNumpy_data();
    void listingMatchesNumpy();
    void kindsMetadataAndFiles();
    void leavesFileInAParentFolder();
    void refusesBrokenSkeletons_data();
    void refusesBrokenSkeletons();
    void refusesOversizedJson();
    void refusesADirectory();
    void voidRecordsTakeTheDtypeTheirLeafNames();
    void manyLeavesAreReadInOrder_data();
    void manyLeavesAreReadInOrder();
};

void TestSkeletonReader::listingMatchesNumpy_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("tiny_vgg") << kSkeleton;
    QTest::newRow("bfloat16 leaf") << QStringLiteral("bf16_skeleton.skeleton.json");
}

void TestSkeletonReader::listingMatchesNumpy()
{
    QFETCH(QString, file);
    test::checkAgainstManifest(file);
}

void TestSkeletonReader::kindsMetadataAndFiles()
{
    Result<Checkpoint> checkpoint = openCheckpoint(test::fixturePath(kSkeleton));
    QVERIFY(checkpoint.ok());
    QCOMPARE(checkpoint->format(), CheckpointFormat::GraftSkeleton);
    const auto kindOf = [&](const char *key) { return checkpoint->tensors()[checkpoint->indexOf(QLatin1String(key))].kind; };
    QCOMPARE(kindOf(".features[0].weight"), LeafKind::Array);
    QCOMPARE(kindOf(".features[4].init"), LeafKind::Scalar);
    QCOMPARE(kindOf(".classifier[2].inference"), LeafKind::Scalar);
    QCOMPARE(checkpoint->metadata().size(), size_t(1));
    QCOMPARE(checkpoint->metadata().front().first, QStringLiteral("framework"));
    QCOMPARE(checkpoint->metadata().front().second, QStringLiteral("equinox"));
    QCOMPARE(checkpoint->files().size(), size_t(1));
    QCOMPARE(QFileInfo(checkpoint->files().front()->path()).fileName(), QStringLiteral("tiny_vgg.eqx"));
    QVERIFY(checkpoint->read(0)->isZeroCopy());
}

void TestSkeletonReader::leavesFileInAParentFolder()
{
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("sub")));
    QVERIFY(!test::writeFile(dir, kLeaves, test::readBytes(test::fixturePath(QStringLiteral("tiny_vgg.eqx")))).isEmpty());
    const QString path = test::writeFile(dir, QStringLiteral("sub/model.json"), skeletonWith([](QJsonObject &root) {
        root.insert(QStringLiteral("leaves_file"), QStringLiteral("../") + kLeaves);
    }));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(checkpoint->files().front()->path(), QDir::cleanPath(dir.filePath(kLeaves)));
}

void TestSkeletonReader::refusesBrokenSkeletons_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("leaves");
    QTest::addColumn<QString>("faultyFile"); // empty: the skeleton itself
    QTest::addColumn<QString>("message");

    const QByteArray eqx = test::readBytes(test::fixturePath(QStringLiteral("tiny_vgg.eqx")));
    const QByteArray valid = skeletonWith([](QJsonObject &) {});
    const auto row = [&](const char *name, const QByteArray &json, const QString &message) {
        QTest::newRow(name) << json << eqx << QString() << message;
    };
    const auto leavesRow = [&](const char *name, const QByteArray &json, const QByteArray &leaves, const QString &message) {
        QTest::newRow(name) << json << leaves << kLeaves << message;
    };

    row("empty file", QByteArray(), QStringLiteral("the file is empty"));
    row("not JSON", valid.left(40), QStringLiteral("not valid JSON"));
    row("deep nesting", QByteArray(100000, '[') + QByteArray(100000, ']'), QStringLiteral("too deeply nested"));
    row("JSON array", "[]", QStringLiteral("not a Graft skeleton (the JSON is not an object)"));
    row("duplicate JSON key", QByteArray(valid).replace("\"version\": 1", "\"version\": 1, \"version\": 2"),
        QStringLiteral("duplicate key 'version'"));
    row("wrong format", skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("format"), QStringLiteral("pytorch")); }),
        QStringLiteral("not a Graft skeleton (format is 'pytorch')"));
    row("no format", skeletonWith([](QJsonObject &r) { r.remove(QStringLiteral("format")); }),
        QStringLiteral("not a Graft skeleton (no 'format'"));
    row("version 2", skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("version"), 2); }),
        QStringLiteral("unsupported skeleton version 2"));
    row("version as text", skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("version"), QStringLiteral("1")); }),
        QStringLiteral("unsupported skeleton version (no numeric 'version')"));
    row("no framework", skeletonWith([](QJsonObject &r) { r.remove(QStringLiteral("framework")); }),
        QStringLiteral("'framework' is not a string"));
    row("no leaves_file", skeletonWith([](QJsonObject &r) { r.remove(QStringLiteral("leaves_file")); }),
        QStringLiteral("'leaves_file' is missing"));
    row("absolute leaves_file",
        skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("leaves_file"), QStringLiteral("/etc/leaves.eqx")); }),
        QStringLiteral("leaves_file '/etc/leaves.eqx' is an absolute path"));
    row("NUL in leaves_file",
        skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("leaves_file"), QStringLiteral("leaves\u0000.eqx")); }),
        QStringLiteral("leaves_file holds a NUL character"));
    row("leaves not an array", skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("leaves"), 3); }),
        QStringLiteral("'leaves' is not an array"));
    row("leaf not an object", skeletonWith([](QJsonObject &r) {
            QJsonArray leaves = r.value(QStringLiteral("leaves")).toArray();
            leaves[2] = 7;
            r.insert(QStringLiteral("leaves"), leaves);
        }), QStringLiteral("leaves[2] is not a JSON object"));
    row("duplicate leaf path", skeletonWith(leafField(2, QStringLiteral("path"), QStringLiteral(".features[0].bias"))),
        QStringLiteral("duplicate leaf path '.features[0].bias'"));
    // Leaf by leaf, whichever fault comes first in the list is the one reported.
    const auto both = [](int repeated, int broken) {
        return skeletonWith([=](QJsonObject &r) {
            leafField(repeated, QStringLiteral("path"), QStringLiteral(".features[0].bias"))(r);
            leafField(broken, QStringLiteral("dtype"), QStringLiteral("float128"))(r);
        });
    };
    row("duplicate leaf path before a broken leaf", both(2, 4), QStringLiteral("duplicate leaf path '.features[0].bias'"));
    row("broken leaf before a duplicate leaf path", both(4, 2), QStringLiteral("unknown dtype 'float128'"));
    row("unknown dtype", skeletonWith(leafField(0, QStringLiteral("dtype"), QStringLiteral("float128"))),
        QStringLiteral("leaf '.features[0].weight': unknown dtype 'float128'"));
    row("unknown kind", skeletonWith(leafField(0, QStringLiteral("kind"), QStringLiteral("tensor"))),
        QStringLiteral("leaf '.features[0].weight': kind 'tensor' is neither 'array' nor 'scalar'"));
    row("scalar with a shape", skeletonWith(leafField(0, QStringLiteral("kind"), QStringLiteral("scalar"))),
        QStringLiteral("a scalar leaf must have shape [], not [8, 3, 3, 3]"));
    row("negative dim", skeletonWith(leafField(0, QStringLiteral("shape"), QJsonArray{8, -3, 3, 3})),
        QStringLiteral("leaf '.features[0].weight': 'shape' holds something other than a non-negative integer"));
    row("fractional dim", skeletonWith(leafField(0, QStringLiteral("shape"), QJsonArray{8, 2.5, 3, 3})),
        QStringLiteral("'shape' holds something other than a non-negative integer"));

    const QByteArray fewer = skeletonWith([](QJsonObject &r) {
        QJsonArray leaves = r.value(QStringLiteral("leaves")).toArray();
        leaves.removeLast();
        r.insert(QStringLiteral("leaves"), leaves);
    });
    leavesRow("fewer leaves than records", fewer, eqx,
              QStringLiteral("holds 18 records but the skeleton model.skeleton.json lists 17 leaves"));
    const QByteArray more = skeletonWith([](QJsonObject &r) {
        QJsonArray leaves = r.value(QStringLiteral("leaves")).toArray();
        QJsonObject extra = leaves.last().toObject();
        extra.insert(QStringLiteral("path"), QStringLiteral(".extra"));
        leaves.append(extra);
        r.insert(QStringLiteral("leaves"), leaves);
    });
    leavesRow("more leaves than records", more, eqx, QStringLiteral("holds 18 records but the skeleton model.skeleton.json lists 19"));
    leavesRow("shape disagreement", skeletonWith(leafField(0, QStringLiteral("shape"), QJsonArray{8, 3, 3, 4})), eqx,
              QStringLiteral("record [0] for leaf '.features[0].weight': shape [8, 3, 3, 3] in the leaves file, "
                             "[8, 3, 3, 4] in the skeleton"));
    leavesRow("dtype disagreement", skeletonWith(leafField(1, QStringLiteral("dtype"), QStringLiteral("float16"))), eqx,
              QStringLiteral("record [1] for leaf '.features[0].bias': dtype float32 in the leaves file, float16 in the skeleton"));
    const QByteArray scalarAsArray = skeletonWith([](QJsonObject &r) {
        leafField(4, QStringLiteral("kind"), QStringLiteral("array"))(r);
        leafField(4, QStringLiteral("shape"), QJsonArray{1})(r);
    });
    leavesRow("0-d record as a 1-d leaf", scalarAsArray, eqx,
              QStringLiteral("record [4] for leaf '.features[4].init': shape [] in the leaves file, [1] in the skeleton"));
    leavesRow("trailing garbage in the leaves", valid, eqx + "junk",
              QStringLiteral("4 trailing bytes at offset %1 after 18 records").arg(eqx.size()));
    leavesRow("truncated leaves", valid, eqx.left(eqx.size() - 3), QStringLiteral("record [17] at byte"));
    leavesRow("empty leaves", valid, QByteArray(), QStringLiteral("holds 0 records but the skeleton"));
    leavesRow("bfloat16 record declared float16",
              skeletonWith(leafField(0, QStringLiteral("dtype"), QStringLiteral("float16")),
                           QStringLiteral("bf16_skeleton.skeleton.json")),
              test::readBytes(test::fixturePath(QStringLiteral("bf16_skeleton.eqx"))),
              QStringLiteral("record [0] at byte 0: void dtype V2"));
    QTest::newRow("missing leaves file")
        << skeletonWith([](QJsonObject &r) { r.insert(QStringLiteral("leaves_file"), QStringLiteral("gone.eqx")); })
        << eqx << QStringLiteral("gone.eqx") << QStringLiteral("no such file");
}

void TestSkeletonReader::refusesBrokenSkeletons()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, leaves);
    QFETCH(QString, faultyFile);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString leavesPath = test::writeFile(dir, kLeaves, leaves);
    const QString path = test::writeFile(dir, QStringLiteral("model.skeleton.json"), json);
    QVERIFY(!leavesPath.isEmpty() && !path.isEmpty());
    test::verifyRefused(openCheckpoint(path), faultyFile.isEmpty() ? path : dir.filePath(faultyFile), message);
}

// A skeleton of 10,000 float32 [1] leaves: the index keeps the leaves' order and each reads its
// own record; of a broken leaf and a repeated path, the one first in the list is reported
// (the repeats are found by sorting, after the leaves are parsed: skeletonreader.cpp).
void TestSkeletonReader::manyLeavesAreReadInOrder_data()
{
    QTest::addColumn<int>("brokenAt");   // -1: none
    QTest::addColumn<int>("repeatedAt"); // a leaf taking leaf 3's path; -1: none
    QTest::addColumn<QString>("message"); // empty: opens
    QTest::newRow("all well") << -1 << -1 << QString();
    QTest::newRow("a repeat before a broken leaf") << 9000 << 7000 << "duplicate leaf path '.w[3]'";
    QTest::newRow("a broken leaf before a repeat") << 6000 << 8000 << "leaf '.w[6000]': unknown dtype 'float128'";
    QTest::newRow("the last leaf broken") << 9999 << -1 << "leaf '.w[9999]': unknown dtype 'float128'";
}

void TestSkeletonReader::manyLeavesAreReadInOrder()
{
    QFETCH(int, brokenAt);
    QFETCH(int, repeatedAt);
    QFETCH(QString, message);
    const int count = 10000;
    QJsonArray leaves;
    QByteArray eqx;
    for (int i = 0; i < count; ++i) {
        QJsonObject leaf{{QStringLiteral("path"), QStringLiteral(".w[%1]").arg(i == repeatedAt ? 3 : i)},
                         {QStringLiteral("kind"), QStringLiteral("array")},
                         {QStringLiteral("dtype"), i == brokenAt ? QStringLiteral("float128") : QStringLiteral("float32")},
                         {QStringLiteral("shape"), QJsonArray{1}}};
        leaves.append(leaf);
        QByteArray value(4, '\0');
        const float number = float(i);
        std::memcpy(value.data(), &number, 4);
        eqx += test::hostile::npyHeader("<f4", "(1,)") + value;
    }
    QJsonObject root = fixtureSkeleton(kSkeleton);
    root.insert(QStringLiteral("leaves_file"), kLeaves);
    root.insert(QStringLiteral("leaves"), leaves);
    QTemporaryDir dir;
    QVERIFY(!test::writeFile(dir, kLeaves, eqx).isEmpty());
    const QString path = test::writeFile(dir, QStringLiteral("many.skeleton.json"), QJsonDocument(root).toJson());
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!message.isEmpty()) {
        test::verifyRefused(checkpoint, path, message);
        return;
    }
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(checkpoint->tensors().size(), size_t(count));
    for (int i = 0; i < count; i += 997) {
        QCOMPARE(checkpoint->tensors()[size_t(i)].key, QStringLiteral(".w[%1]").arg(i));
        Result<TensorBytes> bytes = checkpoint->read(i);
        QVERIFY(bytes.ok());
        float value = -1;
        std::memcpy(&value, bytes->data(), 4);
        QCOMPARE(value, float(i));
    }
}

void TestSkeletonReader::refusesOversizedJson()
{
    // A sparse 300 MB file: the size check must come before any read.
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("huge.skeleton.json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QVERIFY(file.resize(300LL * 1024 * 1024));
    file.close();
    test::verifyRefused(openCheckpoint(file.fileName()), file.fileName(),
                        QStringLiteral("larger than the 268435456-byte limit"));
}

void TestSkeletonReader::refusesADirectory()
{
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder.json")));
    const QString path = dir.filePath(QStringLiteral("folder.json"));
    test::verifyRefused(openCheckpoint(path), path, QStringLiteral("is a directory"));
}

void TestSkeletonReader::voidRecordsTakeTheDtypeTheirLeafNames()
{
    // np.save spells bfloat16 '<V2' and both float8s '|V1': the records are walked before the
    // leaves are known (on a thread of their own), and each takes the dtype its leaf names —
    // float8_e5m2 too, although a 1-byte void first stands in as float8_e4m3fn.
    const std::vector<std::pair<DType, Shape>> leaves{{DType::Float8E5M2, {4}}, {DType::BFloat16, {2, 3}},
                                                      {DType::Float8E4M3, {3}}, {DType::Float32, {2}},
                                                      {DType::Float8E5M2, {}}};
    QByteArray eqx;
    QJsonArray leafList;
    for (size_t i = 0; i < leaves.size(); ++i) {
        const auto &[dtype, shape] = leaves[i];
        const QByteArray header = formatNpyHeader(dtype, shape);
        QCOMPARE(header.contains("'|V1'") || header.contains("'<V2'"), dtype != DType::Float32);
        eqx += header;
        eqx += QByteArray(checkedNumel(shape, 1 << 20) * dtypeSize(dtype), static_cast<char>(0x40 + i));
        QJsonArray dims;
        for (qint64 dim : shape)
            dims.append(dim);
        leafList.append(QJsonObject{{QStringLiteral("path"), QStringLiteral(".leaf%1").arg(i)},
                                    {QStringLiteral("kind"), shape.empty() ? QStringLiteral("scalar") : QStringLiteral("array")},
                                    {QStringLiteral("shape"), dims},
                                    {QStringLiteral("dtype"), dtypeName(dtype)}});
    }
    QTemporaryDir dir;
    test::writeFile(dir, kLeaves, eqx);
    const QString path = test::writeFile(dir, QStringLiteral("model.skeleton.json"), skeletonWith([&leafList](QJsonObject &root) {
        root.insert(QStringLiteral("leaves"), leafList);
    }));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(checkpoint->tensors().size(), leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
        const TensorEntry &tensor = checkpoint->tensors()[i];
        QCOMPARE(dtypeName(tensor.dtype), dtypeName(leaves[i].first));
        QCOMPARE(tensor.shape, leaves[i].second);
        const TensorBytes bytes = checkpoint->read(static_cast<int>(i)).value();
        QCOMPARE(bytes.size(), checkedNumel(leaves[i].second, 1 << 20) * dtypeSize(leaves[i].first));
        QVERIFY(std::all_of(bytes.data(), bytes.data() + bytes.size(), [i](uchar b) { return b == 0x40 + i; }));
    }
}

QTEST_GUILESS_MAIN(TestSkeletonReader)
#include "tst_skeletonreader.moc"
