#pragma once
// Structure before order: matches target leaves to source tensors by their role paths
// (namingtable.h), with the prefix correspondence learned from the keys whose tails agree
// (`transformer.layers.#` <-> `layers.#`, `vit.embeddings` <-> ``), block index to block index.
// Also gathers several sources into one leaf (q, k, v -> qkv; per-layer -> stacked) and takes
// one leaf out of a fused or stacked source.

#include "mapping/mapping.h"

#include <vector>

namespace graft {

/// One decided leaf: its sources (in concatenation / stacking order) and the chain.
struct StructureCandidate {
    int target = -1;
    std::vector<int> sources;
    PairAnalysis analysis;
    MatchOrigin origin = MatchOrigin::Structure;
    QString why; ///< how the sources were found ("learned rewrite transformer.layers.# -> layers.#")
    bool slicesSources = false; ///< takes a slice of each source: other slices may use them too
};

struct StructureMatch {
    std::vector<StructureCandidate> matches;
    std::vector<LearnedRewrite> rewrites;
    /// Targets whose structural source exists but cannot become the leaf: (target, source, why).
    std::vector<std::tuple<int, int, QString>> conflicts;
};

/// Matches the open targets (targetOpen[t]) against the available sources (sourceAvailable[s]).
/// A source is given to at most one target, except that slices of one fused or stacked source
/// may feed several. Never guesses: a tie between two rewrites leaves the target open. The keys
/// are read as given: the matcher passes them as its name passes read them (keysAsNamesRead).
StructureMatch matchStructure(const std::vector<KeySpec> &sources, const std::vector<bool> &sourceAvailable,
                              const std::vector<KeySpec> &targets, const std::vector<bool> &targetOpen, Convention convention);

/// The role form of a key joined with '.', and its template (numbers -> '#').
QString roleKey(const QString &key);
QString roleTemplate(const QString &key);

} // namespace graft
