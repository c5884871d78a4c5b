// The safetensors writer against a strict reader of the spec (tests/python/read_safetensors.py:
// no safetensors package is installable here) and Graft's own reader; plus what it must refuse
// before creating any file.

#include "writercheck.h"

#include <QTemporaryDir>

using namespace graft;

namespace {

const auto notComplex128 = [](const TensorEntry &tensor) { return tensor.dtype != DType::Complex128; };

QJsonObject metadataObject(const std::vector<std::pair<QString, QString>> &metadata)
{
    QJsonObject object;
    for (const auto &[key, value] : metadata)
        object.insert(key, value);
    return object;
}

} // namespace

class TestSafetensorsWriter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void readerSeesEveryLeaf_data();
    void readerSeesEveryLeaf();
    void keysAreEscaped();
    void metadataIsKeptAndVersioned();
    void headerIsPaddedToEightBytes();
    void refusesWhatSafetensorsCannotHold_data();
    void refusesWhatSafetensorsCannotHold();
};

void TestSafetensorsWriter::readerSeesEveryLeaf_data()
{
    QTest::addColumn<QString>("fixture");
    // dtypes.safetensors: every safetensors dtype (U16/U32/U64, F8_E4M3, F8_E5M2, C64...);
    // dtypes.pth: torch's dtypes but complex128; views: copied leaves; empty_tensor: 0 bytes
    // and 0-d; resnet18: 45 MB, 102 leaves.
    for (const char *name : {"dtypes.safetensors", "dtypes.pth", "tiny_vgg.pth", "views.pth", "empty_tensor.pth",
                             "resnet18.pth"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestSafetensorsWriter::readerSeesEveryLeaf()
{
    QFETCH(QString, fixture);
    const Checkpoint source = test::openFixture(fixture);
    const std::vector<OutputLeaf> leaves = test::leavesOf(source, notComplex128);
    QVERIFY(!leaves.empty());
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.safetensors"));
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, WriteOptions{});
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(summary->bytes, QFileInfo(output).size());

    QJsonObject manifest = test::expectedManifest(leaves);
    manifest.insert(QStringLiteral("metadata"), QJsonObject{{QStringLiteral("graft_version"), QStringLiteral("0.1.0")}});
    test::checkWithPython(QStringLiteral("read_safetensors.py"), output, manifest);
    if (QTest::currentTestFailed())
        return;
    // Graft's reader lists safetensors tensors sorted by name.
    QJsonArray sorted = manifest.value(QStringLiteral("leaves")).toArray();
    std::vector<QJsonObject> entries;
    for (const QJsonValue &value : sorted)
        entries.push_back(value.toObject());
    std::sort(entries.begin(), entries.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(QStringLiteral("key")).toString() < b.value(QStringLiteral("key")).toString();
    });
    sorted = QJsonArray();
    for (const QJsonObject &entry : entries)
        sorted.append(entry);
    test::checkRoundTrip(output, QJsonObject{{QStringLiteral("leaves"), sorted}});
}

void TestSafetensorsWriter::keysAreEscaped()
{
    // Names JSON must escape (quote, backslash, control characters), non-ASCII and '/'.
    const Checkpoint source = test::openFixture(QStringLiteral("tiny_vgg.pth"));
    std::vector<OutputLeaf> leaves = test::leavesOf(source);
    QVERIFY(leaves.size() >= 5);
    leaves.resize(5);
    const QStringList keys{QStringLiteral("a\"quote"), QStringLiteral("back\\slash"), QStringLiteral("line\nbreak\t\x01"),
                           QStringLiteral("Gewichte.größe"), QStringLiteral("encoder/layer.0")};
    for (size_t i = 0; i < leaves.size(); ++i)
        leaves[i].key = keys[static_cast<qsizetype>(i)];
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("names.safetensors"));
    QVERIFY(writeCheckpoint(output, leaves, WriteOptions{}).ok());
    test::checkWithPython(QStringLiteral("read_safetensors.py"), output, test::expectedManifest(leaves));
    if (QTest::currentTestFailed())
        return;
    Result<Checkpoint> back = openCheckpoint(output);
    QVERIFY2(back.ok(), back.ok() ? "" : qPrintable(back.error().toString()));
    for (const QString &key : keys)
        QVERIFY2(back->indexOf(key) >= 0, qPrintable(key));
}

