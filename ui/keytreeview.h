#pragma once
// The tree view of one side. Accepts files dropped from the file manager (to open them in
// this pane); on the target side it shows, while the user drags source keys, whether the drop
// under the cursor fits: green (exact), amber (fixable, the fix in a tooltip), red
// (incompatible: refused unless Shift is held).

#include <QPersistentModelIndex>
#include <QTreeView>

class QDrag;

namespace graft::ui {

class CheckpointTreeModel;

class KeyTreeView : public QTreeView {
    Q_OBJECT
public:
    explicit KeyTreeView(QWidget *parent = nullptr);

    /// The underlying tree model (behind the filter proxy), needed to judge drops.
    /// Repaints the whole tree when the model recomputed every row's status.
    void setTreeModel(CheckpointTreeModel *model);

    /// Rows with more matching leaves than this stay as the user left them when a filter is
    /// typed; fewer are expanded to show every match. (Expanding a 100k-row result costs
    /// seconds, and every later change to the model then updates each expanded row.)
    static constexpr qsizetype kExpandMatchesLimit = 2000;
    /// Filters the view's KeyFilterProxyModel (the view's model) and expands small results.
    /// Returns the filter's error (an invalid regular expression), empty when fine.
    QString setKeyFilter(const QString &text, bool regex);

Q_SIGNALS:
    void filesDropped(const QStringList &paths);
    /// A drag of source keys is set up (data, picture, hot spot) and about to run.
    void dragStarting(QDrag *drag);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void paintEvent(QPaintEvent *event) override;
    /// A compact label below the cursor (dragPixmap), not the grabbed rows over the fit colour.
    void startDrag(Qt::DropActions supportedActions) override;

private:
    CheckpointTreeModel *m_treeModel = nullptr;
    QPersistentModelIndex m_hintIndex;
    QColor m_hintColor;
};

} // namespace graft::ui
