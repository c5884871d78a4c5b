#include "mainwindow.h"

#include "automatchdialog.h"
#include "checkpoint/checkpoint.h"
#include "checkpointtreemodel.h"
#include "combinesavedialog.h"
#include "diffchooser.h"
#include "inspectorwidget.h"
#include "jobrunner.h"
#include "forceddropprompt.h"
#include "keyfilterproxymodel.h"
#include "keypane.h"
#include "keytreeview.h"
#include "mapping/mappingsetup.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "mappingtablemodel.h"
#include "mappingtableview.h"
#include "paneloader.h"
#include "problemsmodel.h"
#include "recentfiles.h"
#include "reviewqueue.h"
#include "sharedsourcenotice.h"
#include "unsavedchangesprompt.h"
#include "unusedsourcesmodel.h"

#include <QAction>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QInputDialog>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTabWidget>
#include <QToolBar>
#include <QUndoView>

// The .qrc is compiled into the static graft_ui library: register it before first use.
static void initialiseResources() { Q_INIT_RESOURCE(graft); }

namespace graft::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_document(new MappingDocument(this)),
      m_sourceModel(new CheckpointTreeModel(m_document, CheckpointTreeModel::Side::Source, this)),
      m_targetModel(new CheckpointTreeModel(m_document, CheckpointTreeModel::Side::Target, this)),
      m_tableModel(new MappingTableModel(m_document, this)), m_tableProxy(new KeyFilterProxyModel(this)),
      m_problemsModel(new ProblemsModel(m_document, this)), m_unusedModel(new UnusedSourcesModel(m_document, this)),
      m_reviewQueue(new ReviewQueue(m_document, this)), m_jobs(new JobRunner(this)), m_loader(new PaneLoader(m_document, m_jobs, this))
{
    initialiseResources();
    setWindowTitle(tr("Graft"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/graft.svg")));
    m_tableProxy->setSourceModel(m_tableModel);
    m_tableProxy->setSortRole(MappingTableModel::SortRole);
    m_tableProxy->setKeyRole(MappingTableModel::TargetKeyRole);

    m_paneSplitter = new QSplitter(Qt::Horizontal, this);
    m_sourcePane = new KeyPane(m_sourceModel, CheckpointTreeModel::Side::Source, this);
    m_targetPane = new KeyPane(m_targetModel, CheckpointTreeModel::Side::Target, this);
    connect(m_sourcePane, &KeyPane::filesDropped, this, [this](const QStringList &paths) {
        if (!paths.isEmpty())
            open(Pane::Source, paths.front(), false);
    });
    connect(m_targetPane, &KeyPane::filesDropped, this, [this](const QStringList &paths) {
        if (!paths.isEmpty())
            open(Pane::Target, paths.front(), false);
    });
    m_paneSplitter->addWidget(m_sourcePane);
    m_paneSplitter->addWidget(m_targetPane);

    m_tableView = new MappingTableView(m_document, m_tableProxy, this);
    // Tab goes from tree to tree to table in one press each (the filter lines are reached with
    // Ctrl+F or a click; KeyPane keeps them out of the Tab chain).
    setTabOrder(m_sourcePane->view(), m_targetPane->view());
    setTabOrder(m_targetPane->view(), m_tableView);

    auto *problems = new QListView(this);
    problems->setModel(m_problemsModel);
    problems->setUniformItemSizes(true);
    auto *unused = new QTableView(this);
    unused->setModel(m_unusedModel);
    unused->setSelectionBehavior(QAbstractItemView::SelectRows);
    unused->verticalHeader()->hide();
    unused->horizontalHeader()->setStretchLastSection(true);
    unused->setColumnWidth(UnusedSourcesModel::KeyColumn, 260);
    auto *history = new QUndoView(m_document->undoStack(), this);
    history->setEmptyLabel(tr("<opened files>"));

    m_bottomTabs = new QTabWidget(this);
    m_bottomTabs->addTab(m_tableView, tr("Mapping"));
    m_bottomTabs->addTab(problems, tr("Problems"));
    m_bottomTabs->addTab(unused, tr("Unused Sources"));
    m_bottomTabs->addTab(history, tr("History"));

    m_inspector = new InspectorWidget(m_document, this);
    m_bottomSplitter = new QSplitter(Qt::Horizontal, this);
    m_bottomSplitter->addWidget(m_bottomTabs);
    m_bottomSplitter->addWidget(m_inspector);
    m_bottomSplitter->setStretchFactor(0, 3);
    m_bottomSplitter->setStretchFactor(1, 2);

    m_verticalSplitter = new QSplitter(Qt::Vertical, this);
    m_verticalSplitter->addWidget(m_paneSplitter);
    m_verticalSplitter->addWidget(m_bottomSplitter);
    m_verticalSplitter->setStretchFactor(0, 3);
    m_verticalSplitter->setStretchFactor(1, 2);
    setCentralWidget(m_verticalSplitter);

    m_summary = new QLabel(this);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 0);
    m_progress->setMaximumWidth(160);
    m_progress->hide();
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->hide();
    statusBar()->addWidget(m_summary, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_jobs->cancel();
        statusBar()->showMessage(tr("Cancelled"), 3000);
    });
    connect(m_jobs, &JobRunner::jobStarted, this, &MainWindow::jobStarted);
    connect(m_jobs, &JobRunner::allFinished, this, &MainWindow::allJobsFinished);

    createActions();

    // Selecting a mapping row selects both tree nodes and shows it in the inspector.
    connect(m_tableView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
        if (!current.isValid())
            return;
        const QString target = current.data(MappingTableModel::TargetKeyRole).toString();
        const QStringList sources = current.data(MappingTableModel::SourceKeysRole).toStringList();
        m_targetPane->selectKey(target);
        if (!sources.isEmpty())
            m_sourcePane->selectKey(sources.front());
        m_inspector->showTarget(target);
    });
    connect(m_targetPane->view()->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex &current) {
        const QString key = current.data(CheckpointTreeModel::KeyRole).toString();
        if (!key.isEmpty())
            m_inspector->showTarget(key);
    });
    connect(problems, &QListView::doubleClicked, this, [this](const QModelIndex &index) {
        const QString target = index.data(ProblemsModel::TargetKeyRole).toString();
        if (!target.isEmpty()) {
            m_targetPane->selectKey(target);
            m_inspector->showTarget(target);
        }
    });
    connect(unused, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        m_sourcePane->selectKey(index.data(UnusedSourcesModel::SourceKeyRole).toString());
    });
    // The review queue walks the guesses from the target the inspector shows.
    m_reviewQueue->setCurrentTargetProvider([this] { return m_inspector->currentTarget(); });
    m_inspector->setGuessActions(m_reviewQueue->acceptAction(), m_reviewQueue->rejectAction());
    connect(m_reviewQueue, &ReviewQueue::message, this, [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    connect(m_reviewQueue, &ReviewQueue::selectTargetRequested, this, [this](const QString &target) {
        if (!m_tableView->selectTarget(target)) // the table's filter hides it: show it anyway
            m_targetPane->selectKey(target);
        m_inspector->showTarget(target);
    });
    connect(m_targetModel, &CheckpointTreeModel::incompatibleDropRequested, this,
            [this](const QString &target, const QStringList &sources, const QString &reason) { askForcedDrop(this, m_document, target, sources, reason); });
    connect(new SharedSourceNotice(m_document, this), &SharedSourceNotice::message, this,
            [this](const QString &text) { statusBar()->showMessage(text, 15000); });
    connect(m_document, &MappingDocument::resultReset, this, &MainWindow::updateSummary);
    connect(m_document, &MappingDocument::mappingsChanged, this, &MainWindow::updateSummary);

    QSettings settings;
    resize(1400, 900);
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    m_verticalSplitter->restoreState(settings.value(QStringLiteral("window/vertical")).toByteArray());
    m_paneSplitter->restoreState(settings.value(QStringLiteral("window/panes")).toByteArray());
    m_bottomSplitter->restoreState(settings.value(QStringLiteral("window/bottom")).toByteArray());
    updateSummary();
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QToolBar *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    QAction *openSourceAction = file->addAction(tr("Open &Source…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Source Checkpoint"), QFileInfo(m_sourcePath).path(),
                                                          tr("Checkpoints (*.pt *.pth *.bin *.ckpt *.safetensors *.json *.npz *.npy *.eqx *.msgpack);;All files (*)"));
        if (!path.isEmpty())
            openSource(path);
    });
    QAction *openTargetAction = file->addAction(tr("Open &Target…"), QKeySequence(tr("Ctrl+Shift+O")), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Target"), QFileInfo(m_targetPath).path(),
                                                          tr("Skeletons and checkpoints (*.json *.eqx *.pt *.pth *.bin *.safetensors *.npz *.msgpack);;All files (*)"));
        if (!path.isEmpty())
            openTarget(path);
    });
    m_recentFiles = new RecentFiles(file->addMenu(tr("Recent Files")), this);
    connect(m_recentFiles, &RecentFiles::openAsSourceRequested, this, [this](const QString &path) { openSource(path); });
    connect(m_recentFiles, &RecentFiles::openAsTargetRequested, this, [this](const QString &path) { openTarget(path); });
    file->addSeparator();
    QAction *loadProfileAction = file->addAction(tr("&Load Profile…"), this, &MainWindow::loadProfileDialog);
    file->addAction(tr("Save &Profile"), QKeySequence::Save, this, &MainWindow::saveProfile);
    file->addSeparator();
    QAction *combineAction = file->addAction(tr("&Combine && Save…"), QKeySequence(tr("Ctrl+Shift+S")), this, &MainWindow::combineAndSave);
    file->addAction(tr("&Diff…"), QKeySequence(tr("Ctrl+D")), this, &MainWindow::diffDialog);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    QAction *undo = m_document->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction *redo = m_document->undoStack()->createRedoAction(this, tr("&Redo"));
    // The platform's Redo keys plus Ctrl+Shift+Z, each once (on X11 Redo already is
    // Ctrl+Shift+Z: binding it twice made it an ambiguous, dead shortcut).
    QList<QKeySequence> redoKeys = QKeySequence::keyBindings(QKeySequence::Redo);
    if (!redoKeys.contains(QKeySequence(QStringLiteral("Ctrl+Shift+Z"))))
        redoKeys << QKeySequence(QStringLiteral("Ctrl+Shift+Z"));
    redo->setShortcuts(redoKeys);
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    QAction *mapAction = edit->addAction(tr("&Map Selected Source → Target"), this, &MainWindow::mapSelection);
    mapAction->setShortcuts({QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)});
    mapAction->setShortcutContext(Qt::WindowShortcut);
    QAction *unmapAction = edit->addAction(tr("&Unmap Selected Target"), this, &MainWindow::unmapSelection);
    unmapAction->setShortcut(QKeySequence::Delete);
    edit->addSeparator();
    edit->addAction(tr("&Filter"), QKeySequence::Find, this, [this] {
        (m_targetPane->view()->hasFocus() ? m_targetPane : m_sourcePane)->focusFilter();
    });

    QMenu *mapping = menuBar()->addMenu(tr("&Mapping"));
    QAction *autoMatch = mapping->addAction(tr("&Auto-match…"), QKeySequence(tr("Ctrl+M")), this, &MainWindow::autoMatch);
    QAction *ruleAction = mapping->addAction(tr("Add &Rename Rule…"), QKeySequence(tr("Ctrl+R")), this, &MainWindow::addRenameRule);
    mapping->addSeparator();
    m_reviewQueue->addTo(mapping);

    toolbar->addAction(openSourceAction);
    toolbar->addAction(openTargetAction);
    toolbar->addSeparator();
    toolbar->addAction(autoMatch);
    toolbar->addAction(ruleAction);
    toolbar->addAction(m_reviewQueue->reviewAction());
    toolbar->addAction(loadProfileAction);
    toolbar->addSeparator();
    toolbar->addAction(undo);
    toolbar->addAction(redo);
    toolbar->addSeparator();
    toolbar->addAction(combineAction);
}

