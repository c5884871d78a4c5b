#pragma once
// A heat map of a HeatMapGrid: diverging colour map (blue < 0 < red, white at 0) symmetric
// around zero, a scale bar, zoom with the wheel, pan by dragging, and a tooltip with the index
// under the cursor and the values there (from a callback, so it can show both A and B).

#include "tensor/heatmap.h"

#include <QImage>
#include <QWidget>

#include <functional>

namespace graft::ui {

class HeatMapWidget : public QWidget {
    Q_OBJECT
public:
    /// Text for the tensor cell range under the cursor: (first row, first column, rows, columns).
    using HoverText = std::function<QString(qint64, qint64, qint64, qint64)>;

    explicit HeatMapWidget(QWidget *parent = nullptr);

    void setGrid(const HeatMapGrid &grid, const QString &title, double scale);
    void setHoverText(HoverText hoverText) { m_hoverText = std::move(hoverText); }
    void resetView();

    /// RGB of a value in [-scale, scale] on the diverging map.
    static QRgb colorFor(double value, double scale);

protected:
    void paintEvent(QPaintEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;

private:
    QRectF imageRect() const;

    HeatMapGrid m_grid;
    QImage m_image;
    QString m_title;
    double m_scale = 1.0;
    double m_zoom = 1.0;
    QPointF m_offset;
    QPoint m_dragStart;
    bool m_dragging = false;
    HoverText m_hoverText;
};

} // namespace graft::ui
