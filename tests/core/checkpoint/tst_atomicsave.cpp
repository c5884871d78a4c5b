// writeCheckpoint()'s promises, for every output format: a failing or short leaf, a cancel, an
// input given as the destination or an unwritable destination leave no output and no
// temporary file, and an existing destination keeps its bytes; leaves are produced once, in
// order, and no leaf's bytes are held once the next is asked for.

#include "writercheck.h"

#include <QTemporaryDir>

#include <memory>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

using namespace graft;

Q_DECLARE_METATYPE(graft::OutputFormat)

namespace {

constexpr qint64 kLeafElements = 256 * 1024; // 1 MiB of float32: big enough to reach the disk
const QByteArray kOriginal = QByteArrayLiteral("the previous output, which must survive");

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// Five float32 leaves of kLeafElements; leaf `failAt` fails to produce (or `shortAt` returns
// one byte too few). `calls` records which leaves were produced, in order.
std::vector<OutputLeaf> syntheticLeaves(std::vector<int> &calls, int failAt = -1, int shortAt = -1)
{
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < 5; ++i) {
        leaves.push_back({QStringLiteral("layer%1.weight").arg(i), TensorSpec{DType::Float32, {kLeafElements}},
                          [&calls, i, failAt, shortAt]() -> Result<TensorBytes> {
                              calls.push_back(i);
                              if (i == failAt)
                                  return Error{QStringLiteral("/inputs/source.pth"), QStringLiteral("simulated read failure")};
                              std::vector<uchar> bytes(static_cast<size_t>(kLeafElements * 4) - (i == shortAt ? 1 : 0),
                                                       static_cast<uchar>(i + 1));
                              return TensorBytes::owned(std::move(bytes));
                          }});
    }
    return leaves;
}

void addFormatRows()
{
    QTest::addColumn<OutputFormat>("format");
    QTest::addColumn<bool>("existing");
    for (OutputFormat format : {OutputFormat::Eqx, OutputFormat::Safetensors, OutputFormat::Npz, OutputFormat::Torch}) {
        for (bool existing : {false, true}) {
            const QString name = outputFormatName(format) + (existing ? QStringLiteral(" over existing") : QStringLiteral(" new"));
            QTest::newRow(qPrintable(name)) << format << existing;
        }
    }
}

} // namespace

class TestAtomicSave : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void failingLeafLeavesNothing_data() { addFormatRows(); }
    void failingLeafLeavesNothing();
    void shortLeafLeavesNothing_data() { addFormatRows(); }
    void shortLeafLeavesNothing();
    void cancelLeavesNothing_data() { addFormatRows(); }
    void cancelLeavesNothing();
    void streamsOneLeafAtATime_data() { addFormatRows(); }
    void streamsOneLeafAtATime();
    void refusesToOverwriteInputs_data();
    void refusesToOverwriteInputs();
    void unwritableDestination_data();
    void unwritableDestination();
    void writesThroughSymlinkedDestination();
};

void TestAtomicSave::failingLeafLeavesNothing()
{
    QFETCH(OutputFormat, format);
    QFETCH(bool, existing);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("model.out"));
    if (existing)
        QVERIFY(writeFile(output, kOriginal));
    const QStringList before = test::directoryListing(dir.path());
    std::vector<int> calls;
    std::vector<OutputLeaf> leaves = syntheticLeaves(calls, 3);
    WriteOptions options;
    options.format = format;
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(QStringLiteral("cannot produce leaf 'layer3.weight'")), qPrintable(summary.error().message));
    QVERIFY2(summary.error().message.contains(QStringLiteral("simulated read failure")), qPrintable(summary.error().message));
    QCOMPARE(calls, (std::vector<int>{0, 1, 2, 3})); // stopped at the failure
    QCOMPARE(test::directoryListing(dir.path()), before);
    if (existing)
        QCOMPARE(readAll(output), kOriginal);
}

void TestAtomicSave::shortLeafLeavesNothing()
{
    QFETCH(OutputFormat, format);
    QFETCH(bool, existing);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("model.out"));
    if (existing)
        QVERIFY(writeFile(output, kOriginal));
    const QStringList before = test::directoryListing(dir.path());
    std::vector<int> calls;
    WriteOptions options;
    options.format = format;
    Result<WriteSummary> summary = writeCheckpoint(output, syntheticLeaves(calls, -1, 4), options);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(QStringLiteral("leaf 'layer4.weight' produced 1048575 bytes, but float32 [262144] needs 1048576")),
             qPrintable(summary.error().message));
    QCOMPARE(test::directoryListing(dir.path()), before);
    if (existing)
        QCOMPARE(readAll(output), kOriginal);
}

