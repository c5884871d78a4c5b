#pragma once
// The question before the workbench closes with mapping edits that were not saved: Save (the
// profile) / Discard / Cancel, as every editor asks. "Saved" is the undo stack's clean state:
// opening files and their automatic match are no edits; saving a profile or the combined file
// marks the stack clean.

#include <functional>

class QUndoStack;
class QWidget;

namespace graft::ui {

class UnsavedChangesPrompt {
public:
    /// Whether the window may close now. Asks when `stack` is not clean; Save calls `save`,
    /// which returns whether it saved (a cancelled file dialog or a failed write keeps the
    /// window open).
    static bool mayClose(QWidget *parent, const QUndoStack &stack, const std::function<bool()> &save);
};

} // namespace graft::ui
