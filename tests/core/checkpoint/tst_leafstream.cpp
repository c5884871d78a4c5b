// The leaf stream of every writer (formatwriters.h, LeafStream): small leaves are produced on a
// thread of their own ahead of the one being written, within a budget; a large leaf only once
// everything before it is written and reported; the first failure, throw or cancel stops
// production and leaves no output. (tst_atomicsave covers the same promises for large leaves.)

#include "writercheck.h"

#include "checkpoint/writers/formatwriters.h"

#include <QTemporaryDir>

#include <atomic>
#include <chrono>
#include <mutex>
#include <new>
#include <thread>

using namespace graft;
using writers::LeafStream;

Q_DECLARE_METATYPE(graft::OutputFormat)

namespace {

constexpr qint64 kSmallElements = 1024;                                // 4 KiB of float32
constexpr qint64 kLargeElements = LeafStream::kAheadLeafBytes / 4;     // the smallest large leaf

void addFormatRows()
{
    QTest::addColumn<OutputFormat>("format");
    for (OutputFormat format : {OutputFormat::Eqx, OutputFormat::Safetensors, OutputFormat::Npz, OutputFormat::Torch})
        QTest::newRow(qPrintable(outputFormatName(format))) << format;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

/// Leaves whose bytes are views into a map of `source` of their own: a leaf is alive exactly as
/// long as its map is. Records the order of production and the leaves alive at each.
struct MappedLeaves {
    QString source;
    std::mutex mutex;
    std::vector<int> calls;
    std::vector<std::weak_ptr<const MappedFile>> maps;
    std::vector<qint64> sizes;
    size_t mostAlive = 0;
    qint64 mostAliveBytes = 0;

    /// Leaves alive now (their maps still open), and their bytes.
    std::pair<size_t, qint64> alive()
    {
        std::pair<size_t, qint64> count{0, 0};
        for (size_t i = 0; i < maps.size(); ++i) {
            if (!maps[i].expired()) {
                ++count.first;
                count.second += sizes[i];
            }
        }
        return count;
    }

    std::vector<OutputLeaf> leaves(const std::vector<qint64> &elements, const std::function<void(int)> &beforeProduce = {})
    {
        std::vector<OutputLeaf> result;
        for (size_t i = 0; i < elements.size(); ++i) {
            const qint64 bytes = elements[i] * 4;
            result.push_back({QStringLiteral("leaf%1").arg(i), TensorSpec{DType::Float32, {elements[i]}},
                              [this, i, bytes, beforeProduce]() -> Result<TensorBytes> {
                                  if (beforeProduce)
                                      beforeProduce(static_cast<int>(i));
                                  Result<MappedFilePtr> map = MappedFile::open(source);
                                  if (!map)
                                      return map.error();
                                  std::lock_guard lock(mutex);
                                  calls.push_back(static_cast<int>(i));
                                  const auto [count, aliveBytes] = alive();
                                  mostAlive = std::max(mostAlive, count + 1);
                                  mostAliveBytes = std::max(mostAliveBytes, aliveBytes + bytes);
                                  maps.push_back(*map);
                                  sizes.push_back(bytes);
                                  return TensorBytes::view(*map, (*map)->data(), bytes);
                              }});
        }
        return result;
    }
};

QString suffix(OutputFormat format)
{
    switch (format) {
    case OutputFormat::Eqx: return QStringLiteral("eqx");
    case OutputFormat::Safetensors: return QStringLiteral("safetensors");
    case OutputFormat::Npz: return QStringLiteral("npz");
    default: return QStringLiteral("pt");
    }
}

std::vector<int> upTo(int last)
{
    std::vector<int> indices;
    for (int i = 0; i <= last; ++i)
        indices.push_back(i);
    return indices;
}

} // namespace

class TestLeafStream : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void smallLeavesAreProducedAheadWithinTheBudget_data() { addFormatRows(); }
    void smallLeavesAreProducedAheadWithinTheBudget();
    void largeLeafWaitsForEveryLeafBefore_data() { addFormatRows(); }
    void largeLeafWaitsForEveryLeafBefore();
    void failingSmallLeafStopsProduction_data() { addFormatRows(); }
    void failingSmallLeafStopsProduction();
    void throwingSmallLeafIsAnError_data() { addFormatRows(); }
    void throwingSmallLeafIsAnError();
    void cancelStopsProduction_data() { addFormatRows(); }
    void cancelStopsProduction();

private:
    /// Writes `leaves` and checks the write fails naming the output and every fragment, and
    /// leaves the folder as it was.
    void writeFails(const std::vector<OutputLeaf> &leaves, const WriteOptions &options, const QStringList &fragments);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_source;
};

