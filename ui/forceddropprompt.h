#pragma once
// The question after a drop of an incompatible source forced with Shift: map it anyway? Asked
// after the drop finished (CheckpointTreeModel queues the request), never inside it; a yes is
// one undo command.

#include <QStringList>

class QWidget;

namespace graft::ui {

class MappingDocument;

/// Asks the user (a modal question on `parent`) and, on Yes, pushes "Force map <target>".
void askForcedDrop(QWidget *parent, MappingDocument *document, const QString &target, const QStringList &sources, const QString &reason);

} // namespace graft::ui
