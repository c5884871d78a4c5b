#include "recentfiles.h"

#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace graft::ui {

namespace {
const QString kKey = QStringLiteral("recentFiles");
constexpr int kMostRecent = 10;
} // namespace

RecentFiles::RecentFiles(QMenu *menu, QObject *parent) : QObject(parent), m_menu(menu) { rebuildMenu(); }

QStringList RecentFiles::paths() { return QSettings().value(kKey).toStringList(); }

void RecentFiles::add(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(kKey).toStringList();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recent.removeAll(absolute);
    recent.prepend(absolute);
    settings.setValue(kKey, recent.mid(0, kMostRecent));
    rebuildMenu();
}

void RecentFiles::rebuildMenu()
{
    m_menu->clear();
    const QStringList recent = paths();
    for (const QString &path : recent) {
        QMenu *item = m_menu->addMenu(QFileInfo(path).fileName());
        item->setToolTip(path);
        item->addAction(tr("Open as Source"), this, [this, path] { Q_EMIT openAsSourceRequested(path); });
        item->addAction(tr("Open as Target"), this, [this, path] { Q_EMIT openAsTargetRequested(path); });
    }
    m_menu->setEnabled(!recent.isEmpty());
}

} // namespace graft::ui
