#include "mainwindow.h"

#include "checkpoint/checkpointopener.h"
#include "checkpointtreemodel.h"
#include "combinesavedialog.h"
#include "diffwindow.h"
#include "inspectorwidget.h"
#include "keyfilterproxymodel.h"
#include "keytreeview.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "mappingtablemodel.h"
#include "problemsmodel.h"
#include "mapping/profile.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
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
#include <QShortcut>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QUndoView>
#include <QVBoxLayout>
#include <QtConcurrent>

// The .qrc is compiled into the static graft_ui library: register it before first use.
static void initialiseResources() { Q_INIT_RESOURCE(graft); }

namespace graft::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_document(new MappingDocument(this)),
      m_sourceModel(new CheckpointTreeModel(m_document, CheckpointTreeModel::Side::Source, this)),
      m_targetModel(new CheckpointTreeModel(m_document, CheckpointTreeModel::Side::Target, this)),
      m_sourceProxy(new KeyFilterProxyModel(this)), m_targetProxy(new KeyFilterProxyModel(this)),
      m_tableModel(new MappingTableModel(m_document, this)), m_tableProxy(new KeyFilterProxyModel(this)),
      m_problemsModel(new ProblemsModel(m_document, this))
{
    initialiseResources();
    setWindowTitle(tr("Graft"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/graft.svg")));
    m_sourceProxy->setSourceModel(m_sourceModel);
    m_sourceProxy->setKeyRole(CheckpointTreeModel::KeyRole);
    m_targetProxy->setSourceModel(m_targetModel);
    m_targetProxy->setKeyRole(CheckpointTreeModel::KeyRole);
    m_tableProxy->setSourceModel(m_tableModel);
    m_tableProxy->setSortRole(MappingTableModel::SortRole);
    m_tableProxy->setKeyRole(MappingTableModel::TargetKeyRole);

    m_paneSplitter = new QSplitter(Qt::Horizontal, this);
    m_paneSplitter->addWidget(makePane(Pane::Source));
    m_paneSplitter->addWidget(makePane(Pane::Target));

    m_tableView = new QTableView(this);
    m_tableView->setModel(m_tableProxy);
    m_tableView->setSortingEnabled(true);
    m_tableView->sortByColumn(-1, Qt::AscendingOrder);
    m_tableView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tableView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tableView->verticalHeader()->hide();
    m_tableView->verticalHeader()->setDefaultSectionSize(m_tableView->fontMetrics().height() + 6);
    m_tableView->horizontalHeader()->setStretchLastSection(true);
    m_tableView->setWordWrap(false);
    m_tableView->setColumnWidth(MappingTableModel::TargetColumn, 190);
    m_tableView->setColumnWidth(MappingTableModel::SourceColumn, 160);
    m_tableView->setColumnWidth(MappingTableModel::StatusColumn, 95);
    m_tableView->setColumnWidth(MappingTableModel::FixColumn, 150);
    m_tableView->setColumnWidth(MappingTableModel::ConfidenceColumn, 50);

    auto *problems = new QListView(this);
    problems->setModel(m_problemsModel);
    problems->setUniformItemSizes(true);
    auto *history = new QUndoView(m_document->undoStack(), this);
    history->setEmptyLabel(tr("<opened files>"));

    m_bottomTabs = new QTabWidget(this);
    m_bottomTabs->addTab(m_tableView, tr("Mapping"));
    m_bottomTabs->addTab(problems, tr("Problems"));
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
        ++m_generation; // results still on their way are dropped
        m_jobs = 0;
        jobFinished();
        statusBar()->showMessage(tr("Cancelled"), 3000);
    });

    createActions();

    // Selecting a mapping row selects both tree nodes and shows it in the inspector.
    connect(m_tableView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
        if (!current.isValid())
            return;
        const QString target = current.data(MappingTableModel::TargetKeyRole).toString();
        const QStringList sources = current.data(MappingTableModel::SourceKeysRole).toStringList();
        selectTarget(target);
        if (!sources.isEmpty())
            selectSource(sources.front());
        m_inspector->showTarget(target);
    });
    connect(m_targetView->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex &current) {
        const QString key = current.data(CheckpointTreeModel::KeyRole).toString();
        if (!key.isEmpty())
            m_inspector->showTarget(key);
    });
    connect(problems, &QListView::doubleClicked, this, [this](const QModelIndex &index) {
        const QString target = index.data(ProblemsModel::TargetKeyRole).toString();
        if (!target.isEmpty()) {
            selectTarget(target);
            m_inspector->showTarget(target);
        }
    });
    connect(m_targetModel, &CheckpointTreeModel::incompatibleDropRequested, this,
            [this](const QString &target, const QStringList &sources, const QString &reason) {
                const auto answer = QMessageBox::question(
                    this, tr("Incompatible mapping"),
                    tr("%1 ← %2 does not fit:\n%3\n\nMap it anyway? The file cannot be saved until the transform chain is fixed.")
                        .arg(target, sources.join(QStringLiteral(", ")), reason));
                if (answer != QMessageBox::Yes)
                    return;
                Mapping forced = m_document->proposeMapping(target, sources);
                m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Force map %1").arg(target), {forced}));
            });
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

