#include "heatmapwidget.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace graft::ui {

namespace {
constexpr int kScaleBarWidth = 14;
constexpr int kMargin = 6;
constexpr int kTitleHeight = 18;
} // namespace

HeatMapWidget::HeatMapWidget(QWidget *parent) : QWidget(parent)
{
    setMouseTracking(true);
    setMinimumSize(160, 120);
}

QRgb HeatMapWidget::colorFor(double value, double scale)
{
    if (!std::isfinite(value))
        return qRgb(0x60, 0x60, 0x60);
    const double t = scale > 0 ? std::clamp(value / scale, -1.0, 1.0) : 0.0;
    // White at 0, to #b2182b (red) at +1 and #2166ac (blue) at -1 (ColorBrewer RdBu ends).
    const QColor end = t >= 0 ? QColor(0xb2, 0x18, 0x2b) : QColor(0x21, 0x66, 0xac);
    const double f = std::abs(t);
    return qRgb(static_cast<int>(255 + (end.red() - 255) * f), static_cast<int>(255 + (end.green() - 255) * f),
                static_cast<int>(255 + (end.blue() - 255) * f));
}

void HeatMapWidget::setGrid(const HeatMapGrid &grid, const QString &title, double scale)
{
    m_grid = grid;
    m_title = title;
    m_scale = scale;
    m_image = QImage(std::max(grid.gridColumns, 1), std::max(grid.gridRows, 1), QImage::Format_RGB32);
    m_image.fill(qRgb(0xee, 0xee, 0xee));
    for (int r = 0; r < grid.gridRows; ++r) {
        auto *line = reinterpret_cast<QRgb *>(m_image.scanLine(r));
        for (int c = 0; c < grid.gridColumns; ++c)
            line[c] = colorFor(grid.values[static_cast<size_t>(r) * grid.gridColumns + c], scale);
    }
    resetView();
}

void HeatMapWidget::resetView()
{
    m_zoom = 1.0;
    m_offset = QPointF();
    update();
}

QRectF HeatMapWidget::imageRect() const
{
    const QRectF area(kMargin, kMargin + kTitleHeight, width() - 3 * kMargin - kScaleBarWidth - 40, height() - 2 * kMargin - kTitleHeight);
    if (m_image.isNull() || area.width() <= 0 || area.height() <= 0)
        return {};
    // Fit keeping cells square when possible, but stretch a thin strip so it stays visible.
    double cellWidth = area.width() / m_image.width();
    double cellHeight = area.height() / m_image.height();
    const double square = std::min(cellWidth, cellHeight);
    if (m_image.height() * square >= 12 && m_image.width() * square >= 12)
        cellWidth = cellHeight = square;
    else
        cellHeight = std::min(cellHeight, std::max(square, 24.0 / m_image.height()));
    QRectF rect(area.topLeft(), QSizeF(m_image.width() * cellWidth * m_zoom, m_image.height() * cellHeight * m_zoom));
    rect.translate(m_offset);
    return rect;
}

void HeatMapWidget::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.fillRect(rect(), palette().window());
    painter.drawText(QRect(kMargin, kMargin, width() - 2 * kMargin, kTitleHeight), Qt::AlignLeft | Qt::AlignVCenter,
                     m_title + (m_grid.blockRows * m_grid.blockColumns > 1
                                    ? tr("  (%1×%2 blocks, max |x| kept)").arg(m_grid.blockRows).arg(m_grid.blockColumns)
                                    : QString()));
    if (m_image.isNull())
        return;
    const QRectF target = imageRect();
    painter.save();
    painter.setClipRect(QRect(kMargin, kMargin + kTitleHeight, width() - 2 * kMargin - kScaleBarWidth - 40, height()));
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.drawImage(target, m_image);
    painter.restore();

    // Scale bar beside the map (at least 100 px tall): +scale at the top, 0 in the middle, -scale at the bottom.
    const int barHeight = std::clamp(static_cast<int>(target.height()), 100, height() - 2 * kMargin - kTitleHeight);
    const QRect bar(width() - kMargin - kScaleBarWidth - 40, kMargin + kTitleHeight, kScaleBarWidth, barHeight);
    for (int y = 0; y < bar.height(); ++y) {
        const double value = m_scale * (1.0 - 2.0 * y / std::max(1, bar.height() - 1));
        painter.setPen(QColor::fromRgb(colorFor(value, m_scale)));
        painter.drawLine(bar.left(), bar.top() + y, bar.right(), bar.top() + y);
    }
    painter.setPen(palette().text().color());
    painter.drawRect(bar.adjusted(0, 0, -1, -1));
    const QString top = QString::number(m_scale, 'g', 3);
    painter.drawText(QPoint(bar.right() + 4, bar.top() + 10), top);
    painter.drawText(QPoint(bar.right() + 4, bar.center().y() + 4), QStringLiteral("0"));
    painter.drawText(QPoint(bar.right() + 4, bar.bottom()), QStringLiteral("-") + top);
}

void HeatMapWidget::wheelEvent(QWheelEvent *event)
{
    const QRectF before = imageRect();
    if (before.isEmpty())
        return;
    const double factor = event->angleDelta().y() > 0 ? 1.25 : 0.8;
    const double zoom = std::clamp(m_zoom * factor, 1.0, 256.0);
    // Keep the point under the cursor fixed.
    const QPointF cursor = event->position();
    const QPointF relative = (cursor - before.topLeft());
    m_offset += relative - relative * (zoom / m_zoom);
    m_zoom = zoom;
    if (m_zoom == 1.0)
        m_offset = QPointF();
    update();
}

void HeatMapWidget::mousePressEvent(QMouseEvent *event)
{
    m_dragging = event->button() == Qt::LeftButton;
    m_dragStart = event->position().toPoint();
}

void HeatMapWidget::mouseReleaseEvent(QMouseEvent *) { m_dragging = false; }

void HeatMapWidget::mouseMoveEvent(QMouseEvent *event)
{
    if (m_dragging) {
        m_offset += event->position().toPoint() - m_dragStart;
        m_dragStart = event->position().toPoint();
        update();
        return;
    }
    const QRectF target = imageRect();
    if (!target.contains(event->position()) || m_image.isNull()) {
        QToolTip::hideText();
        return;
    }
    const int column = static_cast<int>((event->position().x() - target.left()) / target.width() * m_image.width());
    const int row = static_cast<int>((event->position().y() - target.top()) / target.height() * m_image.height());
    const qint64 firstRow = static_cast<qint64>(row) * m_grid.blockRows;
    const qint64 firstColumn = static_cast<qint64>(column) * m_grid.blockColumns;
    const qint64 rows = std::min(m_grid.blockRows, m_grid.rows - firstRow);
    const qint64 columns = std::min(m_grid.blockColumns, m_grid.columns - firstColumn);
    QString text = m_hoverText ? m_hoverText(firstRow, firstColumn, rows, columns) : QString();
    if (m_grid.blockRows * m_grid.blockColumns > 1)
        text += tr("\nblock value (max |x|): %1").arg(m_grid.values[static_cast<size_t>(row) * m_grid.gridColumns + column], 0, 'g', 6);
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

} // namespace graft::ui
