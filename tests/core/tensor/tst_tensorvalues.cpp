// Tensor values as numbers (core/tensor/tensorvalues): the inspector's histogram is the
// statistics' one (HistogramBuilder, numpy.histogram's binning), range and counts alike.

#include "tensor/tensorstats.h"
#include "tensor/tensorvalues.h"

#include <QTest>

#include <cmath>
#include <limits>
#include <vector>

using namespace graft;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

} // namespace

class TestTensorValues : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void histogramIsTheStatisticsHistogram_data();
    void histogramIsTheStatisticsHistogram();
    void valuesNextToAnEdgeStayOnTheirSide();
};

void TestTensorValues::histogramIsTheStatisticsHistogram_data()
{
    QTest::addColumn<std::vector<double>>("values");
    QTest::addColumn<int>("bins");
    QTest::addColumn<double>("lo"); // lo >= hi: the range comes from the data
    QTest::addColumn<double>("hi");
    std::vector<double> edges; // every edge of 64 bins over [-1, 1], and its neighbours
    for (int i = 0; i <= 64; ++i) {
        const double edge = -1.0 + i * (2.0 / 64);
        edges.insert(edges.end(), {std::nextafter(edge, -kInf), edge, std::nextafter(edge, kInf)});
    }
    std::vector<double> spread;
    for (int i = 0; i < 1000; ++i)
        spread.push_back(std::sin(i * 0.37) * std::exp(-(i % 17)) * 3.0);
    QTest::newRow("edges, fixed range") << edges << 64 << -1.0 << 1.0;
    QTest::newRow("edges, auto range") << edges << 64 << 0.0 << 0.0;
    QTest::newRow("tiny values around 0") << std::vector<double>{-1e-300, -5e-324, 0.0, 5e-324, 1e-300} << 64 << -1.0 << 1.0;
    QTest::newRow("spread, auto range") << spread << 7 << 0.0 << 0.0;
    QTest::newRow("spread, narrow range") << spread << 10 << -0.25 << 0.5;
    QTest::newRow("nan and inf are not counted") << std::vector<double>{kNaN, -kInf, 1.0, 2.0, kInf, 3.0} << 4 << 0.0 << 0.0;
    QTest::newRow("one value") << std::vector<double>{2.5, 2.5, 2.5} << 5 << 0.0 << 0.0;
    QTest::newRow("no finite value") << std::vector<double>{kNaN, kInf} << 3 << 0.0 << 0.0;
}

void TestTensorValues::histogramIsTheStatisticsHistogram()
{
    QFETCH(std::vector<double>, values);
    QFETCH(int, bins);
    QFETCH(double, lo);
    QFETCH(double, hi);
    StatisticsOptions options;
    options.bins = bins;
    options.lo = lo;
    options.hi = hi;
    const TensorData tensor{reinterpret_cast<const uchar *>(values.data()), DType::Float64, static_cast<qint64>(values.size())};
    Result<TensorStatistics> statistics = tensorStatistics(tensor, options);
    QVERIFY(statistics.ok());
    QVERIFY(statistics->histogram.has_value());

    double inspectorLo = lo;
    double inspectorHi = hi;
    const std::vector<qint64> counts = histogram(values, bins, &inspectorLo, &inspectorHi);
    QCOMPARE(inspectorLo, statistics->histogram->lo);
    QCOMPARE(inspectorHi, statistics->histogram->hi);
    QCOMPARE(counts, statistics->histogram->counts);
    qint64 counted = 0;
    for (qint64 count : counts)
        counted += count;
    QVERIFY(counted <= statistics->finite);
}

void TestTensorValues::valuesNextToAnEdgeStayOnTheirSide()
{
    // (v - lo) / width rounds -1e-300 + 1 up to 1, i.e. onto the edge at 0: numpy (and
    // HistogramBuilder) still count it left of 0, as np.histogram([-1e-300, 1e-300], 2, (-1, 1)).
    double lo = -1.0;
    double hi = 1.0;
    QCOMPARE(histogram({-1e-300, 1e-300}, 2, &lo, &hi), (std::vector<qint64>{1, 1}));
    // The top edge belongs to the last bin; values past either end are not counted.
    QCOMPARE(histogram({-1.5, -1.0, 1.0, 1.5}, 2, &lo, &hi), (std::vector<qint64>{1, 1}));
}

QTEST_GUILESS_MAIN(TestTensorValues)
#include "tst_tensorvalues.moc"