QWidget *MainWindow::makePane(Pane pane)
{
    const bool source = pane == Pane::Source;
    auto *widget = new QWidget(this);
    auto *layout = new QVBoxLayout(widget);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *title = new QLabel(source ? tr("<b>Source</b> — File › Open Source… or drop a file here")
                                    : tr("<b>Target</b> — File › Open Target… or drop a file here"),
                             widget);
    title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *filterRow = new QHBoxLayout;
    auto *filter = new QLineEdit(widget);
    filter->setPlaceholderText(tr("Filter keys (substring)"));
    filter->setClearButtonEnabled(true);
    auto *regex = new QCheckBox(tr("regex"), widget);
    filterRow->addWidget(filter);
    filterRow->addWidget(regex);
    auto *view = new KeyTreeView(widget);
    KeyFilterProxyModel *proxy = source ? m_sourceProxy : m_targetProxy;
    view->setModel(proxy);
    view->setTreeModel(source ? m_sourceModel : m_targetModel);
    view->header()->setSectionResizeMode(CheckpointTreeModel::NameColumn, QHeaderView::Stretch);
    view->header()->setStretchLastSection(false);
    view->header()->resizeSection(CheckpointTreeModel::StatusColumn, source ? 190 : 90);
    view->header()->resizeSection(CheckpointTreeModel::ShapeColumn, 110);
    view->header()->resizeSection(CheckpointTreeModel::DTypeColumn, 70);
    view->header()->resizeSection(CheckpointTreeModel::SizeColumn, 75);
    auto applyFilter = [filter, regex, view] {
        const QString error = view->setKeyFilter(filter->text(), regex->isChecked());
        filter->setStyleSheet(error.isEmpty() ? QString() : QStringLiteral("background: #fbdfdf"));
        filter->setToolTip(error);
    };
    connect(filter, &QLineEdit::textChanged, this, applyFilter);
    connect(regex, &QCheckBox::toggled, this, applyFilter);
    connect(view, &KeyTreeView::filesDropped, this, [this, pane](const QStringList &paths) {
        if (!paths.isEmpty())
            open(pane, paths.front(), false);
    });
    layout->addWidget(title);
    layout->addLayout(filterRow);
    layout->addWidget(view);
    if (source) {
        m_sourceView = view;
        m_sourceFilter = filter;
        m_sourceTitle = title;
    } else {
        m_targetView = view;
        m_targetFilter = filter;
        m_targetTitle = title;
    }
    return widget;
}

void MainWindow::createActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QToolBar *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    QAction *openSourceAction = file->addAction(tr("Open &Source…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Source Checkpoint"), QFileInfo(m_sourcePath).path(),
                                                          tr("Checkpoints (*.pt *.pth *.bin *.ckpt *.safetensors *.json *.npz *.npy *.eqx);;All files (*)"));
        if (!path.isEmpty())
            openSource(path);
    });
    QAction *openTargetAction = file->addAction(tr("Open &Target…"), QKeySequence(tr("Ctrl+Shift+O")), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Target"), QFileInfo(m_targetPath).path(),
                                                          tr("Skeletons and checkpoints (*.json *.eqx *.pt *.pth *.bin *.safetensors *.npz);;All files (*)"));
        if (!path.isEmpty())
            openTarget(path);
    });
    m_recentMenu = file->addMenu(tr("Recent Files"));
    rebuildRecentMenu();
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
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(tr("Ctrl+Shift+Z"))});
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
        QLineEdit *filter = m_targetView->hasFocus() ? m_targetFilter : m_sourceFilter;
        filter->setFocus();
        filter->selectAll();
    });

    QMenu *mapping = menuBar()->addMenu(tr("&Mapping"));
    QAction *autoMatch = mapping->addAction(tr("&Auto-match…"), QKeySequence(tr("Ctrl+M")), this, &MainWindow::autoMatchDialog);
    QAction *ruleAction = mapping->addAction(tr("Add &Rename Rule…"), QKeySequence(tr("Ctrl+R")), this, &MainWindow::addRenameRule);

    toolbar->addAction(openSourceAction);
    toolbar->addAction(openTargetAction);
    toolbar->addSeparator();
    toolbar->addAction(autoMatch);
    toolbar->addAction(ruleAction);
    toolbar->addAction(loadProfileAction);
    toolbar->addSeparator();
    toolbar->addAction(undo);
    toolbar->addAction(redo);
    toolbar->addSeparator();
    toolbar->addAction(combineAction);
}