void TestLeafStream::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_source = m_dir->filePath(QStringLiteral("source.bin"));
    QVERIFY(writeFile(m_source, QByteArray(kLargeElements * 4, '\x2a')));
}

void TestLeafStream::writeFails(const std::vector<OutputLeaf> &leaves, const WriteOptions &options, const QStringList &fragments)
{
    const QString output = m_dir->filePath(QStringLiteral("out.model"));
    const QStringList before = test::directoryListing(m_dir->path());
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    for (const QString &fragment : fragments)
        QVERIFY2(summary.error().message.contains(fragment), qPrintable(summary.error().message));
    QCOMPARE(test::directoryListing(m_dir->path()), before);
}

void TestLeafStream::smallLeavesAreProducedAheadWithinTheBudget()
{
    QFETCH(OutputFormat, format);
    // Enough small leaves to fill the budget several times over.
    const int count = static_cast<int>(3 * LeafStream::kAheadLeaves);
    MappedLeaves mapped{m_source};
    std::atomic<int> produced = 0;
    std::vector<OutputLeaf> leaves = mapped.leaves(std::vector<qint64>(static_cast<size_t>(count), kSmallElements),
                                                   [&produced](int) { ++produced; });
    // The writer stops (at most 10 s) after the first leaf, before reporting it, until the
    // producer has filled the budget, and a little longer: production runs ahead of writing, and
    // no further than the budget (leaf 0, written but not reported, still counts).
    const int budget = static_cast<int>(LeafStream::kAheadLeaves);
    bool ranAhead = false;
    int producedWhileStopped = 0;
    WriteOptions options;
    options.format = format;
    options.progress = [&](qint64 done, qint64) {
        if (done == 1) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (produced < budget && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            producedWhileStopped = produced;
            ranAhead = produced >= budget;
        }
        return true;
    };
    const QString output = m_dir->filePath(QStringLiteral("out.") + suffix(format));
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(summary->leaves, count);
    QVERIFY(ranAhead);
    QCOMPARE(producedWhileStopped, budget);
    QCOMPARE(mapped.calls, upTo(count - 1)); // each once, in order
    // Within the budget: the leaves alive at any production, the one being written included.
    QVERIFY2(mapped.mostAlive <= LeafStream::kAheadLeaves + 1, qPrintable(QString::number(mapped.mostAlive)));
    QVERIFY(mapped.mostAliveBytes <= LeafStream::kAheadBytes + 2 * kSmallElements * 4);
    QCOMPARE(mapped.alive().first, size_t(0));
    // The output holds every leaf's bytes, in order.
    const Checkpoint written = openCheckpoint(output).value();
    QCOMPARE(written.tensors().size(), size_t(count));
    for (const TensorEntry &tensor : written.tensors()) {
        const TensorBytes bytes = written.read(static_cast<int>(&tensor - written.tensors().data())).value();
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(bytes.data()), bytes.size()), QByteArray(kSmallElements * 4, '\x2a'));
    }
}

