#include "dragpixmap.h"

#include <QFontMetrics>
#include <QObject>
#include <QPainter>
#include <QPalette>

#include <algorithm>

namespace graft::ui {
namespace {

constexpr int kPadding = 4;
constexpr int kGap = 4;        // between the row under the cursor and the label
constexpr int kMaxWidth = 360; // long keys are elided in the middle

} // namespace

DragPixmap dragPixmap(const QStringList &keys, const QFont &font, const QPalette &palette, int rowHeight)
{
    const QFontMetrics metrics(font);
    QString text = keys.isEmpty() ? QString() : keys.front();
    if (keys.size() > 1)
        text = QObject::tr("%1 keys: %2…").arg(keys.size()).arg(keys.front());
    text = metrics.elidedText(text, Qt::ElideMiddle, kMaxWidth);
    const QSize size(metrics.horizontalAdvance(text) + 2 * kPadding, metrics.height() + 2 * kPadding);
    QPixmap pixmap(size);
    pixmap.fill(Qt::transparent);
    {
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(palette.color(QPalette::Dark));
        painter.setBrush(palette.color(QPalette::ToolTipBase));
        painter.drawRoundedRect(QRectF(0.5, 0.5, size.width() - 1, size.height() - 1), 3, 3);
        painter.setFont(font);
        painter.setPen(palette.color(QPalette::ToolTipText));
        painter.drawText(QRect(QPoint(0, 0), size), Qt::AlignCenter, text);
    }
    // The cursor can be anywhere in its row: the label starts a whole row (plus a gap) below it.
    return {pixmap, QPoint(-kGap, -(std::max(rowHeight, 1) + kGap))};
}

} // namespace graft::ui
