#include "mapping/matcher.h"

#include "mapping/isomorphicgap.h"
#include "mapping/namingtable.h"
#include "mapping/orderalignment.h"

#include <algorithm>
#include <utility>

namespace graft::detail {
namespace {

// Cheap shape compatibility used inside the alignment (analysePair runs on chosen pairs only).
struct ShapeKey {
    Shape shape;
    Shape squeezed;
    Shape sorted;
    DType dtype;
};

ShapeKey shapeKeyOf(const TensorSpec &spec)
{
    ShapeKey key{spec.shape, {}, spec.shape, spec.dtype};
    std::copy_if(spec.shape.begin(), spec.shape.end(), std::back_inserter(key.squeezed), [](qint64 d) { return d != 1; });
    std::sort(key.sorted.begin(), key.sorted.end());
    return key;
}

// Two keys whose names contradict may never be paired by order and shape: a different
// parameter (weight vs bias, running_mean vs weight) or a different known role (norm1 vs norm2).
bool namesContradict(const QStringList &target, const QStringList &source)
{
    if (target.isEmpty() || source.isEmpty())
        return false;
    if (isParameterName(target.last()) && isParameterName(source.last()) && target.last() != source.last())
        return true;
    return target.size() >= 2 && source.size() >= 2 && rolesDiffer(target[target.size() - 2], source[source.size() - 2]);
}

int compatibilityScore(const ShapeKey &target, const ShapeKey &source)
{
    if (target.shape == source.shape)
        return target.dtype == source.dtype ? 4 : 3;
    if (target.squeezed == source.squeezed)
        return 2;
    if (target.sorted == source.sorted)
        return 1;
    return 0;
}

} // namespace

// `h.1.ln_1` against `h.0.ln_1` while the other side has its own `h.1.ln_1` (or `h.0.ln_1`):
// the names say these are different layers. Different numbering alone (`head.1` vs
// `classifier.3`, a torch Sequential counting its activations) is no contradiction.
bool Matcher::indexContradiction(const QStringList &target, const QStringList &source)
{
    if (!indicesContradict(target, source))
        return false;
    if (m_sourceRolePaths.isEmpty() && m_targetRolePaths.isEmpty()) {
        auto addAll = [](QSet<QString> &into, const QStringList &tokens) {
            into.insert(tokens.join(QLatin1Char('.')));
            if (tokens.size() > 1)
                into.insert(tokens.mid(0, tokens.size() - 1).join(QLatin1Char('.')));
        };
        for (size_t s = 0; s < m_sources.size(); ++s)
            addAll(m_sourceRolePaths, sourceRolesOf(s));
        for (size_t t = 0; t < m_targets.size(); ++t)
            addAll(m_targetRolePaths, targetRolesOf(t));
    }
    return m_sourceRolePaths.contains(target.join(QLatin1Char('.'))) || m_targetRolePaths.contains(source.join(QLatin1Char('.')));
}

const QStringList &Matcher::sourceRolesOf(size_t source)
{
    if (m_sourceRoles.size() != m_sources.size())
        m_sourceRoles.resize(m_sources.size());
    if (m_sourceRoles[source].isEmpty())
        m_sourceRoles[source] = roleTokens(m_sourceNames[source]);
    return m_sourceRoles[source];
}

const QStringList &Matcher::targetRolesOf(size_t target)
{
    if (m_targetRoles.size() != m_targets.size())
        m_targetRoles.resize(m_targets.size());
    if (m_targetRoles[target].isEmpty())
        m_targetRoles[target] = roleTokens(m_targetNames[target]);
    return m_targetRoles[target];
}

void Matcher::matchByOrder(bool isomorphicOnly)
{
    // Nothing open on one side, nothing to align: a file mapped onto itself decides every leaf
    // by name, and the shape keys and anchors below cost ~0.2 s at 100k keys.
    const bool targetOpen = std::find(m_decided.begin(), m_decided.end(), false) != m_decided.end();
    bool sourceOpen = false;
    for (size_t s = 0; s < m_sources.size() && !sourceOpen; ++s)
        sourceOpen = !m_sourceUsed[s] && m_bufferReason[s].isEmpty();
    if (!targetOpen || !sourceOpen)
        return;
    // Anchors: name/explicit matches, kept in order on both sides (longest increasing run).
    std::vector<std::pair<int, int>> matched;
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (m_matchedSource[t] >= 0)
            matched.emplace_back(static_cast<int>(t), m_matchedSource[t]);
    }
    std::vector<int> tails;      // index into matched of the smallest tail of each run length
    std::vector<int> previous(matched.size(), -1);
    for (size_t i = 0; i < matched.size(); ++i) {
        auto it = std::lower_bound(tails.begin(), tails.end(), matched[i].second,
                                   [&](int index, int source) { return matched[static_cast<size_t>(index)].second < source; });
        if (it != tails.begin())
            previous[i] = *(it - 1);
        if (it == tails.end())
            tails.push_back(static_cast<int>(i));
        else
            *it = static_cast<int>(i);
    }
    std::vector<std::pair<int, int>> anchors;
    for (int i = tails.empty() ? -1 : tails.back(); i >= 0; i = previous[static_cast<size_t>(i)])
        anchors.push_back(matched[static_cast<size_t>(i)]);
    std::reverse(anchors.begin(), anchors.end());
    anchors.emplace_back(static_cast<int>(m_targets.size()), static_cast<int>(m_sources.size()));

