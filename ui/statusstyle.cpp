#include "statusstyle.h"

#include <QHash>
#include <QPainter>
#include <QPixmap>

namespace graft::ui {

QColor statusColor(MatchStatus status)
{
    switch (status) {
    case MatchStatus::Exact: return QColor(0x2e, 0x8b, 0x3e);
    case MatchStatus::Fixable: return QColor(0xc7, 0x7c, 0x02);
    case MatchStatus::Incompatible: return QColor(0xc6, 0x28, 0x28);
    case MatchStatus::Unmapped: return QColor(0x75, 0x75, 0x75);
    case MatchStatus::Kept: return QColor(0x45, 0x6e, 0xa8);
    case MatchStatus::Guessed: return QColor(0x7b, 0x3f, 0xb5); // violet: decided by order and shape alone
    }
    return {};
}

// An empty QVariant (not an invalid QColor, which views paint black) leaves the row's own colour.
QVariant statusBackground(MatchStatus status)
{
    switch (status) {
    case MatchStatus::Exact: return QColor(0xe3, 0xf4, 0xe4);
    case MatchStatus::Fixable: return QColor(0xfd, 0xf0, 0xd5);
    case MatchStatus::Incompatible: return QColor(0xfb, 0xdf, 0xdf);
    case MatchStatus::Unmapped: return {};
    case MatchStatus::Kept: return QColor(0xe6, 0xee, 0xf8);
    case MatchStatus::Guessed: return QColor(0xef, 0xe4, 0xfa);
    }
    return {};
}

QIcon statusIcon(MatchStatus status)
{
    static QHash<int, QIcon> cache;
    const int key = static_cast<int>(status);
    if (!cache.contains(key)) {
        QPixmap pixmap(14, 14);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(Qt::NoPen);
        painter.setBrush(statusColor(status));
        painter.drawEllipse(QRectF(2, 2, 10, 10));
        cache.insert(key, QIcon(pixmap));
    }
    return cache.value(key);
}

QString statusLabel(MatchStatus status) { return matchStatusName(status); }

} // namespace graft::ui
