#pragma once
// The document the workbench edits: the opened source and target, the current mapping and the
// options it came from (rules, explicit pairs, kept, ignored), and the undo stack. Every edit
// is a QUndoCommand (mappingcommands.h) that calls the mutators below; views listen to the
// signals and never change the mapping themselves.

#include "mapping/automatcher.h"
#include "checkpoint/checkpoint.h"
#include "mapping/mapping.h"

#include <QObject>
#include <QUndoStack>

#include <optional>

namespace graft::ui {

/// What an edit of some mappings changes besides the mappings: the options kept in step with
/// hand edits (explicit pins, kept targets) and the ambiguity list. Undo restores it exactly.
struct MappingEditState {
    MatchOptions options;
    std::vector<Ambiguity> ambiguous;
};

class MappingDocument : public QObject {
    Q_OBJECT
public:
    explicit MappingDocument(QObject *parent = nullptr);

    const Checkpoint *source() const { return m_source ? &*m_source : nullptr; }
    const Checkpoint *target() const { return m_target ? &*m_target : nullptr; }
    const MappingResult &result() const { return m_result; }
    const MatchOptions &options() const { return m_options; }
    QUndoStack *undoStack() { return &m_undoStack; }

    /// Replaces the source or target (opening a file; not undoable: clears the history).
    void setSource(Checkpoint checkpoint);
    void setTarget(Checkpoint checkpoint);

    /// Index of the mapping for a target key (-1 when absent).
    int mappingIndex(const QString &target) const { return m_result.indexOfTarget(target); }
    /// The targets that use a source key (exact, fixable or guessed; a tied twin of a used key
    /// counts as used by the same targets), in the mapping's order; empty when unused.
    QStringList targetsOfSource(const QString &source) const { return m_sourceUse.value(source); }
    /// Source keys that two or more mappings name (one source feeding several targets), in
    /// file order.
    const QStringList &sharedSources() const { return m_sharedSources; }
    /// Counts the opened files: setSource() and setTarget() increase it. Background work (a
    /// match) remembers the generation it was computed for and is dropped when it changed.
    quint64 generation() const { return m_generation; }
    /// How many times matchSubtrees() ran (a drag over a group must not repeat it per move).
    int subtreeMatchCount() const { return m_subtreeMatchCount; }
    /// Why `source` is a buffer a target need not take (a causal mask, a step counter), or empty.
    QString bufferReason(const QString &source) const { return m_bufferReasons.value(source); }
    /// The other names of `source`'s storage (tied weights saved under several keys), or empty.
    QStringList tiedWith(const QString &source) const;

    /// The mapping the document would make for `target` <- `sources` with the suggested fix
    /// (analysePair for one source; explicit `chain` when given).
    Mapping proposeMapping(const QString &target, const QStringList &sources, const std::optional<TransformChain> &chain = {}) const;
    /// The mapping a drop of several source keys on the leaf `target` makes (gatherSources in
    /// core): per-layer keys stacked into a stacked leaf, q/k/v concatenated into a fused one.
    /// Sources in stacking / concatenation order; the reason says how ("concatenated q, k, v").
    /// `description`, when given, receives that "how" alone (for the undo history).
    Mapping proposeGathered(const QString &target, const QStringList &keys, QString *description = nullptr) const;
    /// "kept at the target's value": what unmapping a target makes.
    Mapping keptMapping(const QString &target) const;
    /// The guessed mapping of `target` accepted by the user: an explicit pin with the guessed
    /// sources and chain (exact or fixable as the chain says), reason "guess accepted; …".
    Mapping acceptedGuess(const QString &target) const;
    /// The guessed mapping of `target` rejected by the user: unmapped, reason "guess rejected: …".
    Mapping rejectedGuess(const QString &target) const;
    /// Matching restricted to source keys under `sourcePrefix` and target keys under `targetPrefix`.
    std::vector<Mapping> matchSubtrees(const QStringList &sourceKeys, const QStringList &targetKeys) const;

    // Mutators used by the undo commands only.
    void applyMappings(const std::vector<Mapping> &mappings);
    /// Undo of applyMappings: puts `mappings` back and restores `state` exactly.
    void restoreMappings(const std::vector<Mapping> &mappings, const MappingEditState &state);
    MappingEditState editState() const { return {m_options, m_result.ambiguous}; }
    void replaceResult(const MappingResult &result, const MatchOptions &options);

Q_SIGNALS:
    void sourceChanged();
    void targetChanged();
    /// Mappings of these target indexes changed (source usage may have too).
    void mappingsChanged(const QList<int> &targets);
    /// The whole result was replaced.
    void resultReset();

private:
    /// Puts each mapping in place of its target's; returns the rows changed (unknown targets skipped).
    QList<int> storeMappings(const std::vector<Mapping> &mappings);
    void rebuildSourceUse();
    void rematchWithoutHistory();

    std::optional<Checkpoint> m_source;
    std::optional<Checkpoint> m_target;
    MappingResult m_result;
    MatchOptions m_options;
    QHash<QString, QStringList> m_sourceUse; // source key -> target keys
    QStringList m_sharedSources;
    quint64 m_generation = 0;
    mutable int m_subtreeMatchCount = 0;
    QHash<QString, QString> m_bufferReasons; // source buffers (masks, counters) -> why, from every match of this source
    QUndoStack m_undoStack;
};

} // namespace graft::ui
