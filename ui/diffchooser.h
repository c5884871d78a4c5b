#pragma once
// The Diff… menu entry: asks what to compare (two files, or the source against the file last
// saved, through the current mapping) and opens a DiffWindow on it.

#include <QString>

class QWidget;

namespace graft::ui {

class MappingDocument;

/// Asks and opens the diff window (deletes itself on close); nothing when the user cancels.
/// `lastSavedPath` empty: only "two files" is offered.
void chooseAndShowDiff(QWidget *parent, const MappingDocument *document, const QString &sourcePath, const QString &lastSavedPath);

} // namespace graft::ui