void TestAtomicSave::cancelLeavesNothing()
{
    QFETCH(OutputFormat, format);
    QFETCH(bool, existing);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("model.out"));
    if (existing)
        QVERIFY(writeFile(output, kOriginal));
    const QStringList before = test::directoryListing(dir.path());
    std::vector<int> calls;
    std::vector<std::pair<qint64, qint64>> reports;
    WriteOptions options;
    options.format = format;
    options.progress = [&reports](qint64 done, qint64 total) {
        reports.emplace_back(done, total);
        return done < 2; // cancel after the second leaf
    };
    Result<WriteSummary> summary = writeCheckpoint(output, syntheticLeaves(calls), options);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(QStringLiteral("cancelled")), qPrintable(summary.error().message));
    QCOMPARE(calls, (std::vector<int>{0, 1})); // nothing produced after the cancel
    QCOMPARE(reports, (std::vector<std::pair<qint64, qint64>>{{1, 5}, {2, 5}}));
    QCOMPARE(test::directoryListing(dir.path()), before);
    if (existing)
        QCOMPARE(readAll(output), kOriginal);
}

void TestAtomicSave::streamsOneLeafAtATime()
{
    // Each leaf is a zero-copy view into its own map of a file; a map that is still alive when
    // the next leaf is produced (or when progress reports the leaf done) means the writer kept
    // a leaf's bytes longer than needed.
    QFETCH(OutputFormat, format);
    QFETCH(bool, existing);
    QTemporaryDir dir;
    const QString source = dir.filePath(QStringLiteral("source.bin"));
    QVERIFY(writeFile(source, QByteArray(kLeafElements * 4, '\x2a')));
    const QString output = dir.filePath(QStringLiteral("model.out"));
    if (existing)
        QVERIFY(writeFile(output, kOriginal));

    std::vector<std::weak_ptr<const MappedFile>> maps;
    std::vector<int> calls;
    int stillHeld = 0;
    auto countHeld = [&maps, &stillHeld] {
        for (const auto &map : maps)
            stillHeld += map.expired() ? 0 : 1;
    };
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < 4; ++i) {
        leaves.push_back({QStringLiteral("leaf%1").arg(i), TensorSpec{DType::Float32, {kLeafElements}},
                          [&, i]() -> Result<TensorBytes> {
                              calls.push_back(i);
                              countHeld();
                              Result<MappedFilePtr> map = MappedFile::open(source);
                              if (!map)
                                  return map.error();
                              maps.push_back(*map);
                              return TensorBytes::view(*map, (*map)->data(), (*map)->size());
                          }});
    }
    WriteOptions options;
    options.format = format;
    options.progress = [&](qint64, qint64) {
        countHeld();
        return true;
    };
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(calls, (std::vector<int>{0, 1, 2, 3})); // each once, in order
    QCOMPARE(stillHeld, 0);
    QCOMPARE(summary->leaves, 4);
    QVERIFY(readAll(output) != kOriginal);
    QCOMPARE(QFileInfo(output).size(), summary->bytes);
    QVERIFY(summary->bytes > 4 * kLeafElements * 4);
    QCOMPARE(test::directoryListing(dir.path()), (QStringList{QStringLiteral("model.out"), QStringLiteral("source.bin")}));
}

void TestAtomicSave::refusesToOverwriteInputs_data()
{
    QTest::addColumn<QString>("how");
    QTest::newRow("same path") << "same";
    QTest::newRow("path with ..") << "dots";
    QTest::newRow("symlink to the input") << "symlink";
    QTest::newRow("hard link to the input") << "hardlink";
    QTest::newRow("input named through a symlinked folder") << "linked-folder";
}

void TestAtomicSave::refusesToOverwriteInputs()
{
    QFETCH(QString, how);
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("in")));
    const QString input = dir.filePath(QStringLiteral("in/source.safetensors"));
    QVERIFY(writeFile(input, kOriginal));
    QString destination = input;
    QString protectedPath = input;
    if (how == QLatin1String("dots")) {
        destination = dir.filePath(QStringLiteral("in/../in/./source.safetensors"));
    } else if (how == QLatin1String("symlink")) {
        destination = dir.filePath(QStringLiteral("link.safetensors"));
        QVERIFY(QFile::link(input, destination));
    } else if (how == QLatin1String("hardlink")) {
#ifdef Q_OS_UNIX
        destination = dir.filePath(QStringLiteral("hard.safetensors"));
        QCOMPARE(::link(QFile::encodeName(input).constData(), QFile::encodeName(destination).constData()), 0);
#else
        QSKIP("hard links are tested on Unix");
#endif
    } else if (how == QLatin1String("linked-folder")) {
        QVERIFY(QFile::link(dir.filePath(QStringLiteral("in")), dir.filePath(QStringLiteral("alias"))));
        protectedPath = dir.filePath(QStringLiteral("alias/source.safetensors"));
    }
    const QStringList before = test::directoryListing(dir.path());

    for (OutputFormat format : {OutputFormat::Eqx, OutputFormat::Safetensors, OutputFormat::Npz, OutputFormat::Torch}) {
        std::vector<int> calls;
        WriteOptions options;
        options.format = format;
        options.protectedPaths = {dir.filePath(QStringLiteral("other.pth")), protectedPath};
        Result<WriteSummary> summary = writeCheckpoint(destination, syntheticLeaves(calls), options);
        QVERIFY2(!summary.ok(), qPrintable(outputFormatName(format)));
        QCOMPARE(summary.error().file, destination);
        QVERIFY2(summary.error().message.startsWith(QStringLiteral("refusing to overwrite input file")),
                 qPrintable(summary.error().message));
        QVERIFY(calls.empty());
        QCOMPARE(readAll(input), kOriginal);
        QCOMPARE(test::directoryListing(dir.path()), before);
        QCOMPARE(test::directoryListing(dir.filePath(QStringLiteral("in"))), QStringList{QStringLiteral("source.safetensors")});
    }
}