    // Role tokens, computed only for the keys an alignment looks at (and once per key).
    auto sourceRoles = [this](size_t s) -> const QStringList & { return sourceRolesOf(s); };
    auto targetRoles = [this](size_t t) -> const QStringList & { return targetRolesOf(t); };

    auto flag = [&](int t) { return m_targets[static_cast<size_t>(t)].key.endsWith(QLatin1String("first_time_index")); };
    auto assignIsomorphic = [&](const std::vector<int> &gapTargets, const std::vector<int> &gapSources, bool distinct = false) {
        const std::vector<std::pair<int, int>> pairs =
            isomorphicPairs(gapTargets, gapSources, m_targets, m_sources, targetRoles, sourceRoles, m_convention,
                            [this](const QStringList &a, const QStringList &b) { return indexContradiction(a, b); }, distinct);
        for (const auto &[t, s] : pairs) {
            const PairAnalysis analysis = analysePair(m_sources[static_cast<size_t>(s)].spec, m_targets[static_cast<size_t>(t)].spec,
                                                      m_convention, m_targets[static_cast<size_t>(t)].key);
            assign(t, s, analysis, MatchOrigin::Structure, kConfidenceIsomorphic,
                   QStringLiteral("same modules in the same order (parameters and shapes agree, no two neighbours alike)"));
        }
        return !pairs.empty();
    };
    if (isomorphicOnly) {
        // Everything still open at once: an Equinox (model, state) lists a BatchNorm's statistics
        // after the whole model, so its modules line up only as a whole, not gap by gap.
        std::vector<int> openTargets;
        std::vector<int> openSources;
        for (size_t t = 0; t < m_targets.size(); ++t) {
            if (!m_decided[t] && !flag(static_cast<int>(t)))
                openTargets.push_back(static_cast<int>(t));
        }
        for (size_t s = 0; s < m_sources.size(); ++s) {
            if (!m_sourceUsed[s] && m_bufferReason[s].isEmpty())
                openSources.push_back(static_cast<int>(s));
        }
        if (!openTargets.empty() && assignIsomorphic(openTargets, openSources))
            return;
        // Siblings under one parent path that both sides share (`stem.0`, `stem.1` <-> `stem.conv`,
        // `stem.norm`): a file with sorted keys (safetensors) keeps no model order, but it keeps
        // the order of a parent's numbered children.
        QHash<QString, std::vector<int>> targetsByParent;
        QHash<QString, std::vector<int>> sourcesByParent;
        auto parentOf = [](const QStringList &roles) {
            const qsizetype drop = !roles.isEmpty() && isParameterName(roles.last()) ? 2 : 1;
            return roles.size() > drop ? roles.mid(0, roles.size() - drop).join(QLatin1Char('.')) : QString();
        };
        for (int t : openTargets)
            targetsByParent[parentOf(targetRoles(static_cast<size_t>(t)))].push_back(t);
        for (int s : openSources)
            sourcesByParent[parentOf(sourceRoles(static_cast<size_t>(s)))].push_back(s);
        for (auto it = targetsByParent.constBegin(); it != targetsByParent.constEnd(); ++it) {
            const auto sources = sourcesByParent.constFind(it.key());
            if (!it.key().isEmpty() && sources != sourcesByParent.constEnd())
                assignIsomorphic(it.value(), *sources, true);
        }
    }

