// Tensor statistics and pair statistics (core/tensor/tensorstats) against numpy in float64
// (tests/python/tensor_stats.py): every dtype of the fixtures (dtypes.pth, legacy_dtypes.pth,
// dtypes.safetensors incl. float8 and unsigned), views, empty and 0-d tensors, and a synthetic
// file of ~209K values per tensor so the chunked accumulation (64K values a chunk) merges
// several chunks. Then the fast path, progress/cancel and the refusals.

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "statscheck.h"
#include "tensor/blockkernels.h"

#include <QFloat16>
#include <QSet>
#include <QTemporaryDir>

#include <cstring>

#include <zlib.h>

using namespace graft;
using namespace graft::test;

namespace {

QString fixture(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/") + name; }

const QStringList kStatisticsFiles = {QStringLiteral("dtypes.pth"), QStringLiteral("legacy_dtypes.pth"), QStringLiteral("dtypes.safetensors"),
                                      QStringLiteral("views.pth"), QStringLiteral("empty_tensor.pth"), QStringLiteral("tiny_vgg.pth")};
const QStringList kPairFiles = {QStringLiteral("dtypes.pth"), QStringLiteral("dtypes.safetensors"), QStringLiteral("views.pth")};
constexpr qint64 kSyntheticValues = 3 * 65536 + 12345;

template <typename T>
std::vector<uchar> bytesOf(const std::vector<T> &values)
{
    std::vector<uchar> bytes(values.size() * sizeof(T));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

quint16 bfloat16Bits(float value)
{
    quint32 bits;
    std::memcpy(&bits, &value, 4);
    if (std::isnan(value))
        return 0x7fc0;
    return static_cast<quint16>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16); // round to nearest even
}

/// Tensors of kSyntheticValues values with infinities, zeros, one NaN, small nudges, and the
/// same values as float16, bfloat16 and int32: several chunks each, pairs with every feature.
Status writeSynthetic(const QString &path)
{
    const size_t n = static_cast<size_t>(kSyntheticValues);
    std::vector<float> a(n), b(n), c(n);
    quint64 state = 88172645463325252ull;
    for (size_t i = 0; i < n; ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        a[i] = static_cast<float>((static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5) * 8.0);
        if (i % 333 == 0)
            a[i] = 0.0f;
        if (i % 1000 == 0)
            a[i] = std::numeric_limits<float>::infinity();
        if (i % 1777 == 0)
            a[i] = -std::numeric_limits<float>::infinity();
        b[i] = a[i] + (i % 7 == 0 ? 1e-4f * static_cast<float>(i % 5) : 0.0f);
    }
    c = a;
    c[12345] = std::numeric_limits<float>::quiet_NaN();
    c[2000] = 1e30f;
    std::vector<quint16> half(n), brain(n);
    std::vector<qint32> integers(n);
    for (size_t i = 0; i < n; ++i) {
        const qfloat16 h(a[i]);
        std::memcpy(&half[i], &h, 2);
        brain[i] = bfloat16Bits(a[i]);
        integers[i] = std::isfinite(a[i]) ? static_cast<qint32>(a[i] * 1000.0f) : 0;
    }
    auto leaf = [](const char *key, DType dtype, std::vector<uchar> bytes) {
        auto shared = std::make_shared<std::vector<uchar>>(std::move(bytes));
        return OutputLeaf{QString::fromLatin1(key), TensorSpec{dtype, {kSyntheticValues}}, [shared] { return Result<TensorBytes>(TensorBytes::owned(*shared)); }};
    };
    const std::vector<OutputLeaf> leaves = {leaf("a", DType::Float32, bytesOf(a)), leaf("b", DType::Float32, bytesOf(b)),
                                            leaf("c", DType::Float32, bytesOf(c)), leaf("half", DType::Float16, bytesOf(half)),
                                            leaf("brain", DType::BFloat16, bytesOf(brain)), leaf("integers", DType::Int32, bytesOf(integers))};
    WriteOptions options;
    options.format = OutputFormat::Safetensors;
    Result<WriteSummary> written = writeCheckpoint(path, leaves, options);
    if (!written)
        return written.error();
    return Status::success();
}

std::vector<qint64> countsOf(const QJsonValue &value)
{
    std::vector<qint64> counts;
    for (const QJsonValue &count : value.toArray())
        counts.push_back(count.toInteger());
    return counts;
}

TensorData dataOf(const TensorBytes &bytes, const TensorEntry &entry) { return {bytes.data(), entry.dtype, entry.numel()}; }

} // namespace

class TestTensorStats : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_synthetic;
    QHash<QString, QJsonObject> m_statistics; ///< file → tensor_stats.py stats
    QHash<QString, QJsonObject> m_pairs;      ///< file (or "A|B") → tensor_stats.py pairs / diff
    QHash<QString, Checkpoint> m_opened;
    QJsonObject m_tolerances; ///< carries tensor_stats.py's "tolerances"

