#pragma once
// Colours and labels for mapping statuses, shared by every view so they agree.

#include "mapping/shapeanalysis.h"

#include <QColor>
#include <QVariant>
#include <QIcon>
#include <QString>

namespace graft::ui {

/// Soft background for a row of this status, for Qt::BackgroundRole (empty: no background).
QVariant statusBackground(MatchStatus status);
/// Strong colour for text, icons and drop hints.
QColor statusColor(MatchStatus status);
/// A small round icon in the status colour.
QIcon statusIcon(MatchStatus status);
/// "exact", "fixable", ... for display.
QString statusLabel(MatchStatus status);

} // namespace graft::ui
