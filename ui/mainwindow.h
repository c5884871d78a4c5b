#pragma once
// The mapping workbench: source tree (left), target tree (right), the mapping table, the
// problems list and the undo history (bottom), the inspector (bottom right). Long work
// (opening files, matching, saving) runs off the GUI thread with a progress indicator; its
// results come back as values and edits are pushed as undo commands.

#include "mapping/automatcher.h"

#include <QFutureWatcher>
#include <QMainWindow>

class QLabel;
class QLineEdit;
class QCheckBox;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTableView;
class QTabWidget;
class QMenu;

namespace graft::ui {

class CheckpointTreeModel;
class InspectorWidget;
class KeyFilterProxyModel;
class KeyTreeView;
class MappingDocument;
class MappingTableModel;
class ProblemsModel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens a file into the source (left) or target (right) pane, off the GUI thread. Errors
    /// show a dialog (unless `quiet`) and a problems-list entry; the window stays usable.
    void openSource(const QString &path, bool quiet = false);
    void openTarget(const QString &path, bool quiet = false);
    /// Applies a profile once both files are open (immediately if they are).
    void loadProfile(const QString &path, bool quiet = false);

    MappingDocument *document() const { return m_document; }
    const QString &sourcePath() const { return m_sourcePath; }
    const QString &targetPath() const { return m_targetPath; }
    /// True while a file is opening or a match is running.
    bool isBusy() const;

Q_SIGNALS:
    /// Emitted whenever the last pending background job finished.
    void idle();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    enum class Pane { Source, Target };
    QWidget *makePane(Pane pane);
    void createActions();
    void open(Pane pane, const QString &path, bool quiet);
    void runMatch(const QString &commandText, const MatchOptions &options);
    void jobStarted(const QString &text);
    void jobFinished();
    void showError(const QString &title, const QString &message, bool quiet);
    void updateSummary();
    void selectFirstProblemOrFix();
    void selectTarget(const QString &key);
    void selectSource(const QString &key);
    void mapSelection();
    void unmapSelection();
    void autoMatchDialog();
    void addRenameRule();
    void loadProfileDialog();
    void saveProfile();
    void combineAndSave();
    void diffDialog();
    void rememberRecent(const QString &path);
    void rebuildRecentMenu();
    QStringList selectedKeys(Pane pane) const;

    MappingDocument *m_document;
    CheckpointTreeModel *m_sourceModel;
    CheckpointTreeModel *m_targetModel;
    KeyFilterProxyModel *m_sourceProxy;
    KeyFilterProxyModel *m_targetProxy;
    KeyTreeView *m_sourceView = nullptr;
    KeyTreeView *m_targetView = nullptr;
    QLineEdit *m_sourceFilter = nullptr;
    QLineEdit *m_targetFilter = nullptr;
    QLabel *m_sourceTitle = nullptr;
    QLabel *m_targetTitle = nullptr;
    MappingTableModel *m_tableModel;
    KeyFilterProxyModel *m_tableProxy;
    QTableView *m_tableView = nullptr;
    ProblemsModel *m_problemsModel;
    InspectorWidget *m_inspector = nullptr;
    QTabWidget *m_bottomTabs = nullptr;
    QSplitter *m_verticalSplitter = nullptr;
    QSplitter *m_paneSplitter = nullptr;
    QSplitter *m_bottomSplitter = nullptr;
    QLabel *m_summary = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_cancel = nullptr;
    QMenu *m_recentMenu = nullptr;
    QString m_sourcePath;
    QString m_targetPath;
    QString m_profilePath;
    QString m_pendingProfile;
    QString m_lastSavedPath;
    int m_jobs = 0;
    quint64 m_generation = 0; // results of cancelled jobs are dropped
};

} // namespace graft::ui