bool MainWindow::isBusy() const { return m_jobs->isBusy(); }

void MainWindow::jobStarted(const QString &text)
{
    m_progress->show();
    m_cancel->show();
    statusBar()->showMessage(text);
}

void MainWindow::allJobsFinished()
{
    m_progress->hide();
    m_cancel->hide();
    statusBar()->clearMessage();
    if (!m_pendingProfile.isEmpty() && m_document->source() && m_document->target()) {
        const QString profile = m_pendingProfile;
        m_pendingProfile.clear();
        loadProfile(profile);
        return;
    }
    Q_EMIT idle();
}

void MainWindow::showError(const QString &title, const QString &message, bool quiet)
{
    m_problemsModel->addFileError(message);
    statusBar()->showMessage(message, 10000);
    if (!quiet)
        QMessageBox::critical(this, title, message);
}

void MainWindow::openSource(const QString &path, bool quiet) { open(Pane::Source, path, quiet); }
void MainWindow::openTarget(const QString &path, bool quiet) { open(Pane::Target, path, quiet); }

void MainWindow::open(Pane pane, const QString &path, bool quiet)
{
    const auto side = pane == Pane::Source ? PaneLoader::Pane::Source : PaneLoader::Pane::Target;
    m_loader->open(side, path, [this, pane, path, quiet](Result<Checkpoint> checkpoint) {
        if (!checkpoint) {
            m_jobs->finishJob();
            showError(tr("Cannot open file"), checkpoint.error().toString(), quiet);
            return;
        }
        const QString summary = tr("%1 — %2, %3 tensors, %4")
                                    .arg(QFileInfo(path).fileName(), formatName(checkpoint->format()))
                                    .arg(checkpoint->tensors().size())
                                    .arg(QLocale().formattedDataSize(checkpoint->totalBytes()));
        KeyPane *keyPane = pane == Pane::Source ? m_sourcePane : m_targetPane;
        (pane == Pane::Source ? m_sourcePath : m_targetPath) = path;
        keyPane->setSummary(summary);
        const size_t tensorCount = checkpoint->tensors().size();
        if (pane == Pane::Source)
            m_document->setSource(std::move(checkpoint).value());
        else
            m_document->setTarget(std::move(checkpoint).value());
        m_recentFiles->add(path);
        keyPane->expandForTensorCount(tensorCount);
        if (m_document->source() && m_document->target() && m_pendingProfile.isEmpty())
            runMatch(tr("Automatic matching"), m_document->options(), true);
        m_jobs->finishJob();
    });
}