    int targetStart = 0;
    int sourceStart = 0;
    for (const auto &[anchorTarget, anchorSource] : anchors) {
        std::vector<int> gapTargets;
        std::vector<int> gapSources;
        for (int t = targetStart; t < anchorTarget; ++t) {
            if (!m_decided[static_cast<size_t>(t)])
                gapTargets.push_back(t);
        }
        for (int s = sourceStart; s < anchorSource; ++s) {
            if (!m_sourceUsed[static_cast<size_t>(s)] && m_bufferReason[static_cast<size_t>(s)].isEmpty())
                gapSources.push_back(s);
        }
        targetStart = anchorTarget + 1;
        sourceStart = anchorSource + 1;
        if (gapTargets.empty() || gapSources.empty())
            continue;
        if (isomorphicOnly) {
            // An Equinox BatchNorm's first-time flag has no torch counterpart (set later).
            gapTargets.erase(std::remove_if(gapTargets.begin(), gapTargets.end(), flag), gapTargets.end());
            assignIsomorphic(gapTargets, gapSources);
            continue;
        }
        // Shape keys of this gap's leaves only (each leaf is in one gap): computed for every key
        // of both sides, they cost 600k small vectors per pass at 100k keys.
        std::vector<ShapeKey> targetKeys;
        std::vector<ShapeKey> sourceKeys;
        targetKeys.reserve(gapTargets.size());
        sourceKeys.reserve(gapSources.size());
        for (int t : gapTargets)
            targetKeys.push_back(shapeKeyOf(m_targets[static_cast<size_t>(t)].spec));
        for (int s : gapSources)
            sourceKeys.push_back(shapeKeyOf(m_sources[static_cast<size_t>(s)].spec));
        const AlignmentResult alignment = alignByOrder(
            static_cast<int>(gapTargets.size()), static_cast<int>(gapSources.size()), [&](int t, int s) {
                const size_t target = static_cast<size_t>(gapTargets[static_cast<size_t>(t)]);
                const size_t source = static_cast<size_t>(gapSources[static_cast<size_t>(s)]);
                const int score = compatibilityScore(targetKeys[static_cast<size_t>(t)], sourceKeys[static_cast<size_t>(s)]);
                return score > 0 && (namesContradict(targetRoles(target), sourceRoles(source))
                                     || indexContradiction(targetRoles(target), sourceRoles(source)))
                           ? 0
                           : score;
            });
        for (const AlignedPair &pair : alignment.pairs) {
            const int t = gapTargets[static_cast<size_t>(pair.target)];
            const int s = gapSources[static_cast<size_t>(pair.source)];
            PairAnalysis analysis = analysePair(m_sources[static_cast<size_t>(s)].spec, m_targets[static_cast<size_t>(t)].spec,
                                                m_convention, m_targets[static_cast<size_t>(t)].key);
            if (analysis.status == MatchStatus::Incompatible)
                continue;
            assign(t, s, analysis, MatchOrigin::OrderShape, kConfidenceOrder,
                   alignment.approximate ? QStringLiteral("by order and shape (greedy: the gap is too large to align exactly)")
                                         : QStringLiteral("by order and shape"));
        }
        for (size_t i = 0; i < alignment.ambiguous.size(); ++i) {
            if (alignment.ambiguous[i].empty())
                continue;
            const int t = gapTargets[i];
            Ambiguity ambiguity;
            ambiguity.target = m_targets[static_cast<size_t>(t)].key;
            for (int s : alignment.ambiguous[i])
                ambiguity.candidates << m_sources[static_cast<size_t>(gapSources[static_cast<size_t>(s)])].key;
            ambiguity.reason = ambiguity.candidates.size() > 1
                                   ? QStringLiteral("%1 sources fit equally well by order and shape").arg(ambiguity.candidates.size())
                                   : QStringLiteral("another target fits this source equally well by order and shape");
            m_result.ambiguous.push_back(ambiguity);
            m_ambiguousTargets.insert(t);
            m_decided[static_cast<size_t>(t)] = true;
        }
    }
}

} // namespace graft::detail