    Checkpoint open(const QString &path)
    {
        if (!m_opened.contains(path)) {
            Result<Checkpoint> checkpoint = openCheckpoint(path);
            if (!checkpoint)
                qFatal("%s", qPrintable(checkpoint.error().toString()));
            m_opened.insert(path, *checkpoint);
        }
        return m_opened.value(path);
    }

    QStringList statisticsFiles() const
    {
        QStringList files;
        for (const QString &name : kStatisticsFiles)
            files << fixture(name);
        return files << m_synthetic;
    }

private Q_SLOTS:
    // The statistics widen 16-bit floats to float32 with branch-free bit arithmetic: every one of
    // the 65,536 patterns must give what Qt's qfloat16 and a plain shift give (NaN as NaN, with
    // its sign and payload), also when the block starts at an odd address.
    void widensEverySixteenBitPatternExactly()
    {
        std::vector<uchar> bytes(2 * 65536 + 1);
        for (quint32 bits = 0; bits < 65536; ++bits) {
            bytes[1 + 2 * bits] = static_cast<uchar>(bits & 0xff);
            bytes[2 + 2 * bits] = static_cast<uchar>(bits >> 8);
        }
        std::vector<float> half(65536), brain(65536);
        widenFloat16(bytes.data() + 1, 65536, half.data());
        widenBfloat16(bytes.data() + 1, 65536, brain.data());
        int nans = 0;
        for (quint32 bits = 0; bits < 65536; ++bits) {
            quint16 pattern = static_cast<quint16>(bits);
            qfloat16 reference;
            std::memcpy(&reference, &pattern, 2);
            const float expected = static_cast<float>(reference);
            quint32 brainBits;
            std::memcpy(&brainBits, &brain[bits], 4);
            QCOMPARE(brainBits, bits << 16);
            if (std::isnan(expected)) {
                ++nans;
                QVERIFY2(std::isnan(half[bits]), qPrintable(QString::number(bits, 16)));
                QCOMPARE(std::signbit(half[bits]), (bits & 0x8000) != 0);
                continue;
            }
            QVERIFY2(half[bits] == expected && std::signbit(half[bits]) == std::signbit(expected),
                     qPrintable(QStringLiteral("0x%1: %2, expected %3").arg(bits, 4, 16, QLatin1Char('0')).arg(half[bits]).arg(expected)));
        }
        QCOMPARE(nans, 2 * 1023);
    }

    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_synthetic = m_dir.filePath(QStringLiteral("synthetic.safetensors"));
        Status written = writeSynthetic(m_synthetic);
        QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().toString()));
        // One python run for every figure (torch is imported once).
        QStringList arguments;
        for (const QString &file : statisticsFiles())
            arguments << QStringLiteral("stats") << file << QStringLiteral("+");
        QStringList pairFiles;
        for (const QString &name : kPairFiles)
            pairFiles << fixture(name);
        for (const QString &file : pairFiles << m_synthetic)
            arguments << QStringLiteral("pairs") << file << QStringLiteral("+");
        // Same keys, other weights: finite pairs of real layers.
        const QString a = fixture(QStringLiteral("tiny_vgg.pth")), b = fixture(QStringLiteral("mapping/tiny_vgg_plain.pth"));
        arguments << QStringLiteral("diff") << a << b;
        const QJsonObject figures = numpyFigures(arguments);
        const QJsonArray results = figures.value(QStringLiteral("results")).toArray();
        QCOMPARE(results.size(), statisticsFiles().size() + pairFiles.size() + 1);
        int next = 0;
        for (const QString &file : statisticsFiles())
            m_statistics.insert(file, results.at(next++).toObject());
        for (const QString &file : pairFiles)
            m_pairs.insert(file, results.at(next++).toObject());
        m_pairs.insert(a + QLatin1Char('|') + b, results.at(next++).toObject());
        m_tolerances = QJsonObject{{QStringLiteral("tolerances"), figures.value(QStringLiteral("tolerances"))}};
    }

    void statistics_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QJsonObject>("expected");
        for (const QString &file : statisticsFiles()) {
            for (const QJsonValue &value : m_statistics.value(file).value(QStringLiteral("tensors")).toArray()) {
                const QJsonObject tensor = value.toObject();
                const QString key = tensor.value(QStringLiteral("key")).toString();
                QTest::addRow("%s:%s", qPrintable(QFileInfo(file).fileName()), qPrintable(key)) << file << key << tensor;
            }
        }
    }

    void statistics()
    {
        QFETCH(QString, file);
        QFETCH(QString, key);
        QFETCH(QJsonObject, expected);
        const Checkpoint checkpoint = open(file);
        const int index = checkpoint.indexOf(key);
        QVERIFY2(index >= 0, qPrintable(key));
        Result<TensorBytes> bytes = checkpoint.read(index);
        QVERIFY(bytes.ok());
        const TensorData data = dataOf(*bytes, checkpoint.tensors()[index]);

        StatisticsOptions automatic;
        automatic.bins = 10;
        Result<TensorStatistics> statistics = tensorStatistics(data, automatic);
        QVERIFY(statistics.ok());
        compareStatistics(*statistics, expected.value(QStringLiteral("stats")).toObject());
        if (QTest::currentTestFailed())
            return;
        const QJsonObject histogram = expected.value(QStringLiteral("histogram_auto")).toObject();
        QVERIFY(statistics->histogram.has_value());
        GRAFT_COMPARE_FIGURE(statistics->histogram->lo, figure(histogram.value(QStringLiteral("lo"))));
        GRAFT_COMPARE_FIGURE(statistics->histogram->hi, figure(histogram.value(QStringLiteral("hi"))));
        QCOMPARE(statistics->histogram->counts, countsOf(histogram.value(QStringLiteral("counts"))));

        StatisticsOptions fixed;
        fixed.bins = 7;
        fixed.lo = -2.0;
        fixed.hi = 3.0;
        statistics = tensorStatistics(data, fixed);
        QVERIFY(statistics.ok());
        QCOMPARE(statistics->histogram->counts, countsOf(expected.value(QStringLiteral("histogram_fixed")).toObject().value(QStringLiteral("counts"))));
    }

    // The statistics table above must have met every dtype Graft reads.
    void everyDtypeCovered()
    {
        QSet<int> seen;
        for (const QString &file : statisticsFiles()) {
            // Named: `for (... : open(file).tensors())` iterates a reference into a temporary
            // Checkpoint destroyed before the loop body runs (ASan: stack-use-after-scope).
            const Checkpoint checkpoint = open(file);
            for (const TensorEntry &entry : checkpoint.tensors())
                seen.insert(static_cast<int>(entry.dtype));
        }
        for (int d = static_cast<int>(DType::Bool); d <= static_cast<int>(DType::Float8E5M2); ++d)
            QVERIFY2(seen.contains(d), qPrintable(dtypeName(static_cast<DType>(d))));
    }

    void pairs_data()
    {
        QTest::addColumn<QString>("fileA");
        QTest::addColumn<QString>("fileB");
        QTest::addColumn<QJsonObject>("expected");
        QTest::addColumn<QJsonObject>("figures");
        for (auto it = m_pairs.cbegin(); it != m_pairs.cend(); ++it) {
            const QStringList files = it.key().split(QLatin1Char('|'));
            const QString fileA = files.first(), fileB = files.last();
            for (const QJsonValue &value : it.value().value(QStringLiteral("pairs")).toArray()) {
                const QJsonObject pair = value.toObject();
                QTest::addRow("%s:%s~%s", qPrintable(QFileInfo(fileB).fileName()), qPrintable(pair.value(QStringLiteral("a")).toString()),
                              qPrintable(pair.value(QStringLiteral("b")).toString()))
                    << fileA << fileB << pair << m_tolerances;
            }
        }
    }

    void pairs()
    {
        QFETCH(QString, fileA);
        QFETCH(QString, fileB);
        QFETCH(QJsonObject, expected);
        QFETCH(QJsonObject, figures);
        const Checkpoint a = open(fileA), b = open(fileB);
        const int i = a.indexOf(expected.value(QStringLiteral("a")).toString());
        const int j = b.indexOf(expected.value(QStringLiteral("b")).toString());
        QVERIFY(i >= 0 && j >= 0);
        Result<TensorBytes> left = a.read(i), right = b.read(j);
        QVERIFY(left.ok() && right.ok());
        const TensorData x = dataOf(*left, a.tensors()[i]), y = dataOf(*right, b.tensors()[j]);
        const int tolerances = static_cast<int>(figures.value(QStringLiteral("tolerances")).toArray().size());
        for (int t = 0; t < tolerances; ++t) {
            Result<Comparison> comparison = compareTensors(x, y, toleranceAt(figures, t), false);
            QVERIFY(comparison.ok());
            const PairStatistics &pair = comparison->pair;
            if (pair.identical) {
                // The fast path: equal and no difference. numpy differs only where NaN != NaN.
                QVERIFY(comparison->equal && pair.allclose);
                QCOMPARE(pair.differing, qint64(0));
                QCOMPARE(pair.maxAbsDiff, 0.0);
                QCOMPARE(pair.relL2, 0.0);
                QCOMPARE(pair.cosine, 1.0);
                Result<TensorStatistics> own = tensorStatistics(x);
                QVERIFY(own.ok());
                QCOMPARE(expected.value(QStringLiteral("differing")).toInteger(), own->nan);
                continue;
            }
            comparePair(pair, expected, t);
            if (QTest::currentTestFailed())
                return;
            QCOMPARE(comparison->equal, pair.allclose);
        }
    }

    // compareTensors' per-side statistics are tensorStatistics', and A and B share the
    // histogram range so they overlay; A−B gets ±max |d|.
    void comparisonCarriesTensorStatistics()
    {
        const Checkpoint checkpoint = open(m_synthetic);
        Result<TensorBytes> a = checkpoint.read(checkpoint.indexOf(QStringLiteral("a")));
        Result<TensorBytes> b = checkpoint.read(checkpoint.indexOf(QStringLiteral("b")));
        QVERIFY(a.ok() && b.ok());
        const TensorData x = dataOf(*a, checkpoint.tensors()[0]), y = dataOf(*b, checkpoint.tensors()[1]);
        StatisticsOptions options;
        options.bins = 16;
        Result<Comparison> comparison = compareTensors(x, y, {}, true, options);
        QVERIFY(comparison.ok());
        QVERIFY(comparison->a && comparison->b && comparison->pair.diffHistogram);
        const QJsonObject expectedA = m_statistics.value(m_synthetic).value(QStringLiteral("tensors")).toArray().at(0).toObject();
        QCOMPARE(expectedA.value(QStringLiteral("key")).toString(), QStringLiteral("a"));
        compareStatistics(*comparison->a, expectedA.value(QStringLiteral("stats")).toObject());
        QCOMPARE(comparison->a->histogram->lo, std::min(comparison->a->min, comparison->b->min));
        QCOMPARE(comparison->a->histogram->hi, std::max(comparison->a->max, comparison->b->max));
        QCOMPARE(comparison->b->histogram->lo, comparison->a->histogram->lo);
        QCOMPARE(comparison->pair.diffHistogram->hi, comparison->pair.maxAbsDiff);
        QCOMPARE(comparison->pair.diffHistogram->lo, -comparison->pair.maxAbsDiff);
        qint64 binned = 0;
        for (qint64 count : comparison->pair.diffHistogram->counts)
            binned += count;
        QCOMPARE(binned, kSyntheticValues); // every d is finite here (equal infinities give 0)
    }

    void identicalBytes_data()
    {
        QTest::addColumn<std::vector<float>>("a");
        QTest::addColumn<std::vector<float>>("b");
        QTest::addColumn<bool>("identical");
        QTest::addColumn<bool>("equal");
        QTest::addColumn<qint64>("differing");
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
        QTest::newRow("same bytes with NaN") << std::vector<float>{1, nan, inf} << std::vector<float>{1, nan, inf} << true << true << qint64(0);
        QTest::newRow("-0.0 and 0.0") << std::vector<float>{-0.0f, 2} << std::vector<float>{0.0f, 2} << false << true << qint64(0);
        QTest::newRow("equal infinities") << std::vector<float>{-inf, 1} << std::vector<float>{-inf, 1.5} << false << false << qint64(1);
        QTest::newRow("empty") << std::vector<float>{} << std::vector<float>{} << true << true << qint64(0);
    }

    void identicalBytes()
    {
        QFETCH(std::vector<float>, a);
        QFETCH(std::vector<float>, b);
        QFETCH(bool, identical);
        QFETCH(bool, equal);
        QFETCH(qint64, differing);
        const qint64 n = static_cast<qint64>(a.size());
        Result<Comparison> comparison = compareTensors({reinterpret_cast<const uchar *>(a.data()), DType::Float32, n},
                                                       {reinterpret_cast<const uchar *>(b.data()), DType::Float32, n}, {}, true);
        QVERIFY(comparison.ok());
        QCOMPARE(comparison->pair.identical, identical);
        QCOMPARE(comparison->equal, equal);
        QCOMPARE(comparison->pair.differing, differing);
        QCOMPARE(comparison->a->count, n);
        if (equal)
            QCOMPARE(comparison->pair.maxAbsDiff, 0.0);
        else
            QCOMPARE(comparison->pair.maxAbsDiff, 0.5); // -inf vs -inf is no difference; 1 vs 1.5 is
    }

    void sameFiguresOnAnyNumberOfThreads()
    {
        // Chunks are merged in order: 2, 3 or 4 threads give the one-thread figures bit for bit.
        const Checkpoint checkpoint = open(m_synthetic);
        Result<TensorBytes> a = checkpoint.read(checkpoint.indexOf(QStringLiteral("a")));
        Result<TensorBytes> c = checkpoint.read(checkpoint.indexOf(QStringLiteral("c")));
        Result<TensorBytes> half = checkpoint.read(checkpoint.indexOf(QStringLiteral("half")));
        QVERIFY(a.ok() && c.ok() && half.ok());
        const TensorData x = dataOf(*a, checkpoint.tensors()[static_cast<size_t>(checkpoint.indexOf(QStringLiteral("a")))]);
        const TensorData y = dataOf(*c, checkpoint.tensors()[static_cast<size_t>(checkpoint.indexOf(QStringLiteral("c")))]);
        const TensorData h = dataOf(*half, checkpoint.tensors()[static_cast<size_t>(checkpoint.indexOf(QStringLiteral("half")))]);
        const auto bitsOf = [](double v) {
            quint64 bits;
            std::memcpy(&bits, &v, 8);
            return bits;
        };
        const auto statisticsText = [&](const TensorStatistics &s) {
            QStringList parts;
            for (double v : {s.mean, s.std, s.min, s.max, s.l2, s.maxAbs, s.zeroFraction})
                parts << QString::number(bitsOf(v), 16);
            parts << QString::number(s.count) << QString::number(s.finite) << QString::number(s.zeros) << QString::number(s.nan)
                  << QString::number(s.inf);
            for (qint64 count : s.histogram.value_or(Histogram{}).counts)
                parts << QString::number(count);
            return parts.join(QLatin1Char(' '));
        };
        const auto comparisonText = [&](const Comparison &comparison) {
            const PairStatistics &p = comparison.pair;
            QStringList parts;
            for (double v : {p.maxAbsDiff, p.meanAbsDiff, p.rmsDiff, p.relL2, p.cosine})
                parts << QString::number(bitsOf(v), 16);
            parts << QString::number(p.differing) << QString::number(p.allclose);
            for (qint64 count : p.diffHistogram.value_or(Histogram{}).counts)
                parts << QString::number(count);
            return parts.join(QLatin1Char(' ')) + QStringLiteral(" | ") + statisticsText(*comparison.a) + QStringLiteral(" | ")
                 + statisticsText(*comparison.b);
        };
        QStringList reference;
        for (int threads : {1, 2, 3, 4}) {
            StatisticsOptions options;
            options.threads = threads;
            options.bins = 16; // automatic range: the second pass runs on the threads too
            qint64 lastDone = 0;
            options.progress = [&lastDone](qint64 done, qint64 total) {
                if (done <= lastDone || done > total)
                    return false; // progress must move forward and stay within the total
                lastDone = done;
                return true;
            };
            QStringList figures;
            Result<TensorStatistics> single = tensorStatistics(x, options);
            QVERIFY(single.ok());
            QCOMPARE(lastDone, 2 * kSyntheticValues);
            figures << statisticsText(*single);
            lastDone = 0;
            Result<Comparison> pair = compareTensors(x, y, Tolerance{1e-5, 1e-8}, true, options);
            QVERIFY(pair.ok());
            figures << comparisonText(*pair);
            lastDone = 0;
            Result<Comparison> mixed = compareTensors(h, x, Tolerance{}, true, options);
            QVERIFY(mixed.ok());
            figures << comparisonText(*mixed);
            if (threads == 1)
                reference = figures;
            else
                QCOMPARE(figures, reference);
        }
        QVERIFY(reference[1].contains(QLatin1Char('|'))); // the comparison ran with statistics
    }

    // A record's CRC-32 check folded into the comparison's pass: the CRC of every byte of each
    // side that asked for it, equal to zlib's over the whole tensor, on any number of threads,
    // for sides of different widths (float16 against float32) and on the identical-bytes path.
    void checksumsOfTheBytesRead()
    {
        const Checkpoint checkpoint = open(m_synthetic);
        const auto dataAt = [&](const char *key, Result<TensorBytes> &bytes) {
            const int index = checkpoint.indexOf(QLatin1String(key));
            bytes = checkpoint.read(index);
            TensorData data = dataOf(*bytes, checkpoint.tensors()[static_cast<size_t>(index)]);
            data.checksum = true;
            return data;
        };
        Result<TensorBytes> a = Error{}, c = Error{}, half = Error{};
        const TensorData x = dataAt("a", a), y = dataAt("c", c), h = dataAt("half", half);
        QVERIFY(a.ok() && c.ok() && half.ok());
        const auto zlibCrc = [](const TensorBytes &bytes) {
            return quint32(::crc32(0, reinterpret_cast<const Bytef *>(bytes.data()), uInt(bytes.size())));
        };
        QVERIFY(x.numel > 2 * 65536); // several chunks, joined in order
        for (int threads : {1, 2, 3}) {
            StatisticsOptions options;
            options.threads = threads;
            Result<Comparison> pair = compareTensors(x, y, Tolerance{}, false, options);
            QVERIFY(pair.ok() && !pair->pair.identical);
            QCOMPARE(pair->crcA, std::optional<quint32>(zlibCrc(*a)));
            QCOMPARE(pair->crcB, std::optional<quint32>(zlibCrc(*c)));
            Result<Comparison> mixed = compareTensors(h, x, Tolerance{}, true, options);
            QVERIFY(mixed.ok());
            QCOMPARE(mixed->crcA, std::optional<quint32>(zlibCrc(*half)));
            QCOMPARE(mixed->crcB, std::optional<quint32>(zlibCrc(*a)));
            Result<Comparison> same = compareTensors(x, x, Tolerance{}, true, options);
            QVERIFY(same.ok() && same->pair.identical);
            QCOMPARE(same->crcA, std::optional<quint32>(zlibCrc(*a)));
            QCOMPARE(same->crcB, std::optional<quint32>(zlibCrc(*a)));
        }
        // Not asked for: not computed.
        TensorData plain = x;
        plain.checksum = false;
        Result<Comparison> none = compareTensors(plain, y, Tolerance{}, false);
        QVERIFY(none.ok());
        QVERIFY(!none->crcA.has_value());
        QCOMPARE(none->crcB, std::optional<quint32>(zlibCrc(*c)));
    }

    void progressAndCancel()
    {
        const Checkpoint checkpoint = open(m_synthetic);
        Result<TensorBytes> bytes = checkpoint.read(0);
        QVERIFY(bytes.ok());
        const TensorData data = dataOf(*bytes, checkpoint.tensors()[0]);
        StatisticsOptions options;
        options.bins = 4; // auto range: two passes, counted in the total
        std::vector<std::pair<qint64, qint64>> calls;
        options.progress = [&calls](qint64 done, qint64 total) {
            calls.emplace_back(done, total);
            return true;
        };
        QVERIFY(tensorStatistics(data, options).ok());
        QCOMPARE(calls.size(), size_t(8)); // 4 chunks per pass
        for (size_t k = 1; k < calls.size(); ++k)
            QVERIFY(calls[k].first > calls[k - 1].first);
        QCOMPARE(calls.back(), std::make_pair(2 * kSyntheticValues, 2 * kSyntheticValues));

        int seen = 0;
        options.progress = [&seen](qint64, qint64) { return ++seen < 2; };
        Result<TensorStatistics> cancelled = tensorStatistics(data, options);
        QVERIFY(!cancelled.ok());
        QCOMPARE(cancelled.error().message, QStringLiteral("cancelled"));
        QCOMPARE(seen, 2);
    }

    void complexOnlyWithComplex()
    {
        const Checkpoint checkpoint = open(fixture(QStringLiteral("dtypes.pth")));
        const int complex = checkpoint.indexOf(QStringLiteral("complex64")), real = checkpoint.indexOf(QStringLiteral("float32"));
        Result<TensorBytes> a = checkpoint.read(complex), b = checkpoint.read(real);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(valueCount(DType::Complex64, 12), qint64(24));
        Result<Comparison> comparison = compareTensors(dataOf(*a, checkpoint.tensors()[complex]), dataOf(*b, checkpoint.tensors()[real]), {}, false);
        QVERIFY(!comparison.ok());
        QCOMPARE(comparison.error().message, QStringLiteral("cannot compare 24 values of complex64 with 12 values of float32"));
    }
};

QTEST_GUILESS_MAIN(TestTensorStats)
#include "tst_tensorstats.moc"
