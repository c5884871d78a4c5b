#pragma once
// The undoable edits of a MappingDocument. Each stores what it changes before and after;
// redo()/undo() only call the document's mutators.

#include "mappingdocument.h"

#include <QUndoCommand>

namespace graft::ui {

/// Sets the mappings of some targets: map by hand, unmap, change a transform chain, a drop of
/// several keys or a subtree (one command for the whole drop).
class SetMappingsCommand : public QUndoCommand {
public:
    SetMappingsCommand(MappingDocument *document, const QString &text, std::vector<Mapping> after);
    void undo() override;
    void redo() override;

private:
    MappingDocument *m_document;
    std::vector<Mapping> m_before;
    MappingEditState m_beforeState;
    std::vector<Mapping> m_after;
};

/// Replaces the whole mapping and its options: automatic matching, a rename rule, a profile.
class ReplaceMappingCommand : public QUndoCommand {
public:
    ReplaceMappingCommand(MappingDocument *document, const QString &text, MappingResult after, MatchOptions afterOptions);
    void undo() override;
    void redo() override;

private:
    MappingDocument *m_document;
    MappingResult m_before;
    MatchOptions m_beforeOptions;
    MappingResult m_after;
    MatchOptions m_afterOptions;
};

} // namespace graft::ui
