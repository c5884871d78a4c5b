#pragma once
// File › Recent Files: the last ten files opened (in QSettings, "recentFiles"), each with
// "Open as Source" and "Open as Target".

#include <QObject>
#include <QStringList>

class QMenu;

namespace graft::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    /// Fills `menu` (not owned) now and after every add().
    explicit RecentFiles(QMenu *menu, QObject *parent = nullptr);

    /// Puts `path` (made absolute) first, keeping ten at most.
    void add(const QString &path);
    /// Absolute paths, the most recent first.
    static QStringList paths();

Q_SIGNALS:
    void openAsSourceRequested(const QString &path);
    void openAsTargetRequested(const QString &path);

private:
    void rebuildMenu();

    QMenu *m_menu;
};

} // namespace graft::ui
