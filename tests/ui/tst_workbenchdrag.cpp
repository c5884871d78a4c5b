// Dragging source keys onto the target tree of the real window, offscreen: rows picked with
// the mouse, the drag data made by the view's model as QAbstractItemView::startDrag makes it,
// the drag enter / move / drop events sent to the target viewport as a real drag sends them.
// A drag over a group computes its fit once; a forced (Shift) drop of an incompatible key asks
// after the drop, not inside it; a source dropped on a second target says it feeds both; the
// picture that follows the cursor leaves the row under it (and its fit colour) visible.

#include "keytreeview.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "problemsmodel.h"
#include "workbenchwindow.h"

#include <QDrag>
#include <QDropEvent>
#include <QMouseEvent>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QPointer>
#include <QStatusBar>
#include <QUndoStack>

using namespace graft;
using namespace graft::ui;
using namespace graft::test;

namespace {

std::unique_ptr<QMimeData> dragData(KeyPane *pane)
{
    return std::unique_ptr<QMimeData>(pane->view()->model()->mimeData(pane->view()->selectionModel()->selectedIndexes()));
}

QPoint centreOf(KeyPane *pane, const QModelIndex &modelIndex)
{
    const QModelIndex index = pane->proxy()->mapFromSource(modelIndex);
    pane->view()->scrollTo(index);
    return pane->view()->visualRect(index).center();
}

// Enters the target viewport, moves over `over` `moves` times (a pixel apart, as the mouse
// does) and drops. Returns whether the last move was accepted.
bool dragOnto(KeyPane *pane, const QModelIndex &over, const QMimeData *data, int moves, Qt::KeyboardModifiers modifiers = Qt::NoModifier)
{
    const QPoint at = centreOf(pane, over);
    const Qt::DropActions actions = Qt::CopyAction | Qt::LinkAction;
    QDragEnterEvent enter(at, actions, data, Qt::LeftButton, modifiers);
    QApplication::sendEvent(pane->view()->viewport(), &enter);
    bool accepted = false;
    for (int i = 0; i < moves; ++i) {
        QDragMoveEvent move(at + QPoint(i % 3, 0), actions, data, Qt::LeftButton, modifiers);
        QApplication::sendEvent(pane->view()->viewport(), &move);
        accepted = move.isAccepted();
    }
    QDropEvent drop(QPointF(at), actions, data, Qt::LeftButton, modifiers);
    QApplication::sendEvent(pane->view()->viewport(), &drop);
    return accepted;
}

const Mapping &mappingOf(const MappingDocument &document, const QString &target)
{
    return document.result().mappings[static_cast<size_t>(document.mappingIndex(target))];
}

} // namespace

class TestWorkbenchDrag : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dragOverAGroupMatchesTheSubtreeOnce();
    void forcedDropAsksAfterTheDrop();
    void sourceOnASecondTargetFeedsBothAndSaysSo();
    void dragPictureLeavesTheRowUnderTheCursorVisible();
};

void TestWorkbenchDrag::dragOverAGroupMatchesTheSubtreeOnce()
{
    Workbench bench;
    openExample(bench);
    MappingDocument *document = bench.window->document();
    std::vector<Mapping> kept;
    for (const Mapping &m : document->result().mappings)
        kept.push_back(document->keptMapping(m.target));
    document->undoStack()->push(new SetMappingsCommand(document, QStringLiteral("unmap all"), kept));

    // The source group `classifier`, by a click on its row, over the target group `classifier`.
    const QModelIndex sourceGroup = treeModel(bench.source)->indexOfKey(QStringLiteral("classifier.0.weight")).parent().parent();
    const QModelIndex targetGroup = treeModel(bench.target)->indexOfKey(QStringLiteral(".classifier[0].weight")).parent().parent();
    QCOMPARE(sourceGroup.data().toString(), QStringLiteral("classifier"));
    QCOMPARE(targetGroup.data().toString(), QStringLiteral("classifier"));
    QTest::mouseClick(bench.source->view()->viewport(), Qt::LeftButton, Qt::NoModifier, centreOf(bench.source, sourceGroup));
    const std::unique_ptr<QMimeData> data = dragData(bench.source);
    QCOMPARE(CheckpointTreeModel::keysFromMime(data.get()).size(), 6);

    const int matchesBefore = document->subtreeMatchCount();
    const int commands = document->undoStack()->count();
    QVERIFY(dragOnto(bench.target, targetGroup, data.get(), 20));
    // Twenty moves and the drop: one subtree match (it was two per move), the drop applies it.
    QCOMPARE(document->subtreeMatchCount() - matchesBefore, 1);
    QCOMPARE(document->undoStack()->count(), commands + 1);
    QVERIFY(document->undoStack()->undoText().startsWith(QStringLiteral("Match subtree classifier (")));
    QCOMPARE(mappingOf(*document, QStringLiteral(".classifier[3].weight")).sources, QStringList{QStringLiteral("classifier.3.weight")});
    // A second drag computes afresh (the mapping changed in between).
    QVERIFY(dragOnto(bench.target, targetGroup, data.get(), 5));
    QCOMPARE(document->subtreeMatchCount() - matchesBefore, 2);
}