bool MainWindow::isBusy() const { return m_jobs > 0; }

void MainWindow::jobStarted(const QString &text)
{
    ++m_jobs;
    m_progress->show();
    m_cancel->show();
    statusBar()->showMessage(text);
}

void MainWindow::jobFinished()
{
    m_jobs = std::max(0, m_jobs - 1);
    if (m_jobs > 0)
        return;
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
    jobStarted(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    auto *watcher = new QFutureWatcher<Result<Checkpoint>>(this); // parented: a late result can't outlive us
    const quint64 generation = m_generation;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, pane, path, quiet, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return;
        Result<Checkpoint> checkpoint = watcher->result();
        if (!checkpoint) {
            jobFinished();
            showError(tr("Cannot open file"), checkpoint.error().toString(), quiet);
            return;
        }
        const QString summary = tr("%1 — %2, %3 tensors, %4")
                                    .arg(QFileInfo(path).fileName(), formatName(checkpoint->format()))
                                    .arg(checkpoint->tensors().size())
                                    .arg(QLocale().formattedDataSize(checkpoint->totalBytes()));
        if (pane == Pane::Source) {
            m_sourcePath = path;
            m_sourceTitle->setText(tr("<b>Source</b> %1").arg(summary.toHtmlEscaped()));
            m_document->setSource(std::move(checkpoint).value());
        } else {
            m_targetPath = path;
            m_targetTitle->setText(tr("<b>Target</b> %1").arg(summary.toHtmlEscaped()));
            m_document->setTarget(std::move(checkpoint).value());
        }
        rememberRecent(path);
        KeyTreeView *view = pane == Pane::Source ? m_sourceView : m_targetView;
        if (view->model()->rowCount() > 0 && (pane == Pane::Source ? m_document->source() : m_document->target())->tensors().size() <= 400)
            view->expandAll(); // small models: show every leaf; big ones stay collapsed
        else
            view->expandToDepth(0);
        if (m_document->source() && m_document->target() && m_pendingProfile.isEmpty())
            runMatch(tr("Automatic matching"), m_document->options());
        jobFinished();
    });
    watcher->setFuture(QtConcurrent::run([path] { return openCheckpoint(path); }));
}

void MainWindow::runMatch(const QString &commandText, const MatchOptions &options)
{
    if (!m_document->source() || !m_document->target())
        return;
    jobStarted(tr("Matching…"));
    const Checkpoint source = *m_document->source();
    const Checkpoint target = *m_document->target();
    auto *watcher = new QFutureWatcher<MappingResult>(this);
    const quint64 generation = m_generation;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, commandText, options, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return; // cancelled: the job count was reset already
        m_document->undoStack()->push(new ReplaceMappingCommand(m_document, commandText, watcher->result(), options));
        if (m_inspector->currentTarget().isEmpty())
            selectFirstProblemOrFix();
        jobFinished();
    });
    watcher->setFuture(QtConcurrent::run([source, target, options] { return matchCheckpoints(source, target, options); }));
}

void MainWindow::loadProfile(const QString &path, bool quiet)
{
    if (!m_document->source() || !m_document->target() || isBusy()) {
        m_pendingProfile = path; // applied when both files are open
        return;
    }
    Result<Profile> profile = graft::loadProfile(path);
    if (!profile) {
        showError(tr("Cannot load profile"), profile.error().toString(), quiet);
        Q_EMIT idle();
        return;
    }
    m_profilePath = path;
    for (const QString &warning : profileMismatchWarnings(*profile, *m_document->source(), *m_document->target()))
        m_problemsModel->addFileError(warning);
    runMatch(tr("Load profile %1").arg(QFileInfo(path).fileName()), profile->toMatchOptions());
}

