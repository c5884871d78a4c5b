#pragma once
// Internal to autoMatch() (automatcher.h): the matcher's state and passes. Not part of core's
// API. The passes live in automatcher.cpp (explicit, names, structure, fused slices, BatchNorm
// flags, finish) and matcherorder.cpp (isomorphic modules, order + shape).

#include "mapping/automatcher.h"
#include "mapping/indexsets.h"

#include <QHash>
#include <QSet>

#include <optional>
#include <vector>

namespace graft::detail {

inline constexpr double kConfidenceExplicit = 1.0;
inline constexpr double kConfidenceName = 0.99;
inline constexpr double kConfidenceRenamed = 0.97;
inline constexpr double kConfidenceLoose = 0.85;
inline constexpr double kConfidenceFused = 0.9;
inline constexpr double kConfidenceOrder = 0.7;
inline constexpr double kConfidenceStructure = 0.95;
inline constexpr double kConfidenceIsomorphic = 0.9;
inline constexpr double kFixablePenalty = 0.04;

/// One matching run of autoMatch(): the passes in run() decide target leaves one strategy at a
/// time; each pass sees what the earlier ones decided (m_decided, m_sourceUsed).
class Matcher {
public:
    Matcher(const std::vector<KeySpec> &sources, const std::vector<KeySpec> &targets, const MatchOptions &options, Convention convention)
        : m_sources(sources), m_targets(targets), m_options(options), m_convention(convention),
          m_sourceUsed(sources.size(), false), m_decided(targets.size(), false), m_matchedSource(targets.size(), -1)
    {
        m_result.convention = convention;
        m_result.mappings.resize(targets.size());
        for (size_t t = 0; t < targets.size(); ++t)
            m_result.mappings[t].target = targets[t].key;
    }

    MappingResult run();

private:
    void applyKeptAndIgnored();
    void applyExplicit();
    void matchByName(bool loose);
    void matchFused();
    void matchStructureStep();
    void markBuffersAndFlags();
    /// Decided q/k copies between Hugging Face's and Meta's row orders become incompatible
    /// (fusedattention.h: rotaryLayoutConflict).
    void rejectRotaryOrderConflicts();
    void matchByOrder(bool isomorphicOnly); // matcherorder.cpp
    /// A checkpoint matched onto itself, every leaf its own source (matcherself.cpp); false,
    /// deciding nothing, when that is not what the passes would give.
    bool matchOntoItself();
    void finish();
    bool assign(int target, int source, const PairAnalysis &analysis, MatchOrigin origin, double confidence, const QString &prefix);

    const std::vector<KeySpec> &m_sources;
    const std::vector<KeySpec> &m_targets;
    std::pair<QString, QString> m_lastReasonParts; ///< assign()'s last (prefix, analysis reason)
    QString m_lastReason;                          ///< and the reason made of them
    const MatchOptions &m_options;
    Convention m_convention;
    MappingResult m_result;
    std::vector<bool> m_sourceUsed;
    std::vector<bool> m_decided;
    std::vector<int> m_matchedSource;
    QSet<int> m_ignored;
    // Key -> position, built on first use: only profiles, BatchNorm counters and layout evidence
    // look keys up (a checkpoint converted onto itself: none of them; 2 x 100k inserts saved).
    const QHash<QString, int> &targetIndex() { return keyIndex(m_targetIndex, m_targets); }
    const QHash<QString, int> &sourceIndex() { return keyIndex(m_sourceIndex, m_sources); }
    static const QHash<QString, int> &keyIndex(std::optional<QHash<QString, int>> &index, const std::vector<KeySpec> &keys)
    {
        if (!index) {
            index.emplace();
            index->reserve(static_cast<qsizetype>(keys.size()));
            for (size_t i = 0; i < keys.size(); ++i)
                index->insert(keys[i].key, static_cast<int>(i));
        }
        return *index;
    }
    std::optional<QHash<QString, int>> m_targetIndex;
    std::optional<QHash<QString, int>> m_sourceIndex;
    QHash<int, QPair<int, QString>> m_nameConflicts; // target -> (source, why incompatible)
    QSet<int> m_ambiguousTargets;
    std::vector<QString> m_renamed;                   // source keys after rename rules
    // The names the name, structure and order passes read: m_renamed and the target keys with
    // numbered names counted from 1 joined into one word, torch decoder norms named (keysAsNamesRead).
    std::vector<QString> m_sourceNames;
    std::vector<QString> m_targetNames;
    std::vector<QString> m_sourceCanonical;           // canonicalKey(m_renamed[s]), computed once
    std::vector<QString> m_targetCanonical;           // canonicalKey(target key), computed once
    // The numbers of each indexed container, per side (from the canonical names; name passes only).
    std::optional<IndexSets> m_sourceIndexSets;
    std::optional<IndexSets> m_targetIndexSets; // empty when the names are the source's (the same sets)
    std::optional<IndexRenumbering> m_renumbering;
    /// Why giving source s to target t would carry a number between differently numbered
    /// containers (IndexRenumbering::carry), or nullopt.
    std::optional<QString> renumberedCarry(int source, size_t target) const
    {
        return m_renumbering ? m_renumbering->carry(static_cast<size_t>(source), target) : std::nullopt;
    }
    std::vector<QString> m_bufferReason;              // per source: why it is a buffer, or empty
    std::vector<QStringList> m_sourceRoles;           // roleTokens per source, filled by sourceRolesOf()
    std::vector<QStringList> m_targetRoles;
    QSet<QString> m_sourceRolePaths; ///< role keys of every source and their module paths (built on first use)
    QSet<QString> m_targetRolePaths;
    bool indexContradiction(const QStringList &target, const QStringList &source); // matcherorder.cpp
    /// roleTokens of a source (after rename rules) / target, computed once, on first use.
    const QStringList &sourceRolesOf(size_t source);
    const QStringList &targetRolesOf(size_t target);
};

} // namespace graft::detail
