#include "keytreeview.h"

#include "checkpointtreemodel.h"
#include "dragpixmap.h"
#include "keyfilterproxymodel.h"
#include "statusstyle.h"

#include <QAbstractProxyModel>
#include <QDrag>
#include <QDragEnterEvent>
#include <QMimeData>
#include <QPainter>
#include <QToolTip>

namespace graft::ui {

KeyTreeView::KeyTreeView(QWidget *parent) : QTreeView(parent)
{
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setDragEnabled(true);
    setAcceptDrops(true);
    setDropIndicatorShown(true);
    setDragDropMode(QAbstractItemView::DragDrop);
    setDefaultDropAction(Qt::CopyAction);
    setSortingEnabled(true);
    sortByColumn(-1, Qt::AscendingOrder); // file order until the user sorts
}

void KeyTreeView::setTreeModel(CheckpointTreeModel *model)
{
    if (m_treeModel != nullptr)
        disconnect(m_treeModel, nullptr, this, nullptr);
    m_treeModel = model;
    // The model reports a recount as a change of its top-level rows only (one signal instead of
    // one per parent); Qt then repaints those rows alone and the deeper ones kept showing the
    // state of before the match ("0 / 2", no "Used by") until something else repainted them.
    if (model != nullptr)
        connect(model, &CheckpointTreeModel::statusesRefreshed, viewport(), qOverload<>(&QWidget::update));
}

QString KeyTreeView::setKeyFilter(const QString &text, bool regex)
{
    auto *proxy = qobject_cast<KeyFilterProxyModel *>(model());
    if (proxy == nullptr)
        return QString();
    proxy->setFilter(text, regex);
    const qsizetype matches = proxy->acceptedLeafCount();
    if (proxy->isFiltering() && matches >= 0 && matches <= kExpandMatchesLimit)
        expandAll();
    return proxy->filterError();
}

void KeyTreeView::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls()) {
        event->acceptProposedAction();
        return;
    }
    if (m_treeModel != nullptr) {
        m_treeModel->endDrag(); // a new drag: nothing cached from an earlier one
        m_treeModel->setDropModifiers(event->modifiers());
    }
    QTreeView::dragEnterEvent(event);
}

void KeyTreeView::dragMoveEvent(QDragMoveEvent *event)
{
    if (event->mimeData()->hasUrls() && !event->mimeData()->hasFormat(QString::fromLatin1(CheckpointTreeModel::kMimeType))) {
        event->acceptProposedAction();
        return;
    }
    if (m_treeModel != nullptr)
        m_treeModel->setDropModifiers(event->modifiers());
    QTreeView::dragMoveEvent(event);
    m_hintIndex = QPersistentModelIndex();
    if (m_treeModel == nullptr)
        return;
    QModelIndex index = indexAt(event->position().toPoint());
    if (auto *proxy = qobject_cast<QAbstractProxyModel *>(model()))
        index = proxy->mapToSource(index);
    if (!index.isValid())
        return;
    QString detail;
    const MatchStatus fit = m_treeModel->dropFit(event->mimeData(), index, &detail);
    if (fit == MatchStatus::Unmapped)
        return;
    m_hintIndex = indexAt(event->position().toPoint());
    m_hintColor = statusColor(fit);
    const QString prefix = fit == MatchStatus::Exact ? tr("exact fit") : fit == MatchStatus::Fixable ? tr("fits with a fix") : tr("incompatible (hold Shift to force)");
    QToolTip::showText(mapToGlobal(event->position().toPoint()) + QPoint(16, 16), prefix + QStringLiteral("\n") + detail, this);
    viewport()->update();
}

void KeyTreeView::dragLeaveEvent(QDragLeaveEvent *event)
{
    m_hintIndex = QPersistentModelIndex();
    QToolTip::hideText();
    viewport()->update();
    QTreeView::dragLeaveEvent(event);
    if (m_treeModel != nullptr)
        m_treeModel->endDrag();
}

void KeyTreeView::dropEvent(QDropEvent *event)
{
    m_hintIndex = QPersistentModelIndex();
    QToolTip::hideText();
    if (event->mimeData()->hasUrls() && !event->mimeData()->hasFormat(QString::fromLatin1(CheckpointTreeModel::kMimeType))) {
        QStringList paths;
        for (const QUrl &url : event->mimeData()->urls()) {
            if (url.isLocalFile())
                paths << url.toLocalFile();
        }
        event->acceptProposedAction();
        Q_EMIT filesDropped(paths);
        return;
    }
    if (m_treeModel != nullptr)
        m_treeModel->setDropModifiers(event->modifiers());
    QTreeView::dropEvent(event);
    if (m_treeModel != nullptr)
        m_treeModel->endDrag();
    viewport()->update();
}

void KeyTreeView::startDrag(Qt::DropActions supportedActions)
{
    QModelIndexList indexes;
    for (const QModelIndex &index : selectionModel()->selectedIndexes()) {
        if (model()->flags(index) & Qt::ItemIsDragEnabled)
            indexes << index;
    }
    if (indexes.isEmpty())
        return;
    QMimeData *data = model()->mimeData(indexes);
    if (data == nullptr)
        return;
    const DragPixmap label = dragPixmap(CheckpointTreeModel::keysFromMime(data), font(), palette(), rowHeight(indexes.front()));
    auto *drag = new QDrag(this);
    drag->setMimeData(data);
    drag->setPixmap(label.pixmap);
    drag->setHotSpot(label.hotSpot);
    Q_EMIT dragStarting(drag);
    drag->exec(supportedActions, defaultDropAction()); // copies only: nothing to remove afterwards
}

void KeyTreeView::paintEvent(QPaintEvent *event)
{
    QTreeView::paintEvent(event);
    if (!m_hintIndex.isValid())
        return;
    QPainter painter(viewport());
    QRect rect = visualRect(m_hintIndex);
    rect.setLeft(0);
    rect.setRight(viewport()->width() - 1);
    QColor fill = m_hintColor;
    fill.setAlpha(60);
    painter.fillRect(rect, fill);
    painter.setPen(QPen(m_hintColor, 2));
    painter.drawRect(rect.adjusted(1, 1, -1, -1));
}

} // namespace graft::ui