// Shift-drop of a key that does not fit: the question comes after the drop returned (a modal
// dialog inside the drop would run in the middle of the drag's event handling); Yes is one
// undo command.
void TestWorkbenchDrag::forcedDropAsksAfterTheDrop()
{
    Workbench bench;
    openExample(bench);
    MappingDocument *document = bench.window->document();
    const QString target = QStringLiteral(".features[0].weight"); // [8, 3, 3, 3]
    clickKey(bench.source, QStringLiteral("classifier.0.weight"));  // [32, 64]
    const std::unique_ptr<QMimeData> data = dragData(bench.source);
    const QModelIndex leaf = treeModel(bench.target)->indexOfKey(target);

    // Without Shift: refused, nothing asked.
    const int commands = document->undoStack()->count();
    QVERIFY(!dragOnto(bench.target, leaf, data.get(), 2));
    QTest::qWait(50);
    QCOMPARE(QApplication::activeModalWidget(), nullptr);
    QCOMPARE(document->undoStack()->count(), commands);

    bool insideDrop = false;
    bool asked = false;
    bool askedInsideDrop = false;
    QString question;
    answerNextDialog([&](QWidget *modal) {
        asked = true;
        askedInsideDrop = insideDrop;
        if (auto *box = qobject_cast<QMessageBox *>(modal)) {
            question = box->text();
            QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
        } else {
            modal->close();
        }
    });
    insideDrop = true;
    QVERIFY(dragOnto(bench.target, leaf, data.get(), 2, Qt::ShiftModifier));
    insideDrop = false;
    QTRY_VERIFY(asked);
    QVERIFY2(!askedInsideDrop, "the question was asked inside dropMimeData");
    QVERIFY2(question.contains(target) && question.contains(QStringLiteral("classifier.0.weight")), qPrintable(question));
    QCOMPARE(document->undoStack()->count(), commands + 1);
    QCOMPARE(document->undoStack()->undoText(), QStringLiteral("Force map ") + target);
    QCOMPARE(mappingOf(*document, target).sources, QStringList{QStringLiteral("classifier.0.weight")});
    QCOMPARE(mappingOf(*document, target).status, MatchStatus::Incompatible);
    document->undoStack()->undo();
    QCOMPARE(mappingOf(*document, target).sources, QStringList{QStringLiteral("features.0.weight")});
}

