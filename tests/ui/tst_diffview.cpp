// The visual diff: its table model, the heat-map pooling, and the window on real files.

#include "mapping/automatcher.h"
#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "mapping/conversionplan.h"
#include "difftablemodel.h"
#include "diffwindow.h"
#include "tensor/heatmap.h"
#include "heatmapwidget.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace graft;
using namespace graft::ui;

namespace {

QString example(const char *name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }

void waitUntilIdle(DiffWindow &window)
{
    QSignalSpy idle(&window, &DiffWindow::idle);
    do {
        QVERIFY(idle.wait(20000));
    } while (window.isBusy());
}

} // namespace

class TestDiffView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void heatMapKeepsSpikesWhenPooling();
    void heatMapLaysOutConvKernelsAndVectors();
    void colourMapIsDivergingAroundZero();
    void tableModelPassesTheTesterAndOrdersByDifference();
    void windowComparesTwoFilesAndTakesAScreenshot();
    void windowClosesFromTheKeyboard();
    void sourceAgainstConvertedFileThroughTheMappingIsEqual_data();
    void sourceAgainstConvertedFileThroughTheMappingIsEqual();
};

void TestDiffView::heatMapKeepsSpikesWhenPooling()
{
    // 100 x 100 zeros with one spike of -7 at (42, 77): pooled to 10 x 10, the spike survives.
    std::vector<float> values(100 * 100, 0.0f);
    values[42 * 100 + 77] = -7.0f;
    values[3 * 100 + 5] = 0.5f;
    const HeatMapGrid grid = heatMapGrid(reinterpret_cast<const uchar *>(values.data()), DType::Float32, nullptr, DType::Float32,
                                         {100, 100}, 10, 10);
    QCOMPARE(grid.gridRows, 10);
    QCOMPARE(grid.gridColumns, 10);
    QCOMPARE(grid.blockRows, qint64(10));
    QCOMPARE(grid.values[4 * 10 + 7], -7.0);
    QCOMPARE(grid.values[0], 0.5);
    QCOMPARE(grid.maxAbs, 7.0);
    // The difference grid of a and b.
    std::vector<float> other = values;
    other[42 * 100 + 77] = -6.0f;
    const HeatMapGrid diff = heatMapGrid(reinterpret_cast<const uchar *>(values.data()), DType::Float32,
                                         reinterpret_cast<const uchar *>(other.data()), DType::Float32, {100, 100}, 10, 10);
    QCOMPARE(diff.values[4 * 10 + 7], -1.0);
    QCOMPARE(diff.maxAbs, 1.0);
}

void TestDiffView::heatMapLaysOutConvKernelsAndVectors()
{
    QCOMPARE(heatMapLayout({64, 3, 3, 3}), (std::pair<qint64, qint64>(64, 27)));
    QCOMPARE(heatMapLayout({10}), (std::pair<qint64, qint64>(1, 10)));
    QCOMPARE(heatMapLayout({}), (std::pair<qint64, qint64>(1, 1)));
    QCOMPARE(heatMapLayout({32, 64}), (std::pair<qint64, qint64>(32, 64)));
}

void TestDiffView::colourMapIsDivergingAroundZero()
{
    QCOMPARE(HeatMapWidget::colorFor(0.0, 1.0), qRgb(255, 255, 255));
    QCOMPARE(HeatMapWidget::colorFor(1.0, 1.0), qRgb(0xb2, 0x18, 0x2b));
    QCOMPARE(HeatMapWidget::colorFor(-5.0, 1.0), qRgb(0x21, 0x66, 0xac)); // clamped
    QVERIFY(qRed(HeatMapWidget::colorFor(0.5, 1.0)) > qBlue(HeatMapWidget::colorFor(0.5, 1.0)));
}