void MainWindow::updateSummary()
{
    if (!m_document->target()) {
        m_summary->setText(tr("Open a source checkpoint and a target to begin."));
        return;
    }
    const MappingSummary s = m_document->result().summary();
    m_summary->setText(tr("%1 targets — mapped %2 (exact %3, fixable %4) · incompatible %5 · unmapped %6 · kept %7 · ambiguous %8 · unused sources %9")
                           .arg(s.targets).arg(s.exact + s.fixable).arg(s.exact).arg(s.fixable).arg(s.incompatible)
                           .arg(s.unmapped).arg(s.kept).arg(s.ambiguous).arg(s.unusedSources));
    m_bottomTabs->setTabText(1, tr("Problems (%1)").arg(m_problemsModel->rowCount()));
}

void MainWindow::selectFirstProblemOrFix()
{
    // Show the most informative row first: a problem, else a leaf that needs a fix.
    const auto &mappings = m_document->result().mappings;
    auto pick = [&](auto predicate) {
        for (int row = 0; row < m_tableProxy->rowCount(); ++row) {
            const QModelIndex index = m_tableProxy->index(row, 0);
            const int m = m_document->mappingIndex(index.data(MappingTableModel::TargetKeyRole).toString());
            if (m >= 0 && predicate(mappings[static_cast<size_t>(m)])) {
                m_tableView->selectRow(row);
                return true;
            }
        }
        return false;
    };
    if (!pick([](const Mapping &m) { return m.status == MatchStatus::Incompatible || m.status == MatchStatus::Unmapped; }))
        pick([](const Mapping &m) { return m.status == MatchStatus::Fixable; });
}

void MainWindow::selectTarget(const QString &key)
{
    const QModelIndex index = m_targetProxy->mapFromSource(m_targetModel->indexOfKey(key));
    if (!index.isValid())
        return;
    m_targetView->scrollTo(index);
    m_targetView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void MainWindow::selectSource(const QString &key)
{
    const QModelIndex index = m_sourceProxy->mapFromSource(m_sourceModel->indexOfKey(key));
    if (!index.isValid())
        return;
    m_sourceView->scrollTo(index);
    m_sourceView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

QStringList MainWindow::selectedKeys(Pane pane) const
{
    KeyTreeView *view = pane == Pane::Source ? m_sourceView : m_targetView;
    QStringList keys;
    for (const QModelIndex &index : view->selectionModel()->selectedRows()) {
        const QString key = index.data(CheckpointTreeModel::KeyRole).toString();
        if (!key.isEmpty())
            keys << key;
    }
    return keys;
}

void MainWindow::mapSelection()
{
    const QStringList sources = selectedKeys(Pane::Source);
    const QStringList targets = selectedKeys(Pane::Target);
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
    for (const QString &target : selectedKeys(Pane::Target))
        kept.push_back(m_document->keptMapping(target));
    if (kept.empty())
        return;
    m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Unmap %n target(s)", nullptr, static_cast<int>(kept.size())), kept));
}

void MainWindow::autoMatchDialog()
{
    if (!m_document->source() || !m_document->target())
        return;
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Automatic matching"));
    auto *layout = new QVBoxLayout(&dialog);
    auto *names = new QCheckBox(tr("By name (canonical keys, rename rules, synonyms, fused q/k/v)"), &dialog);
    auto *order = new QCheckBox(tr("By order and shape (alignment between name matches)"), &dialog);
    auto *keepEdits = new QCheckBox(tr("Keep mappings made by hand"), &dialog);
    names->setChecked(true);
    order->setChecked(true);
    keepEdits->setChecked(true);
    layout->addWidget(names);
    layout->addWidget(order);
    layout->addWidget(keepEdits);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    MatchOptions options = m_document->options();
    options.useNames = names->isChecked();
    options.useOrder = order->isChecked();
    if (!keepEdits->isChecked()) {
        options.explicitMappings.clear();
        options.keptTargets.clear();
    }
    runMatch(tr("Automatic matching"), options);
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
    Result<RenameRule> rule = RenameRule::parse(text);
    if (!rule) {
        QMessageBox::warning(this, tr("Add Rename Rule"), rule.error().message);
        return;
    }
    MatchOptions options = m_document->options();
    options.rules.push_back(*rule);
    runMatch(tr("Add rename rule %1").arg(text), options);
}

void MainWindow::loadProfileDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Load Profile"), QFileInfo(m_profilePath).path(),
                                                      tr("Graft profiles (*.graft.json);;JSON (*.json);;All files (*)"));
    if (!path.isEmpty())
        loadProfile(path);
}

