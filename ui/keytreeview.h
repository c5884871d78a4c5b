#pragma once
// The tree view of one side. Accepts files dropped from the file manager (to open them in
// this pane); on the target side it shows, while the user drags source keys, whether the drop
// under the cursor fits: green (exact), amber (fixable, the fix in a tooltip), red
// (incompatible: refused unless Shift is held).

#include <QPersistentModelIndex>
#include <QTreeView>

namespace graft::ui {

class CheckpointTreeModel;

class KeyTreeView : public QTreeView {
    Q_OBJECT
public:
    explicit KeyTreeView(QWidget *parent = nullptr);

    /// The underlying tree model (behind the filter proxy), needed to judge drops.
    void setTreeModel(CheckpointTreeModel *model) { m_treeModel = model; }

Q_SIGNALS:
    void filesDropped(const QStringList &paths);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void paintEvent(QPaintEvent *event) override;

private:
    CheckpointTreeModel *m_treeModel = nullptr;
    QPersistentModelIndex m_hintIndex;
    QColor m_hintColor;
};

} // namespace graft::ui