void MainWindow::runMatch(const QString &commandText, const MatchOptions &options, bool opening)
{
    m_loader->match(options, [this, commandText, options, opening](const MappingResult &result) {
        m_document->undoStack()->push(new ReplaceMappingCommand(m_document, commandText, result, options));
        if (opening) // the match of files just opened (or of a profile just loaded) is no edit to save
            m_document->undoStack()->setClean();
        if (m_inspector->currentTarget().isEmpty())
            m_tableView->selectFirstProblemOrFix();
        m_jobs->finishJob();
    });
}

void MainWindow::loadProfile(const QString &path, bool quiet)
{
    if (!m_document->source() || !m_document->target() || isBusy()) {
        m_pendingProfile = path; // applied when both files are open
        return;
    }
    Result<ProfileSetup> setup = loadProfileSetup(path, *m_document->source(), *m_document->target());
    if (!setup) {
        showError(tr("Cannot load profile"), setup.error().toString(), quiet);
        Q_EMIT idle();
        return;
    }
    m_profilePath = path;
    for (const QString &warning : setup->warnings)
        m_problemsModel->addFileError(warning);
    runMatch(tr("Load profile %1").arg(QFileInfo(path).fileName()), setup->options, true);
}

void MainWindow::updateSummary()
{
    if (!m_document->target()) {
        m_summary->setText(tr("Open a source checkpoint and a target to begin."));
        return;
    }
    const MappingSummary s = m_document->result().summary();
    m_summary->setText(tr("%1 targets — mapped %2 (exact %3, fixable %4) · guessed %5 · incompatible %6 · unmapped %7 · kept %8 · ambiguous %9")
                           .arg(s.targets).arg(s.exact + s.fixable).arg(s.exact).arg(s.fixable).arg(s.guessed).arg(s.incompatible)
                           .arg(s.unmapped).arg(s.kept).arg(s.ambiguous)
                       + tr(" · unused sources %1 (+ %2 buffers)").arg(s.unusedSources).arg(m_unusedModel->bufferCount()));
    m_bottomTabs->setTabText(1, tr("Problems (%1)").arg(m_problemsModel->rowCount()));
    m_bottomTabs->setTabText(2, tr("Unused Sources (%1 + %2 buffers)").arg(s.unusedSources).arg(m_unusedModel->bufferCount()));
}