void MainWindow::saveProfile()
{
    if (!m_document->source() || !m_document->target())
        return;
    QString path = m_profilePath;
    if (path.isEmpty())
        path = QFileDialog::getSaveFileName(this, tr("Save Profile"), QFileInfo(m_sourcePath).completeBaseName() + QStringLiteral(".graft.json"),
                                            tr("Graft profiles (*.graft.json)"));
    if (path.isEmpty())
        return;
    const Profile profile = profileFromResult(m_document->result(), *m_document->source(), *m_document->target(), m_document->options().rules);
    Status saved = graft::saveProfile(profile, path);
    if (!saved) {
        showError(tr("Cannot save profile"), saved.error().toString(), false);
        return;
    }
    m_profilePath = path;
    statusBar()->showMessage(tr("Saved profile %1").arg(path), 5000);
}

void MainWindow::combineAndSave()
{
    if (!m_document->source() || !m_document->target()) {
        QMessageBox::information(this, tr("Combine & Save"), tr("Open a source and a target first."));
        return;
    }
    CombineSaveDialog dialog(m_document, m_sourcePath, m_targetPath, this);
    connect(&dialog, &CombineSaveDialog::finished, this, [this](bool ok, const QString &path) {
        if (ok)
            m_lastSavedPath = path;
    });
    dialog.exec();
}

void MainWindow::diffDialog()
{
    QMessageBox choice(this);
    choice.setWindowTitle(tr("Diff"));
    choice.setText(tr("Compare parameters"));
    QPushButton *files = choice.addButton(tr("Two files…"), QMessageBox::ActionRole);
    QPushButton *result = nullptr;
    if (!m_lastSavedPath.isEmpty() && m_document->source() && m_document->target()) {
        choice.setInformativeText(tr("…or the source against the file last saved (%1), through the current mapping.")
                                      .arg(QFileInfo(m_lastSavedPath).fileName()));
        result = choice.addButton(tr("Source vs. saved result"), QMessageBox::ActionRole);
    }
    choice.addButton(QMessageBox::Cancel);
    choice.exec();
    auto *window = new DiffWindow;
    window->setAttribute(Qt::WA_DeleteOnClose);
    if (choice.clickedButton() == files) {
        const QString a = QFileDialog::getOpenFileName(this, tr("Diff: file A"), QFileInfo(m_sourcePath).path());
        const QString b = a.isEmpty() ? QString() : QFileDialog::getOpenFileName(this, tr("Diff: file B"), QFileInfo(a).path());
        if (b.isEmpty()) {
            delete window;
            return;
        }
        window->compareFiles(a, b);
    } else if (result != nullptr && choice.clickedButton() == result) {
        window->compareThroughMapping(*m_document->source(), *m_document->target(), m_document->result(), m_lastSavedPath);
    } else {
        delete window;
        return;
    }
    window->show();
}

void MainWindow::rememberRecent(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recentFiles")).toStringList();
    recent.removeAll(QFileInfo(path).absoluteFilePath());
    recent.prepend(QFileInfo(path).absoluteFilePath());
    settings.setValue(QStringLiteral("recentFiles"), recent.mid(0, 10));
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    for (const QString &path : recent) {
        QMenu *item = m_recentMenu->addMenu(QFileInfo(path).fileName());
        item->setToolTip(path);
        item->addAction(tr("Open as Source"), this, [this, path] { openSource(path); });
        item->addAction(tr("Open as Target"), this, [this, path] { openTarget(path); });
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/vertical"), m_verticalSplitter->saveState());
    settings.setValue(QStringLiteral("window/panes"), m_paneSplitter->saveState());
    settings.setValue(QStringLiteral("window/bottom"), m_bottomSplitter->saveState());
    ++m_generation;
    QMainWindow::closeEvent(event);
}

} // namespace graft::ui
