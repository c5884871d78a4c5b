// The workbench's background work, in the real window offscreen: a late result never wins over
// a newer one (two files opened quickly into one pane; a match computed for files replaced
// since), and the inspector reads tensor values off the GUI thread, never showing a stale read.

#include "automatchdialog.h"
#include "checkpoint/checkpointopener.h"
#include "inspectorwidget.h"
#include "jobprogress.h"
#include "keytreeview.h"
#include "mappingdocument.h"
#include "paneloader.h"
#include "tensor/tensorvalues.h"
#include "manykeys.h"
#include "workbenchwindow.h"

#include <QDialog>
#include <QElapsedTimer>
#include <QThread>
#include <QtConcurrent>
#include <QFile>
#include <QLabel>
#include <QTemporaryDir>

using namespace graft;
using namespace graft::ui;
using namespace graft::test;

namespace {

QString valuesText(InspectorWidget *inspector) { return inspector->findChild<QLabel *>(QStringLiteral("inspectorValues"))->text(); }

} // namespace

class TestBackgroundWork : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void newerOpenOfAPaneWinsOverASlowerOlderOne();
    void matchForReplacedFilesIsNotApplied();
    void inspectorReadsValuesInTheBackground();
    void cancelStopsTheWorkerAndNoWidgetIsReadFromIt();

private:
    QTemporaryDir m_dir;
};

void TestBackgroundWork::initTestCase() { QVERIFY(m_dir.isValid()); }

void TestBackgroundWork::newerOpenOfAPaneWinsOverASlowerOlderOne()
{
    const QString slow = m_dir.filePath(QStringLiteral("slow.safetensors"));
    QVERIFY(writeManyKeys(slow, 300000, QStringLiteral("blocks"))); // a 14 MB header to parse
    const QString fast = exampleFile("tiny_vgg.pth");
    Workbench bench;
    bench.window = std::make_unique<MainWindow>();
    bench.window->show();
    QVERIFY(QTest::qWaitForWindowExposed(bench.window.get()));
    bench.window->openSource(slow, true);
    bench.window->openSource(fast, true); // the user changed their mind: this one counts
    QVERIFY(bench.waitIdle());
    QCOMPARE(bench.window->sourcePath(), fast);
    QVERIFY(bench.window->document()->source());
    QCOMPARE(bench.window->document()->source()->path(), fast);
    QCOMPARE(bench.window->document()->source()->tensors().size(), openCheckpoint(fast)->tensors().size());
    // The slow file's result arrived after the fast one and was dropped.
    QCOMPARE(bench.window->findChild<PaneLoader *>()->droppedResults(), 1);
    bool headerNamesTheFastFile = false;
    for (QLabel *label : bench.window->findChildren<QLabel *>())
        headerNamesTheFastFile = headerNamesTheFastFile || label->text().contains(QStringLiteral("<b>Source</b> tiny_vgg.pth"));
    QVERIFY(headerNamesTheFastFile);
}

// Auto-match (Ctrl+M, the dialog accepted) on two big files, then a small target opened before
// the match finished: the match computed for the big target must not replace the mapping of the
// small one, not even for a moment.
void TestBackgroundWork::matchForReplacedFilesIsNotApplied()
{
    const QString bigSource = m_dir.filePath(QStringLiteral("big_source.safetensors"));
    const QString bigTarget = m_dir.filePath(QStringLiteral("big_target.safetensors"));
    QVERIFY(writeManyKeys(bigSource, 60000, QStringLiteral("encoder.layers")));
    QVERIFY(writeManyKeys(bigTarget, 60000, QStringLiteral("model.layers")));
    Workbench bench;
    openWorkbench(bench, bigSource, bigTarget, QStringLiteral("encoder.layers.0.w"));
    MappingDocument *document = bench.window->document();
    QCOMPARE(document->result().mappings.size(), size_t(60000));

    int foreign = 0; // results applied whose targets are not the open target's
    connect(document, &MappingDocument::resultReset, this, [&] {
        for (const Mapping &m : document->result().mappings) {
            if (document->target()->indexOf(m.target) < 0) {
                ++foreign;
                return;
            }
        }
    });
    answerNextDialog([](QWidget *modal) {
        QVERIFY(qobject_cast<AutoMatchDialog *>(modal));
        qobject_cast<QDialog *>(modal)->accept();
    });
    QTest::keyClick(bench.window.get(), Qt::Key_M, Qt::ControlModifier);
    QVERIFY(bench.window->isBusy()); // matching 60k keys
    bench.window->openTarget(exampleFile("tiny_vgg.skeleton.json"), true);
    QVERIFY(bench.waitIdle());
    QCOMPARE(foreign, 0);
    QCOMPARE(document->target()->path(), exampleFile("tiny_vgg.skeleton.json"));
    QCOMPARE(document->result().mappings.size(), document->target()->tensors().size());
    QVERIFY(bench.window->findChild<PaneLoader *>()->droppedResults() >= 1);
    // And the stale match was stopped at its next pass, not run to its end.
    QVERIFY(bench.window->findChild<PaneLoader *>()->stoppedMatches() >= 1);
}