void TestLeafStream::largeLeafWaitsForEveryLeafBefore()
{
    QFETCH(OutputFormat, format);
    const int smallBefore = 40;
    std::vector<qint64> elements(smallBefore, kSmallElements);
    elements.push_back(kLargeElements);
    elements.insert(elements.end(), 40, kSmallElements);
    MappedLeaves mapped{m_source};
    std::atomic<qint64> reported = 0;
    qint64 reportedAtLarge = -1;
    size_t aliveAtLarge = 1;
    std::vector<OutputLeaf> leaves = mapped.leaves(elements, [&](int index) {
        if (index == smallBefore) {
            reportedAtLarge = reported;
            std::lock_guard lock(mapped.mutex);
            aliveAtLarge = mapped.alive().first;
        }
    });
    WriteOptions options;
    options.format = format;
    options.progress = [&reported](qint64 done, qint64) {
        reported = done;
        return true;
    };
    Result<WriteSummary> summary = writeCheckpoint(m_dir->filePath(QStringLiteral("out.model")), leaves, options);
    QVERIFY2(summary.ok(), summary.ok() ? "" : qPrintable(summary.error().toString()));
    QCOMPARE(reportedAtLarge, qint64(smallBefore)); // every leaf before it written and reported
    // None of their bytes held but the map the output's copy cursor reads small leaves through.
    QVERIFY2(aliveAtLarge <= 1, qPrintable(QString::number(aliveAtLarge)));
    QCOMPARE(mapped.calls, upTo(static_cast<int>(elements.size()) - 1));
}

void TestLeafStream::failingSmallLeafStopsProduction()
{
    QFETCH(OutputFormat, format);
    const int failAt = 100;
    std::vector<int> calls;
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < 2 * failAt; ++i) {
        leaves.push_back({QStringLiteral("leaf%1").arg(i), TensorSpec{DType::Float32, {kSmallElements}},
                          [&calls, i]() -> Result<TensorBytes> {
                              calls.push_back(i);
                              if (i == failAt)
                                  return Error{QStringLiteral("/inputs/source.pth"), QStringLiteral("simulated read failure")};
                              return TensorBytes::owned(std::vector<uchar>(kSmallElements * 4, 7));
                          }});
    }
    WriteOptions options;
    options.format = format;
    writeFails(leaves, options, {QStringLiteral("cannot produce leaf 'leaf100'"), QStringLiteral("simulated read failure")});
    QCOMPARE(calls, upTo(failAt)); // nothing produced after the failure
}

void TestLeafStream::throwingSmallLeafIsAnError()
{
    // std::bad_alloc on the producing thread reaches writeCheckpoint()'s guard on the caller's.
    QFETCH(OutputFormat, format);
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < 20; ++i) {
        leaves.push_back({QStringLiteral("leaf%1").arg(i), TensorSpec{DType::Float32, {kSmallElements}}, [i]() -> Result<TensorBytes> {
                              if (i == 7)
                                  throw std::bad_alloc();
                              return TensorBytes::owned(std::vector<uchar>(kSmallElements * 4, 7));
                          }});
    }
    WriteOptions options;
    options.format = format;
    writeFails(leaves, options, {QStringLiteral("not enough memory")});
}

void TestLeafStream::cancelStopsProduction()
{
    QFETCH(OutputFormat, format);
    const int count = static_cast<int>(4 * LeafStream::kAheadLeaves);
    MappedLeaves mapped{m_source};
    std::vector<OutputLeaf> leaves = mapped.leaves(std::vector<qint64>(static_cast<size_t>(count), kSmallElements));
    std::vector<qint64> reports;
    WriteOptions options;
    options.format = format;
    options.progress = [&reports](qint64 done, qint64) {
        reports.push_back(done);
        return done < 10;
    };
    writeFails(leaves, options, {QStringLiteral("cancelled")});
    QCOMPARE(reports, (std::vector<qint64>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    // Production stopped within the budget past the cancel, in order, and nothing is held.
    QVERIFY(mapped.calls.size() >= 10);
    QVERIFY2(mapped.calls.size() <= 10 + LeafStream::kAheadLeaves, qPrintable(QString::number(mapped.calls.size())));
    QCOMPARE(mapped.calls, upTo(static_cast<int>(mapped.calls.size()) - 1));
    QCOMPARE(mapped.alive().first, size_t(0));
}

QTEST_GUILESS_MAIN(TestLeafStream)
#include "tst_leafstream.moc"
