#include "mainwindow.h"

#include "checkpointlistmodel.h"
#include "checkpointopener.h"

#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTreeView>
#include <QVBoxLayout>

namespace graft::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent),
      m_sourceModel(new CheckpointListModel(this)),
      m_targetModel(new CheckpointListModel(this)),
      m_sourceTitle(new QLabel(tr("Source: (none) — File › Open Source…"), this)),
      m_targetTitle(new QLabel(tr("Target: (none) — File › Open Target…"), this))
{
    setWindowTitle(tr("Graft"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/graft.svg")));
    auto *splitter = new QSplitter(this);
    splitter->addWidget(makePane(m_sourceModel, m_sourceTitle));
    splitter->addWidget(makePane(m_targetModel, m_targetTitle));
    setCentralWidget(splitter);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &Source…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Source Checkpoint"));
        if (!path.isEmpty())
            openSource(path);
    });
    file->addAction(tr("Open &Target…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Target"));
        if (!path.isEmpty())
            openTarget(path);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    statusBar()->showMessage(tr("Open a source checkpoint and a target to begin."));
    resize(1400, 900);
}

QWidget *MainWindow::makePane(CheckpointListModel *model, QLabel *title)
{
    auto *pane = new QWidget(this);
    auto *layout = new QVBoxLayout(pane);
    auto *view = new QTreeView(pane);
    view->setModel(model);
    view->setRootIsDecorated(false);
    view->setUniformRowHeights(true);
    view->setAlternatingRowColors(true);
    view->header()->setSectionResizeMode(CheckpointListModel::KeyColumn, QHeaderView::Stretch);
    view->header()->setStretchLastSection(false);
    title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(title);
    layout->addWidget(view);
    return pane;
}

bool MainWindow::openSource(const QString &path, bool quiet)
{
    return openInto(m_sourceModel, m_sourceTitle, path, quiet);
}

bool MainWindow::openTarget(const QString &path, bool quiet)
{
    return openInto(m_targetModel, m_targetTitle, path, quiet);
}

bool MainWindow::openInto(CheckpointListModel *model, QLabel *title, const QString &path, bool quiet)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!checkpoint) {
        statusBar()->showMessage(checkpoint.error().toString());
        if (!quiet)
            QMessageBox::critical(this, tr("Cannot open file"), checkpoint.error().toString());
        return false;
    }
    title->setText(tr("%1 — %2, %3 tensors, %4")
                       .arg(path, formatName(checkpoint->format()))
                       .arg(checkpoint->tensors().size())
                       .arg(QLocale().formattedDataSize(checkpoint->totalBytes())));
    model->setCheckpoint(std::move(checkpoint).value());
    return true;
}

} // namespace graft::ui
