#include "unsavedchangesprompt.h"

#include <QMessageBox>
#include <QObject>
#include <QUndoStack>

#include <cstdlib>

namespace graft::ui {

bool UnsavedChangesPrompt::mayClose(QWidget *parent, const QUndoStack &stack, const std::function<bool()> &save)
{
    if (stack.isClean())
        return true;
    // Edits since the clean state (undone ones count too: the mapping differs from the saved one).
    const int edits = stack.cleanIndex() >= 0 ? std::abs(stack.index() - stack.cleanIndex()) : stack.count();
    QMessageBox box(QMessageBox::Question, QObject::tr("Unsaved mapping edits"),
                    edits == 1 ? QObject::tr("The mapping has 1 edit that is not saved.")
                                : QObject::tr("The mapping has %1 edits that are not saved.").arg(edits),
                    QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, parent);
    box.setInformativeText(QObject::tr("Save them as a profile before closing? (Last edit: %1)").arg(stack.undoText()));
    box.setDefaultButton(QMessageBox::Save);
    switch (box.exec()) {
    case QMessageBox::Save: return save();
    case QMessageBox::Discard: return true;
    default: return false;
    }
}

} // namespace graft::ui
