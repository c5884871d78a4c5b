#pragma once
// The workbench window for GUI tests: opened on files and matched, shown offscreen, with its
// two panes found; and a helper that answers the next modal dialog from a timer.

#include "checkpointtreemodel.h"
#include "keyfilterproxymodel.h"
#include "keypane.h"
#include "mainwindow.h"

#include <QApplication>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

namespace graft::test {

inline QString exampleFile(const char *name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }

inline ui::CheckpointTreeModel *treeModel(ui::KeyPane *pane) { return qobject_cast<ui::CheckpointTreeModel *>(pane->proxy()->sourceModel()); }

struct Workbench {
    std::unique_ptr<ui::MainWindow> window;
    ui::KeyPane *source = nullptr;
    ui::KeyPane *target = nullptr;

    ~Workbench()
    {
        if (window)
            window->document()->undoStack()->setClean(); // no "unsaved edits" question at the end of a test
    }

    /// Waits until every background job finished.
    bool waitIdle()
    {
        QSignalSpy idle(window.get(), &ui::MainWindow::idle);
        while (window->isBusy()) {
            if (!idle.wait(60000))
                return false;
        }
        return true;
    }
};

/// Opens `source` and `target` in a new window and waits for the automatic match. The source
/// pane is the one whose tree holds `sourceKey`. `expand`: expand both trees fully afterwards
/// (which also repaints them).
inline void openWorkbench(Workbench &bench, const QString &source, const QString &target, const QString &sourceKey, bool expand = true)
{
    bench.window = std::make_unique<ui::MainWindow>();
    bench.window->resize(1400, 900);
    bench.window->show();
    QVERIFY(QTest::qWaitForWindowExposed(bench.window.get()));
    QSignalSpy idle(bench.window.get(), &ui::MainWindow::idle);
    bench.window->openSource(source, true);
    bench.window->openTarget(target, true);
    while (bench.window->isBusy() || idle.isEmpty())
        QVERIFY(idle.wait(60000));
    for (ui::KeyPane *pane : bench.window->findChildren<ui::KeyPane *>())
        (treeModel(pane)->indexOfKey(sourceKey).isValid() ? bench.source : bench.target) = pane;
    QVERIFY(bench.source && bench.target && bench.source != bench.target);
    if (expand) {
        bench.source->view()->expandAll();
        bench.target->view()->expandAll();
    }
}

/// The bundled example (tiny_vgg.pth onto its Equinox skeleton).
inline void openExample(Workbench &bench, bool expand = true)
{
    openWorkbench(bench, exampleFile("tiny_vgg.pth"), exampleFile("tiny_vgg.skeleton.json"), QStringLiteral("features.0.weight"), expand);
}

/// Calls `answer` with the next modal dialog once it shows (polled from a timer, so it also
/// answers a dialog opened inside an event handler). Delete the timer returned to stop waiting.
inline QTimer *answerNextDialog(std::function<void(QWidget *)> answer)
{
    auto *timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, [timer, answer = std::move(answer)] {
        if (QWidget *modal = QApplication::activeModalWidget()) {
            timer->stop();
            timer->deleteLater();
            answer(modal);
        }
    });
    timer->start();
    return timer;
}

/// Clicks `key`'s row in `pane` by its name (the mouse on the name column) and returns where.
inline QPoint clickKey(ui::KeyPane *pane, const QString &key, Qt::KeyboardModifiers modifiers = Qt::NoModifier)
{
    const QModelIndex index = pane->proxy()->mapFromSource(treeModel(pane)->indexOfKey(key));
    pane->view()->scrollTo(index);
    const QRect rect = pane->view()->visualRect(index);
    const QPoint at(rect.left() + 12, rect.center().y());
    QTest::mouseClick(pane->view()->viewport(), Qt::LeftButton, modifiers, at);
    return at;
}

} // namespace graft::test