void TestSafetensorsWriter::metadataIsKeptAndVersioned()
{
    const Checkpoint source = test::openFixture(QStringLiteral("tiny_vgg.safetensors"));
    const std::vector<OutputLeaf> leaves = test::leavesOf(source);
    WriteOptions options;
    // A stale graft_version from an earlier run is replaced; a repeated key keeps its last value.
    options.metadata = {{QStringLiteral("format"), QStringLiteral("pt")},
                        {QStringLiteral("graft_version"), QStringLiteral("0.0.1")},
                        {QStringLiteral("note"), QStringLiteral("first")},
                        {QStringLiteral("note"), QStringLiteral("ünïcode \"quoted\"")}};
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("meta.safetensors"));
    QVERIFY(writeCheckpoint(output, leaves, options).ok());

    const std::vector<std::pair<QString, QString>> expected{{QStringLiteral("format"), QStringLiteral("pt")},
                                                            {QStringLiteral("note"), QStringLiteral("ünïcode \"quoted\"")},
                                                            {QStringLiteral("graft_version"), QStringLiteral("0.1.0")}};
    QJsonObject manifest = test::expectedManifest(leaves);
    manifest.insert(QStringLiteral("metadata"), metadataObject(expected));
    test::checkWithPython(QStringLiteral("read_safetensors.py"), output, manifest);
    if (QTest::currentTestFailed())
        return;
    Result<Checkpoint> back = openCheckpoint(output);
    QVERIFY(back.ok());
    auto sorted = [](std::vector<std::pair<QString, QString>> pairs) {
        std::sort(pairs.begin(), pairs.end());
        return pairs;
    };
    QCOMPARE(sorted(back->metadata()), sorted(expected));
}

void TestSafetensorsWriter::headerIsPaddedToEightBytes()
{
    // Key lengths 1..8 move the JSON end through every residue mod 8; the data must still start
    // on a multiple of 8 and the header end in spaces only.
    const Checkpoint source = test::openFixture(QStringLiteral("tiny_vgg.pth"));
    QTemporaryDir dir;
    for (int length = 1; length <= 8; ++length) {
        std::vector<OutputLeaf> leaves = test::leavesOf(source);
        leaves.resize(1);
        leaves[0].key = QString(length, QLatin1Char('k'));
        const QString output = dir.filePath(QStringLiteral("pad%1.safetensors").arg(length));
        QVERIFY(writeCheckpoint(output, leaves, WriteOptions{}).ok());
        QFile file(output);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        quint64 headerSize = 0;
        for (int i = 7; i >= 0; --i)
            headerSize = (headerSize << 8) | static_cast<uchar>(bytes[i]);
        QCOMPARE(headerSize % 8, 0u);
        const QByteArray json = bytes.mid(8, static_cast<qsizetype>(headerSize));
        QVERIFY(json.startsWith("{\"__metadata__\":{\"graft_version\":\"0.1.0\"}"));
        const qsizetype close = json.lastIndexOf('}');
        QCOMPARE(json.mid(close + 1), QByteArray(json.size() - close - 1, ' '));
        QVERIFY(json.size() - close - 1 < 8);
        QCOMPARE(bytes.size() - 8 - static_cast<qsizetype>(headerSize), test::leavesOf(source)[0].produce()->size());
    }
}

void TestSafetensorsWriter::refusesWhatSafetensorsCannotHold_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("renameFirstTo");
    QTest::addColumn<QString>("expectedError");
    QTest::newRow("complex128") << "dtypes.pth" << QString() << "complex128, which safetensors cannot store";
    QTest::newRow("duplicate key") << "tiny_vgg.pth" << "features.0.bias" << "two leaves are named 'features.0.bias'";
    QTest::newRow("reserved name") << "tiny_vgg.pth" << "__metadata__" << "may not be named '__metadata__'";
}

void TestSafetensorsWriter::refusesWhatSafetensorsCannotHold()
{
    QFETCH(QString, fixture);
    QFETCH(QString, renameFirstTo);
    QFETCH(QString, expectedError);
    const Checkpoint source = test::openFixture(fixture);
    std::vector<OutputLeaf> leaves = test::leavesOf(source);
    if (!renameFirstTo.isEmpty())
        leaves[0].key = renameFirstTo;
    int produced = 0;
    for (OutputLeaf &leaf : leaves) {
        leaf.produce = [&produced, inner = leaf.produce] {
            ++produced;
            return inner();
        };
    }
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("refused.safetensors"));
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, WriteOptions{});
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(expectedError), qPrintable(summary.error().message));
    QCOMPARE(produced, 0); // refused before any leaf was read
    QCOMPARE(test::directoryListing(dir.path()), QStringList());
}

QTEST_GUILESS_MAIN(TestSafetensorsWriter)
#include "tst_safetensorswriter.moc"