void MainWindow::mapSelection()
{
    const QStringList sources = m_sourcePane->selectedKeys();
    const QStringList targets = m_targetPane->selectedKeys();
    if (sources.size() != 1 || targets.size() != 1) {
        statusBar()->showMessage(tr("Select one source leaf and one target leaf, then press Enter."), 5000);
        return;
    }
    const Mapping proposal = m_document->proposeMapping(targets.front(), sources);
    if (proposal.status == MatchStatus::Incompatible) {
        QMessageBox::warning(this, tr("Incompatible"), tr("%1 ← %2 does not fit: %3").arg(targets.front(), sources.front(), proposal.reason));
        return;
    }
    m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Map %1 ← %2").arg(targets.front(), sources.front()), {proposal}));
}

void MainWindow::unmapSelection()
{
    std::vector<Mapping> kept;
    for (const QString &target : m_targetPane->selectedKeys())
        kept.push_back(m_document->keptMapping(target));
    if (kept.empty())
        return;
    // History names what was unmapped ("Unmap .features[0].weight", "Unmap 3 targets: a, b, …").
    QStringList names;
    for (size_t i = 0; i < kept.size() && i < 2; ++i)
        names << kept[i].target;
    const QString text = kept.size() == 1 ? tr("Unmap %1").arg(names.front())
                                          : tr("Unmap %1 targets: %2%3").arg(kept.size()).arg(names.join(QStringLiteral(", ")))
                                                .arg(kept.size() > 2 ? QStringLiteral(", …") : QString());
    m_document->undoStack()->push(new SetMappingsCommand(m_document, text, kept));
}

