// What the workbench shows and how it answers the keyboard, offscreen, driven through its
// widgets: the trees are up to date right after opening (what the window painted equals a
// fresh paint), quitting with unsaved edits asks, Tab moves between panes in one press.

#include "keytreeview.h"
#include "mappingdocument.h"
#include "mappingtableview.h"
#include "workbenchwindow.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QUndoStack>

using namespace graft;
using namespace graft::ui;
using namespace graft::test;

class TestWorkbenchScreen : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void treesArePaintedUpToDateAfterOpening();
    void quittingWithUnsavedEditsAsks();
    void quittingRightAfterOpeningDoesNotAsk();
    void tabMovesBetweenPanesInOnePress();
};

// The window paints on opening the source (no target yet: no "Used by", 0 / 2), then gets the
// match. What it shows afterwards must be the mapped state, at every depth of the tree, not
// just the top-level rows the model reported as changed.
void TestWorkbenchScreen::treesArePaintedUpToDateAfterOpening()
{
    Workbench bench;
    openExample(bench, false); // as the window left them: expanding would repaint everything
    QTest::qWait(50);
    // The mapped state is in the model...
    const QModelIndex leaf = treeModel(bench.source)->indexOfKey(QStringLiteral("classifier.0.weight"));
    QVERIFY(leaf.isValid());
    QVERIFY(leaf.siblingAtColumn(CheckpointTreeModel::StatusColumn).data().toString().startsWith(QStringLiteral("→ ")));
    // ...and on screen: the window's backing store (what was painted) equals a fresh paint.
    for (KeyPane *pane : {bench.source, bench.target}) {
        QWidget *viewport = pane->view()->viewport();
        const QImage fresh = viewport->grab().toImage().convertToFormat(QImage::Format_RGB32);
        const QPoint at = viewport->mapTo(bench.window.get(), QPoint(0, 0));
        const QImage shown = bench.window->screen()
                                 ->grabWindow(bench.window->winId(), at.x(), at.y(), viewport->width(), viewport->height())
                                 .toImage()
                                 .convertToFormat(QImage::Format_RGB32);
        QCOMPARE(shown.size(), fresh.size());
        int differing = 0;
        for (int y = 0; y < fresh.height(); ++y)
            for (int x = 0; x < fresh.width(); ++x)
                differing += shown.pixel(x, y) != fresh.pixel(x, y) ? 1 : 0;
        if (differing != 0) {
            QTemporaryDir keep;
            keep.setAutoRemove(false);
            shown.save(keep.filePath(QStringLiteral("shown.png")));
            fresh.save(keep.filePath(QStringLiteral("fresh.png")));
            QFAIL(qPrintable(QStringLiteral("%1 pixels of the %2 tree are stale (see %3)")
                                 .arg(differing)
                                 .arg(pane == bench.source ? QStringLiteral("source") : QStringLiteral("target"), keep.path())));
        }
    }
}

// Unmap a target from the keyboard, then quit: the question comes; Cancel keeps the window,
// Save asks where and writes the profile, then the window closes.
void TestWorkbenchScreen::quittingWithUnsavedEditsAsks()
{
    Workbench bench;
    openExample(bench);
    const QString target = QStringLiteral(".features[0].weight");
    clickKey(bench.target, target);
    QTest::keyClick(bench.target->view(), Qt::Key_Delete);
    QCOMPARE(bench.window->document()->undoStack()->undoText(), QStringLiteral("Unmap ") + target);

    QString question;
    answerNextDialog([&](QWidget *modal) {
        auto *box = qobject_cast<QMessageBox *>(modal);
        QVERIFY(box);
        question = box->text() + QLatin1Char('\n') + box->informativeText();
        QTest::mouseClick(box->button(QMessageBox::Cancel), Qt::LeftButton);
    });
    QVERIFY(!bench.window->close()); // what File › Quit does (its keys differ by platform)
    QVERIFY2(question.contains(QStringLiteral("1 edit that is not saved")) && question.contains(QStringLiteral("Unmap ") + target), qPrintable(question));
    QVERIFY(bench.window->isVisible()); // cancelled: still open, the edit still there
    QCOMPARE(bench.window->document()->undoStack()->undoText(), QStringLiteral("Unmap ") + target);

    // Save: the file dialog asks for the profile's path; the profile is written; the window closes.
    QTemporaryDir dir;
    const QString profile = dir.filePath(QStringLiteral("tiny_vgg.graft.json")); // the name the window proposes
    QString chosen;
    answerNextDialog([&](QWidget *modal) {
        auto *box = qobject_cast<QMessageBox *>(modal);
        QVERIFY(box);
        answerNextDialog([&](QWidget *next) {
            auto *files = qobject_cast<QFileDialog *>(next);
            QVERIFY(files);
            files->selectFile(profile);
            chosen = files->selectedFiles().value(0);
            static_cast<QDialog *>(files)->accept(); // QFileDialog::accept() is protected
        });
        QTest::mouseClick(box->button(QMessageBox::Save), Qt::LeftButton);
    });
    QVERIFY(bench.window->close());
    QVERIFY(!bench.window->isVisible());
    QCOMPARE(chosen, profile);
    QCOMPARE(bench.window->statusBar()->currentMessage(), QStringLiteral("Saved profile ") + profile);
    QVERIFY(QFileInfo(profile).size() > 0);
    QFile saved(profile);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QVERIFY(saved.readAll().contains(target.toUtf8())); // the unmapped target is in the profile
    QVERIFY(bench.window->document()->undoStack()->isClean());
}

