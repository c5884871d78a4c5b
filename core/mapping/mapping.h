#pragma once
// The result of mapping a source checkpoint onto a target: for every target tensor, which
// source(s) go there, through which transforms, how sure we are and why.

#include "mapping/shapeanalysis.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace graft {

/// A tensor as the matcher sees it: key, dtype/shape, and whether it is a scalar leaf.
struct KeySpec {
    QString key;
    TensorSpec spec;
    LeafKind kind = LeafKind::Array;
};

/// How a mapping was decided.
enum class MatchOrigin { None, Explicit, Name, RenameRule, LooseName, FusedSlice, OrderShape, Structure, Stacked, Unstacked, Concat, Constant };
QString matchOriginName(MatchOrigin origin);

struct Mapping {
    QString target;
    QStringList sources;          ///< empty when unmapped or kept
    TransformChain transforms;
    MatchStatus status = MatchStatus::Unmapped;
    double confidence = 0.0;
    QString reason;
    MatchOrigin origin = MatchOrigin::None;
    /// origin Constant: the leaf's little-endian bytes, set by the matcher (a BatchNorm
    /// first-time flag set to False so that the loaded statistics are used).
    QByteArray constant;

    /// The transforms in numpy syntax on the source name(s) ("w.transpose(2, 3, 1, 0)").
    QString expression() const;
};

/// Two or more equally good candidates for one target: reported, never guessed.
struct Ambiguity {
    QString target;
    QStringList candidates;
    QString reason;
};

/// A profile entry that no longer applies to these files.
struct StaleEntry {
    QString entry;  ///< e.g. "mapping features.0.weight <- conv1.weight"
    QString reason; ///< e.g. "source key 'conv1.weight' is gone"
};

struct MappingSummary {
    int targets = 0; ///< all target tensors
    int exact = 0;
    int fixable = 0;
    int incompatible = 0;
    int unmapped = 0;
    int kept = 0;
    int guessed = 0;
    int ambiguous = 0;
    int unusedSources = 0;
    int stale = 0;
};

/// A key -> position table for a vector the owner may change freely: built on first use, every
/// hit checked against the vector, rebuilt when stale or on a miss, so answers always equal a
/// linear search. Copies start empty (each rebuilds its own); safe for concurrent const use.
class KeyIndexCache {
public:
    KeyIndexCache() = default;
    KeyIndexCache(const KeyIndexCache &) {}
    KeyIndexCache &operator=(const KeyIndexCache &);

    /// Position of the first of `count` keys (keyAt(i)) equal to `key`, or -1.
    int find(const QString &key, size_t count, const std::function<const QString &(size_t)> &keyAt) const;

private:
    mutable std::mutex m_mutex;
    mutable QHash<QString, int> m_index;
};

/// A prefix correspondence the matcher learned from the keys (role form, '#' = block index):
/// saved in a profile it becomes a rename rule.
struct LearnedRewrite {
    QString sourceHead;
    QString targetHead;
    int support = 0; ///< target leaves whose tails agree under it
};

/// A source tensor that is not a parameter (a causal mask, a step counter, rotary caches).
struct BufferEntry {
    QString key;
    QString reason;
};

struct MappingResult {
    std::vector<Mapping> mappings; ///< one per target tensor, in target order
    QStringList unusedSources;     ///< source keys no mapping uses, in source order (buffers not included)
    std::vector<BufferEntry> unusedBuffers; ///< unused source buffers, in source order
    std::vector<QStringList> tiedSources;   ///< source keys that share one storage (one tensor, several names)
    std::vector<LearnedRewrite> rewrites;   ///< learned prefix correspondences, best supported first
    std::vector<Ambiguity> ambiguous;
    std::vector<StaleEntry> stale;
    Convention convention = Convention::Torch;
    /// MatchOptions::stop stopped the match: the mappings are what the passes before decided.
    bool cancelled = false;

    MappingSummary summary() const;
    /// True when every target array leaf is mapped exact or fixable and nothing is ambiguous or guessed.
    bool complete() const;
    /// Index of the mapping for `target`, or -1. O(1) after the first call (a 100k-leaf
    /// target is looked up leaf by leaf when planning, diffing and painting the tree).
    int indexOfTarget(const QString &target) const;

private:
    KeyIndexCache m_targetIndex;
};

/// The user accepts every guess: guessed mappings become exact/fixable (as their chain says),
/// keeping their origin, with "accepted" added to the reason. Returns how many were accepted.
int acceptGuesses(MappingResult &result);

/// `specs` with their keys replaced by `names` (one per spec, e.g. keysAsNamesRead() of their
/// keys); nullopt when no key changes (no copy of a 100k-key list for nothing).
std::optional<std::vector<KeySpec>> keySpecsNamed(const std::vector<KeySpec> &specs, const std::vector<QString> &names);

} // namespace graft
