#pragma once
// The main window: source checkpoint on the left, target on the right.

#include <QMainWindow>

class QLabel;
class QTreeView;

namespace graft::ui {

class CheckpointListModel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);

    /// Opens `path` into the source (left) or target (right) pane. Errors are shown in a
    /// dialog unless `quiet`; returns false on error. The window stays usable either way.
    bool openSource(const QString &path, bool quiet = false);
    bool openTarget(const QString &path, bool quiet = false);

private:
    bool openInto(CheckpointListModel *model, QLabel *title, const QString &path, bool quiet);
    QWidget *makePane(CheckpointListModel *model, QLabel *title);

    CheckpointListModel *m_sourceModel;
    CheckpointListModel *m_targetModel;
    QLabel *m_sourceTitle;
    QLabel *m_targetTitle;
};

} // namespace graft::ui
