// Checkpoint's value semantics over a shared index: copies share one index (cheap to copy, so a
// 100k-leaf plan may hold a copy per leaf), building on a copy gives it its own index and
// leaves the other untouched (copy-on-write), and default-constructed or moved-from
// checkpoints read as empty.

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace graft;

namespace {

/// A safetensors file of `count` float32 [3] tensors "t.I" = {I, I + 1, I + 2}.
QString writeSmall(const QTemporaryDir &dir, int count)
{
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < count; ++i) {
        leaves.push_back({QStringLiteral("t.%1").arg(i), TensorSpec{DType::Float32, {3}}, [i]() -> Result<TensorBytes> {
                              const float values[3] = {float(i), float(i + 1), float(i + 2)};
                              std::vector<uchar> bytes(sizeof values);
                              std::memcpy(bytes.data(), values, sizeof values);
                              return TensorBytes::owned(std::move(bytes));
                          }});
    }
    const QString path = dir.filePath(QStringLiteral("small.safetensors"));
    if (Result<WriteSummary> written = writeCheckpoint(path, leaves, WriteOptions{}); !written)
        qFatal("%s", qPrintable(written.error().toString()));
    return path;
}

float firstValue(const Checkpoint &checkpoint, int index)
{
    Result<TensorBytes> bytes = checkpoint.read(index);
    if (!bytes)
        qFatal("%s", qPrintable(bytes.error().toString()));
    float value;
    std::memcpy(&value, bytes->data(), sizeof value);
    return value;
}

} // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void copiesShareTheIndex();
    void buildingOnACopyLeavesTheOtherAlone();
    void emptyAndMovedFromReadAsEmpty();
    void everyKeyIsFoundAsTheIndexGrows_data();
    void everyKeyIsFoundAsTheIndexGrows();
};

void TestCheckpoint::copiesShareTheIndex()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Result<Checkpoint> opened = openCheckpoint(writeSmall(dir, 4));
    QVERIFY(opened);
    const Checkpoint copy = *opened;
    QVERIFY(copy.sharesIndexWith(*opened));
    QCOMPARE(&copy.tensors(), &opened->tensors()); // the same vector, not an equal one
    QCOMPARE(copy.path(), opened->path());
    QCOMPARE(copy.indexOf(QStringLiteral("t.2")), 2);
    QCOMPARE(firstValue(copy, 3), 3.0f);
    // Two openings of one file are separate indexes.
    Result<Checkpoint> again = openCheckpoint(opened->path());
    QVERIFY(again);
    QVERIFY(!again->sharesIndexWith(*opened));
}

void TestCheckpoint::buildingOnACopyLeavesTheOtherAlone()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Result<Checkpoint> opened = openCheckpoint(writeSmall(dir, 3));
    QVERIFY(opened);
    const Checkpoint original = *opened;
    Checkpoint extended = original;
    TensorEntry entry;
    entry.key = QStringLiteral("t.0.again");
    entry.shape = {3};
    entry.segment = 0;
    entry.byteOffset = original.tensors()[0].byteOffset;
    QVERIFY(extended.addTensor(entry));
    extended.addMetadata(QStringLiteral("note"), QStringLiteral("added"));

    QVERIFY(!extended.sharesIndexWith(original));
    QCOMPARE(static_cast<int>(extended.tensors().size()), 4);
    QCOMPARE(static_cast<int>(original.tensors().size()), 3);
    QCOMPARE(extended.indexOf(QStringLiteral("t.0.again")), 3);
    QCOMPARE(original.indexOf(QStringLiteral("t.0.again")), -1);
    QCOMPARE(firstValue(extended, 3), 0.0f);
    QCOMPARE(extended.metadata().size(), original.metadata().size() + 1);
    // Once detached, further building stays on the copy's own index.
    const Status repeated = extended.addTensor(entry); // a repeated key is refused
    QVERIFY(!repeated);
    QVERIFY2(repeated.error().message.contains(QStringLiteral("tensor 't.0.again' appears twice")), qPrintable(repeated.error().message));
    QCOMPARE(static_cast<int>(extended.tensors().size()), 4);
    QCOMPARE(extended.indexOf(QStringLiteral("t.0.again")), 3);
    QCOMPARE(static_cast<int>(original.tensors().size()), 3);
}

void TestCheckpoint::emptyAndMovedFromReadAsEmpty()
{
    const Checkpoint empty;
    QVERIFY(empty.tensors().empty());
    QVERIFY(empty.files().empty());
    QCOMPARE(empty.indexOf(QStringLiteral("x")), -1);
    QCOMPARE(empty.totalBytes(), qint64(0));
    QVERIFY(!empty.read(0));
    QVERIFY(!empty.sharesIndexWith(Checkpoint()));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Result<Checkpoint> opened = openCheckpoint(writeSmall(dir, 2));
    QVERIFY(opened);
    Checkpoint moved = std::move(*opened);
    QCOMPARE(static_cast<int>(moved.tensors().size()), 2);
    QVERIFY(opened->tensors().empty()); // NOLINT(bugprone-use-after-move): moved-from is valid and empty
    QCOMPARE(opened->indexOf(QStringLiteral("t.0")), -1);
}

void TestCheckpoint::everyKeyIsFoundAsTheIndexGrows_data()
{
    QTest::addColumn<int>("reserved"); // room asked for before adding
    QTest::newRow("grown one key at a time") << 0;
    QTest::newRow("reserved for all") << 5000;
    QTest::newRow("reserved for some") << 700;
}

void TestCheckpoint::everyKeyIsFoundAsTheIndexGrows()
{
    // 5000 keys, some alike (a prefix of another, differing in case or by one non-ASCII
    // letter), added to one index: after every growth each is found at its position, a key
    // not added is not, and adding one again is refused without changing anything.
    QFETCH(int, reserved);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Result<Checkpoint> opened = openCheckpoint(writeSmall(dir, 1));
    QVERIFY(opened);
    Checkpoint checkpoint = *opened;
    checkpoint.reserve(static_cast<size_t>(reserved), 0);
    const auto keyOf = [](int i) {
        switch (i % 4) {
        case 0: return QStringLiteral("layers.%1.weight").arg(i);
        case 1: return QStringLiteral("layers.%1.weight.x").arg(i - 1);
        case 2: return QStringLiteral("LAYERS.%1.WEIGHT").arg(i - 2);
        default: return QStringLiteral("layers.%1.wéight").arg(i - 3);
        }
    };
    TensorEntry entry = checkpoint.tensors()[0];
    for (int i = 0; i < 5000; ++i) {
        entry.key = keyOf(i);
        QVERIFY(checkpoint.addTensor(entry));
        if ((i & (i + 1)) == 0 || i == 4999) { // after 1, 2, 4, 8... keys: every growth
            for (int j = 0; j <= i; ++j)
                QCOMPARE(checkpoint.indexOf(keyOf(j)), j + 1);
            QCOMPARE(checkpoint.indexOf(keyOf(i + 1)), -1);
        }
    }
    QCOMPARE(checkpoint.indexOf(QStringLiteral("t.0")), 0);
    for (const QString &absent : {QStringLiteral("layers.1.weight"), QStringLiteral("layers.0.weigh"), QString()})
        QCOMPARE(checkpoint.indexOf(absent), -1);
    entry.key = keyOf(1234);
    QVERIFY(!checkpoint.addTensor(entry));
    QCOMPARE(static_cast<int>(checkpoint.tensors().size()), 5001);
    QCOMPARE(checkpoint.indexOf(keyOf(1234)), 1235);
    QCOMPARE(opened->indexOf(keyOf(0)), -1); // the opened checkpoint's index is its own
}

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
