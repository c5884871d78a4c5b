#include "mappingcommands.h"

namespace graft::ui {

SetMappingsCommand::SetMappingsCommand(MappingDocument *document, const QString &text, std::vector<Mapping> after)
    : QUndoCommand(text), m_document(document), m_beforeState(document->editState()), m_after(std::move(after))
{
    for (const Mapping &mapping : m_after) {
        const int index = document->mappingIndex(mapping.target);
        if (index >= 0)
            m_before.push_back(document->result().mappings[static_cast<size_t>(index)]);
    }
}

// applyMappings keeps the options in step with the new mappings; undoing through it would pin
// the old automatic matches as explicit ones, so undo restores the state as it was.
void SetMappingsCommand::undo() { m_document->restoreMappings(m_before, m_beforeState); }
void SetMappingsCommand::redo() { m_document->applyMappings(m_after); }

ReplaceMappingCommand::ReplaceMappingCommand(MappingDocument *document, const QString &text, MappingResult after,
                                             MatchOptions afterOptions)
    : QUndoCommand(text), m_document(document), m_before(document->result()), m_beforeOptions(document->options()),
      m_after(std::move(after)), m_afterOptions(std::move(afterOptions))
{
}

void ReplaceMappingCommand::undo() { m_document->replaceResult(m_before, m_beforeOptions); }
void ReplaceMappingCommand::redo() { m_document->replaceResult(m_after, m_afterOptions); }

} // namespace graft::ui
