#pragma once
// One side of the workbench: a header (which file is open), a filter line (substring or
// regular expression) and the key tree, filtered through its own KeyFilterProxyModel. The
// window has two, source and target, over the two CheckpointTreeModels.

#include "checkpointtreemodel.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;

namespace graft::ui {

class KeyFilterProxyModel;
class KeyTreeView;

class KeyPane : public QWidget {
    Q_OBJECT
public:
    /// Shows `model` (not owned; it must outlive the pane) as the `side` pane.
    KeyPane(CheckpointTreeModel *model, CheckpointTreeModel::Side side, QWidget *parent = nullptr);

    KeyTreeView *view() const { return m_view; }
    KeyFilterProxyModel *proxy() const { return m_proxy; }

    /// Sets the header after a file opened: "<b>Source</b> `summary`" (plain text, escaped here).
    void setSummary(const QString &summary);
    /// Expands every leaf of a small checkpoint (at most 400 tensors), only the top level of a
    /// big one. Call after the model was reset with the new file.
    void expandForTensorCount(size_t tensorCount);
    /// Makes `key`'s row current and selected, scrolled into view (no-op when filtered out).
    void selectKey(const QString &key);
    /// The keys of the selected rows (groups have none).
    QStringList selectedKeys() const;
    /// Puts the keyboard focus in the filter line, its text selected.
    void focusFilter();

Q_SIGNALS:
    /// Files were dropped on the tree from the file manager.
    void filesDropped(const QStringList &paths);

private:
    void applyFilter();

    CheckpointTreeModel::Side m_side;
    CheckpointTreeModel *m_model;
    KeyFilterProxyModel *m_proxy;
    QLabel *m_title;
    QLineEdit *m_filter;
    QCheckBox *m_regex;
    KeyTreeView *m_view;
};

} // namespace graft::ui