void TestBackgroundWork::inspectorReadsValuesInTheBackground()
{
    Workbench bench;
    openExample(bench);
    auto *inspector = bench.window->findChild<InspectorWidget *>();
    QVERIFY(inspector);
    const Checkpoint &target = *bench.window->document()->target();
    const auto firstValue = [&](const QString &key) {
        Result<std::vector<double>> values = tensorValues(target, target.indexOf(key), 1);
        return values && !values->empty() ? QString::number(values->front(), 'g', 5) : QStringLiteral("?");
    };

    // A click shows the leaf at once; its values come from a background read.
    QSignalSpy shown(inspector, &InspectorWidget::valuesShown);
    clickKey(bench.target, QStringLiteral(".features[0].weight"));
    QCOMPARE(inspector->currentTarget(), QStringLiteral(".features[0].weight"));
    QVERIFY2(valuesText(inspector).contains(QStringLiteral("reading values")), qPrintable(valuesText(inspector)));
    QVERIFY(shown.wait(10000));
    QVERIFY2(valuesText(inspector).contains(QStringLiteral("target (initial): ") + firstValue(QStringLiteral(".features[0].weight"))),
             qPrintable(valuesText(inspector)));
    QVERIFY(valuesText(inspector).contains(QStringLiteral("source: ")));

    // Two clicks in a row: only the second selection's values are ever shown.
    shown.clear();
    clickKey(bench.target, QStringLiteral(".classifier[0].weight"));
    clickKey(bench.target, QStringLiteral(".features[5].bias"));
    QVERIFY(shown.wait(10000));
    QTest::qWait(200); // the first read, had it not been dropped, would have landed by now
    QCOMPARE(shown.size(), 1);
    const QString expected = QStringLiteral("target (initial): ") + firstValue(QStringLiteral(".features[5].bias"));
    QVERIFY2(valuesText(inspector).contains(expected), qPrintable(valuesText(inspector) + QStringLiteral(" / ") + expected));
}

// What the diff window and Combine & Save give their core work: a callback that stores progress
// for the GUI to poll and says stop once cancelled. A job that would run for minutes stops at its
// next unit; a second job started meanwhile is unaffected by the first one's cancellation.
void TestBackgroundWork::cancelStopsTheWorkerAndNoWidgetIsReadFromIt()
{
    JobProgress progress;
    QSignalSpy progressed(&progress, &JobProgress::progressed);
    const auto work = [](ProgressCallback callback) {
        constexpr qint64 total = 600'000; // 1 ms each: ten minutes unless cancelled
        for (qint64 done = 1; done <= total; ++done) {
            QThread::msleep(1);
            if (!callback(done, total))
                return done;
        }
        return total;
    };
    QFuture<qint64> first = QtConcurrent::run(work, progress.start());
    QTRY_VERIFY(!progressed.isEmpty() && progressed.last().at(0).toLongLong() > 0); // polled on this thread
    QElapsedTimer clock;
    clock.start();
    QFuture<qint64> second = QtConcurrent::run(work, progress.start()); // cancels the first
    first.waitForFinished();
    QVERIFY(clock.elapsed() < 5000);
    QVERIFY(first.result() < 600'000);
    QVERIFY(!second.isFinished()); // its own state: still running
    progress.cancel();
    second.waitForFinished();
    QVERIFY(second.result() < 600'000);
    progress.finish();
}

QTEST_MAIN(TestBackgroundWork)
#include "tst_backgroundwork.moc"