void TestDiffView::tableModelPassesTheTesterAndOrdersByDifference()
{
    DiffTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Result<Checkpoint> a = openCheckpoint(example("tiny_vgg.pth"));
    Result<Checkpoint> b = openCheckpoint(QStringLiteral(GRAFT_FIXTURE_DIR "/mapping/tiny_vgg_plain.pth"));
    QVERIFY(a.ok() && b.ok());
    Result<CheckpointDiff> diff = diffCheckpoints(*a, *b);
    QVERIFY(diff.ok());
    model.setDiff(*diff);
    QCOMPARE(model.rowCount(), 12);
    // Rows come largest relative difference first.
    double previous = std::numeric_limits<double>::infinity();
    for (int row = 0; row < model.rowCount(); ++row) {
        const double rel = model.index(row, DiffTableModel::RelL2Column).data(DiffTableModel::SortRole).toDouble();
        QVERIFY(rel <= previous);
        previous = rel;
        QCOMPARE(model.index(row, DiffTableModel::EqualColumn).data().toString(), QStringLiteral("no"));
    }
}

void TestDiffView::windowComparesTwoFilesAndTakesAScreenshot()
{
    DiffWindow window;
    window.resize(1400, 900);
    window.show();
    window.compareFiles(example("tiny_vgg.pth"), QStringLiteral(GRAFT_FIXTURE_DIR "/mapping/tiny_vgg_plain.pth"));
    waitUntilIdle(window);
    QCOMPARE(window.model()->rowCount(), 12);
    window.selectKey(QStringLiteral("classifier.0.weight"));
    waitUntilIdle(window);
    const QImage image = window.grab().toImage();
    QTemporaryDir dir;
    QVERIFY(image.save(dir.filePath(QStringLiteral("diff.png"))));
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 5)
        for (int x = image.width() / 2; x < image.width(); x += 5)
            colours.insert(image.pixel(x, y));
    QVERIFY2(colours.size() > 40, "the heat maps and charts should paint many colours");
}

void TestDiffView::windowClosesFromTheKeyboard()
{
    DiffWindow window;
    for (const QKeySequence &keys : {QKeySequence(Qt::Key_Escape), QKeySequence(Qt::CTRL | Qt::Key_W)}) {
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(window.isVisible());
        QTest::keySequence(&window, keys);
        QTRY_VERIFY2(!window.isVisible(), qPrintable(keys.toString()));
    }
}

void TestDiffView::sourceAgainstConvertedFileThroughTheMappingIsEqual_data()
{
    // A bare .eqx names its records [0], [1], ... in the target's leaf order. The window must
    // find each mapping's record through the mapping's target key: a mapping result whose
    // entries come in another order (here reversed) still describes the same conversion, so the
    // converted file is identical to its source everywhere. (Pairing the i-th mapping with the
    // i-th record instead compares .features[0].weight with the last leaf.)
    QTest::addColumn<bool>("reversed");
    QTest::newRow("mappings in target order") << false;
    QTest::newRow("mappings in another order") << true;
}

void TestDiffView::sourceAgainstConvertedFileThroughTheMappingIsEqual()
{
    QFETCH(bool, reversed);
    Result<Checkpoint> source = openCheckpoint(example("tiny_vgg.pth"));
    Result<Checkpoint> target = openCheckpoint(example("tiny_vgg.skeleton.json"));
    QVERIFY(source.ok() && target.ok());
    MappingResult mapping = matchCheckpoints(*source, *target, {});
    Result<ConversionPlan> plan = planConversion(*source, *target, mapping, false);
    QVERIFY(plan.ok());
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("out.eqx"));
    WriteOptions options;
    options.format = OutputFormat::Eqx;
    QVERIFY(writeCheckpoint(out, plan->leaves, options).ok());
    if (reversed) {
        const QString first = mapping.mappings.front().target;
        std::reverse(mapping.mappings.begin(), mapping.mappings.end());
        mapping = MappingResult(mapping); // a copy: no index of the old order survives
        QVERIFY(mapping.mappings.front().target != first);
    }

    DiffWindow window;
    window.compareThroughMapping(*source, *target, mapping, out);
    waitUntilIdle(window);
    QCOMPARE(window.model()->rowCount(), 12); // every mapped leaf compared
    for (int row = 0; row < window.model()->rowCount(); ++row)
        QCOMPARE(window.model()->index(row, DiffTableModel::EqualColumn).data().toString(), QStringLiteral("identical"));
}

QTEST_MAIN(TestDiffView)
#include "tst_diffview.moc"