// features.0.bias feeds .features[0].bias; dropped on .features[2].bias too, it feeds both:
// both stay mapped (sharing can be meant), "Used by" names both, the status bar and the
// problems list say so.
void TestWorkbenchDrag::sourceOnASecondTargetFeedsBothAndSaysSo()
{
    Workbench bench;
    openExample(bench);
    MappingDocument *document = bench.window->document();
    const QString source = QStringLiteral("features.0.bias");
    const QString first = QStringLiteral(".features[0].bias");
    const QString second = QStringLiteral(".features[2].bias");
    QCOMPARE(mappingOf(*document, first).sources, QStringList{source});
    clickKey(bench.source, source);
    const std::unique_ptr<QMimeData> data = dragData(bench.source);
    QVERIFY(dragOnto(bench.target, treeModel(bench.target)->indexOfKey(second), data.get(), 2));

    QCOMPARE(mappingOf(*document, second).sources, QStringList{source});
    QCOMPARE(mappingOf(*document, first).sources, QStringList{source}); // not silently unmapped
    QCOMPARE(mappingOf(*document, first).status, MatchStatus::Fixable);
    QCOMPARE(document->targetsOfSource(source), (QStringList{first, second}));
    const QModelIndex sourceLeaf = treeModel(bench.source)->indexOfKey(source);
    const QString usedBy = sourceLeaf.siblingAtColumn(CheckpointTreeModel::StatusColumn).data().toString();
    QCOMPARE(usedBy, QStringLiteral("→ 2 targets: %1, %2").arg(first, second));
    QVERIFY(sourceLeaf.data(Qt::ToolTipRole).toString().contains(QStringLiteral("feeds 2 targets")));
    const QString message = bench.window->statusBar()->currentMessage();
    QVERIFY2(message.contains(source) && message.contains(first) && message.contains(second), qPrintable(message));
    auto *problems = bench.window->findChild<ProblemsModel *>();
    QStringList rows;
    for (int row = 0; row < problems->rowCount(); ++row)
        rows << problems->index(row).data().toString();
    QVERIFY2(rows.filter(QStringLiteral("shared source: %1 feeds 2 targets: %2, %3").arg(source, first, second)).size() == 1,
             qPrintable(rows.join(QLatin1Char('\n'))));
    // Undo: one user again, no problem row.
    document->undoStack()->undo();
    QCOMPARE(document->targetsOfSource(source), QStringList{first});
    QVERIFY(!sourceLeaf.siblingAtColumn(CheckpointTreeModel::StatusColumn).data().toString().contains(second));
    rows.clear();
    for (int row = 0; row < problems->rowCount(); ++row)
        rows << problems->index(row).data().toString();
    QVERIFY(rows.filter(QStringLiteral("shared source")).isEmpty());
}

// A row grabbed by its name and dragged: the picture Qt moves with the cursor must not lie on
// the row under the cursor (the target row whose fit colour the user is looking at).
void TestWorkbenchDrag::dragPictureLeavesTheRowUnderTheCursorVisible()
{
    Workbench bench;
    openExample(bench);
    KeyTreeView *view = bench.source->view();
    const QPoint at = clickKey(bench.source, QStringLiteral("features.2.weight"));
    // The drag starts inside the mouse move (offscreen it returns at once).
    QPixmap pixmap;
    QPoint hotSpot;
    bool started = false;
    connect(view, &KeyTreeView::dragStarting, this, [&](QDrag *drag) {
        started = true;
        pixmap = drag->pixmap();
        hotSpot = drag->hotSpot();
    });
    const QPoint away = at + QPoint(QApplication::startDragDistance() + 20, 8);
    QTest::mousePress(view->viewport(), Qt::LeftButton, Qt::NoModifier, at);
    for (const QPoint &to : {at + QPoint(2, 0), away}) { // moves with the button held, as a hand drags
        QMouseEvent move(QEvent::MouseMove, QPointF(to), QPointF(view->viewport()->mapToGlobal(to)), Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(view->viewport(), &move);
    }
    QTest::mouseRelease(view->viewport(), Qt::LeftButton, Qt::NoModifier, away);
    QVERIFY2(started, "no drag started");
    QVERIFY(!pixmap.isNull());
    // In cursor coordinates: the picture's rectangle, and the band any row under the cursor
    // occupies (the cursor can be anywhere in it).
    const int rowHeight = view->visualRect(view->currentIndex()).height();
    QVERIFY(rowHeight > 0);
    const QRect picture(-hotSpot, pixmap.deviceIndependentSize().toSize());
    const QRect rowUnderCursor(-5000, -rowHeight, 10000, 2 * rowHeight);
    QVERIFY2(!picture.intersects(rowUnderCursor),
             qPrintable(QStringLiteral("picture %1,%2 %3x%4; row band ±%5").arg(picture.x()).arg(picture.y()).arg(picture.width()).arg(picture.height()).arg(rowHeight)));
    // Compact: a label, not the rows of the tree.
    QVERIFY(pixmap.deviceIndependentSize().height() <= 2 * rowHeight + 8);
}

QTEST_MAIN(TestWorkbenchDrag)
#include "tst_workbenchdrag.moc"