void MainWindow::autoMatch()
{
    if (!m_document->source() || !m_document->target())
        return;
    AutoMatchDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    runMatch(tr("Automatic matching"), dialog.options(m_document->options()));
}

void MainWindow::addRenameRule()
{
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Add Rename Rule"),
                                               tr("Regular expression on source keys and its replacement, as REGEX=>REPLACEMENT\n"
                                                  "(e.g. ^module\\.=> or ^encoder\\.layer\\.(\\d+)=>layers.\\1):"),
                                               QLineEdit::Normal, QString(), &ok);
    if (!ok || text.isEmpty())
        return;
    MatchOptions options = m_document->options();
    if (Status added = addRenameRules(options, {text}); !added) {
        QMessageBox::warning(this, tr("Add Rename Rule"), added.error().message);
        return;
    }
    runMatch(tr("Add rename rule %1").arg(text), options);
}

void MainWindow::loadProfileDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Load Profile"), QFileInfo(m_profilePath).path(),
                                                      tr("Graft profiles (*.graft.json);;JSON (*.json);;All files (*)"));
    if (!path.isEmpty())
        loadProfile(path);
}

bool MainWindow::saveProfile()
{
    if (!m_document->source() || !m_document->target())
        return false;
    QString path = m_profilePath;
    if (path.isEmpty())
        path = QFileDialog::getSaveFileName(this, tr("Save Profile"), QFileInfo(m_sourcePath).completeBaseName() + QStringLiteral(".graft.json"),
                                            tr("Graft profiles (*.graft.json)"));
    if (path.isEmpty())
        return false;
    const Profile profile = profileFromResult(m_document->result(), *m_document->source(), *m_document->target(), m_document->options().rules);
    Status saved = graft::saveProfile(profile, path);
    if (!saved) {
        showError(tr("Cannot save profile"), saved.error().toString(), false);
        return false;
    }
    m_profilePath = path;
    m_document->undoStack()->setClean();
    statusBar()->showMessage(tr("Saved profile %1").arg(path), 5000);
    return true;
}

void MainWindow::combineAndSave()
{
    if (!m_document->source() || !m_document->target()) {
        QMessageBox::information(this, tr("Combine & Save"), tr("Open a source and a target first."));
        return;
    }
    CombineSaveDialog dialog(m_document, m_sourcePath, m_targetPath, this);
    connect(&dialog, &CombineSaveDialog::finished, this, [this](bool ok, const QString &path) {
        if (ok) {
            m_lastSavedPath = path;
            m_document->undoStack()->setClean(); // the edits are in the file written
        }
    });
    dialog.exec();
}

void MainWindow::diffDialog() { chooseAndShowDiff(this, m_document, m_sourcePath, m_lastSavedPath); }

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!UnsavedChangesPrompt::mayClose(this, *m_document->undoStack(), [this] { return saveProfile(); })) {
        event->ignore();
        return;
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/vertical"), m_verticalSplitter->saveState());
    settings.setValue(QStringLiteral("window/panes"), m_paneSplitter->saveState());
    settings.setValue(QStringLiteral("window/bottom"), m_bottomSplitter->saveState());
    m_jobs->dropLateResults();
    QMainWindow::closeEvent(event);
}

} // namespace graft::ui