void TestAtomicSave::unwritableDestination_data()
{
    QTest::addColumn<QString>("how");
    QTest::addColumn<QString>("expectedError");
    QTest::newRow("missing folder") << "missing" << "cannot create the output file";
    QTest::newRow("parent is a file") << "file-parent" << "cannot create the output file";
    QTest::newRow("read-only folder") << "read-only" << "cannot create the output file";
    QTest::newRow("destination is a folder") << "folder" << "it is a folder";
}

void TestAtomicSave::unwritableDestination()
{
    QFETCH(QString, how);
    QFETCH(QString, expectedError);
    QTemporaryDir dir;
    QString destination;
    QString watched = dir.path(); // folder whose listing must not change
    if (how == QLatin1String("missing")) {
        destination = dir.filePath(QStringLiteral("no/such/folder/out.safetensors"));
    } else if (how == QLatin1String("file-parent")) {
        QVERIFY(writeFile(dir.filePath(QStringLiteral("plain.txt")), "x"));
        destination = dir.filePath(QStringLiteral("plain.txt/out.safetensors"));
    } else if (how == QLatin1String("folder")) {
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("out.safetensors")));
        destination = dir.filePath(QStringLiteral("out.safetensors"));
    } else {
        // Permission bits don't stop root; sysfs refuses new files even to root.
        const bool root = QFileInfo(dir.path()).ownerId() == 0;
        if (root) {
            watched = QStringLiteral("/sys");
            destination = QStringLiteral("/sys/graft-test-output.safetensors");
            QFile probe(QStringLiteral("/sys/graft-test-probe"));
            if (probe.open(QIODevice::WriteOnly)) {
                probe.remove();
                QSKIP("running as root and /sys accepts new files: no read-only folder to test");
            }
        } else {
            const QString readOnly = dir.filePath(QStringLiteral("read-only"));
            QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("read-only")));
            QVERIFY(QFile::setPermissions(readOnly, QFile::ReadOwner | QFile::ExeOwner));
            watched = readOnly;
            destination = readOnly + QStringLiteral("/out.safetensors");
        }
    }
    const QStringList before = test::directoryListing(watched);

    for (OutputFormat format : {OutputFormat::Eqx, OutputFormat::Safetensors, OutputFormat::Npz, OutputFormat::Torch}) {
        std::vector<int> calls;
        WriteOptions options;
        options.format = format;
        Result<WriteSummary> summary = writeCheckpoint(destination, syntheticLeaves(calls), options);
        QVERIFY2(!summary.ok(), qPrintable(outputFormatName(format)));
        QCOMPARE(summary.error().file, destination);
        QVERIFY(summary.error().toString().startsWith(destination + QStringLiteral(": ")));
        QVERIFY2(summary.error().message.contains(expectedError), qPrintable(summary.error().message));
        QVERIFY(calls.empty()); // nothing produced for an output that can't exist
        QCOMPARE(test::directoryListing(watched), before);
    }
}

void TestAtomicSave::writesThroughSymlinkedDestination()
{
    // A destination that is a symlink (not to an input) keeps being a symlink; its target gets
    // the new bytes, as QSaveFile resolves links before replacing.
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("real.safetensors"));
    const QString link = dir.filePath(QStringLiteral("link.safetensors"));
    QVERIFY(writeFile(target, kOriginal));
    QVERIFY(QFile::link(target, link));
    std::vector<int> calls;
    Result<WriteSummary> summary = writeCheckpoint(link, syntheticLeaves(calls), WriteOptions{});
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QVERIFY(QFileInfo(link).isSymLink());
    QCOMPARE(QFileInfo(target).size(), summary->bytes);
    Result<Checkpoint> back = openCheckpoint(target);
    QVERIFY(back.ok());
    QCOMPARE(back->tensors().size(), size_t(5));
}

QTEST_GUILESS_MAIN(TestAtomicSave)
#include "tst_atomicsave.moc"
