#pragma once
// The picture that follows the cursor while source keys are dragged. Qt's default is the
// grabbed rows themselves, placed where they were grabbed: held by its name, a row covers the
// target row under the cursor and with it the fit colour (green / amber / red) the target tree
// paints there. This one is a compact label ("features.0.weight", "12 keys: transformer.h.0…")
// hanging below the cursor, clear of the row the cursor is on.

#include <QPixmap>
#include <QPoint>
#include <QStringList>

class QFont;
class QPalette;

namespace graft::ui {

struct DragPixmap {
    QPixmap pixmap;
    QPoint hotSpot; ///< for QDrag::setHotSpot: the cursor relative to the pixmap's top-left
};

/// The label for dragging `keys` over rows `rowHeight` pixels high: its top edge is more than
/// a row below the cursor (the hot spot is negative), so the row under the cursor stays visible.
DragPixmap dragPixmap(const QStringList &keys, const QFont &font, const QPalette &palette, int rowHeight);

} // namespace graft::ui