void TestWorkbenchScreen::quittingRightAfterOpeningDoesNotAsk()
{
    Workbench bench;
    openExample(bench);
    // Opening and its automatic match are no edits: closing asks nothing.
    bool asked = false;
    QTimer *watching = answerNextDialog([&](QWidget *modal) {
        asked = true;
        modal->close();
    });
    QVERIFY(bench.window->close());
    QVERIFY(!bench.window->isVisible());
    QTest::qWait(100);
    QVERIFY(!asked);
    delete watching;

    // An edit undone is no edit either; Discard closes without saving.
    Workbench second;
    openExample(second);
    clickKey(second.target, QStringLiteral(".features[2].bias"));
    QTest::keyClick(second.target->view(), Qt::Key_Delete);
    QTest::keyClick(second.target->view(), Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(second.window->document()->undoStack()->isClean());
    QTest::keyClick(second.target->view(), Qt::Key_Delete);
    answerNextDialog([&](QWidget *modal) {
        auto *box = qobject_cast<QMessageBox *>(modal);
        QVERIFY(box);
        QTest::mouseClick(box->button(QMessageBox::Discard), Qt::LeftButton);
    });
    QVERIFY(second.window->close());
    QVERIFY(!second.window->isVisible());
}

// One Tab from the source tree reaches the target tree, the next the mapping table; Shift+Tab
// goes back the same way (the filter lines are reached with Ctrl+F).
void TestWorkbenchScreen::tabMovesBetweenPanesInOnePress()
{
    Workbench bench;
    openExample(bench);
    QApplication::setActiveWindow(bench.window.get());
    QVERIFY(QTest::qWaitForWindowActive(bench.window.get()));
    auto *table = bench.window->findChild<MappingTableView *>();
    QVERIFY(table);
    clickKey(bench.source, QStringLiteral("features.0.weight"));
    QCOMPARE(QApplication::focusWidget(), bench.source->view());
    const auto press = [](Qt::KeyboardModifiers modifiers) {
        QTest::keyClick(QApplication::focusWidget(), modifiers & Qt::ShiftModifier ? Qt::Key_Backtab : Qt::Key_Tab, modifiers);
    };
    press(Qt::NoModifier);
    QCOMPARE(QApplication::focusWidget(), bench.target->view());
    press(Qt::NoModifier);
    QCOMPARE(QApplication::focusWidget(), table);
    press(Qt::ShiftModifier);
    QCOMPARE(QApplication::focusWidget(), bench.target->view());
    press(Qt::ShiftModifier);
    QCOMPARE(QApplication::focusWidget(), bench.source->view());
    // Ctrl+F still reaches the filter line of the pane with the focus, and Tab leaves it for the tree.
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_F, Qt::ControlModifier);
    QVERIFY(qobject_cast<QLineEdit *>(QApplication::focusWidget()));
    press(Qt::NoModifier);
    QCOMPARE(QApplication::focusWidget(), bench.source->view());
}

QTEST_MAIN(TestWorkbenchScreen)
#include "tst_workbenchscreen.moc"
