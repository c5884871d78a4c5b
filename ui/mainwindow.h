#pragma once
// The mapping workbench: source tree (left), target tree (right), each a KeyPane; the mapping
// table, the problems list and the undo history (bottom), the inspector (bottom right). Long
// work (opening files, matching) runs off the GUI thread through a JobRunner with a progress
// indicator; its results come back as values and edits are pushed as undo commands.

#include "mapping/automatcher.h"

#include <QMainWindow>

class QLabel;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTabWidget;

namespace graft::ui {

class CheckpointTreeModel;
class InspectorWidget;
class JobRunner;
class KeyFilterProxyModel;
class KeyPane;
class MappingDocument;
class MappingTableModel;
class MappingTableView;
class PaneLoader;
class ProblemsModel;
class RecentFiles;
class ReviewQueue;
class UnusedSourcesModel;

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
    ReviewQueue *reviewQueue() const { return m_reviewQueue; }
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
    void createActions();
    void open(Pane pane, const QString &path, bool quiet);
    /// `opening`: the match of files just opened or of a profile just loaded (not an edit to save).
    void runMatch(const QString &commandText, const MatchOptions &options, bool opening = false);
    void jobStarted(const QString &text);
    void allJobsFinished();
    void showError(const QString &title, const QString &message, bool quiet);
    void updateSummary();
    void mapSelection();
    void unmapSelection();
    void autoMatch();
    void addRenameRule();
    void loadProfileDialog();
    /// False when nothing was saved (no files, the dialog cancelled, the write failed).
    bool saveProfile();
    void combineAndSave();
    void diffDialog();

    MappingDocument *m_document;
    CheckpointTreeModel *m_sourceModel;
    CheckpointTreeModel *m_targetModel;
    KeyPane *m_sourcePane = nullptr;
    KeyPane *m_targetPane = nullptr;
    MappingTableModel *m_tableModel;
    KeyFilterProxyModel *m_tableProxy;
    MappingTableView *m_tableView = nullptr;
    ProblemsModel *m_problemsModel;
    UnusedSourcesModel *m_unusedModel;
    ReviewQueue *m_reviewQueue;
    JobRunner *m_jobs;
    PaneLoader *m_loader;
    InspectorWidget *m_inspector = nullptr;
    QTabWidget *m_bottomTabs = nullptr;
    QSplitter *m_verticalSplitter = nullptr;
    QSplitter *m_paneSplitter = nullptr;
    QSplitter *m_bottomSplitter = nullptr;
    QLabel *m_summary = nullptr;
    QProgressBar *m_progress = nullptr;
    QPushButton *m_cancel = nullptr;
    RecentFiles *m_recentFiles = nullptr;
    QString m_sourcePath;
    QString m_targetPath;
    QString m_profilePath;
    QString m_pendingProfile;
    QString m_lastSavedPath;
};

} // namespace graft::ui
