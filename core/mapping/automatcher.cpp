#include "base/parallelfor.h"
#include "mapping/automatcher.h"

#include "checkpoint/checkpoint.h"
#include "mapping/fusedattention.h"
#include "mapping/keynames.h"
#include "mapping/layoutevidence.h"
#include "mapping/matcher.h"
#include "mapping/namingtable.h"
#include "mapping/structurematcher.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>

namespace graft {
namespace detail {
namespace {

// Fused attention sources for a q/k/v target: returns (slice index, candidate source keys).
std::optional<std::pair<int, QStringList>> fusedCandidates(const QString &canonicalTarget)
{
    QStringList tokens = canonicalTarget.split(QLatin1Char('.'));
    if (tokens.size() < 2)
        return std::nullopt;
    const QString parameter = tokens.takeLast();
    const QString projection = tokens.takeLast();
    static const QHash<QString, int> kIndex{
        {QStringLiteral("query_proj"), 0}, {QStringLiteral("q_proj"), 0}, {QStringLiteral("query"), 0}, {QStringLiteral("q"), 0},
        {QStringLiteral("key_proj"), 1},   {QStringLiteral("k_proj"), 1}, {QStringLiteral("key"), 1},   {QStringLiteral("k"), 1},
        {QStringLiteral("value_proj"), 2}, {QStringLiteral("v_proj"), 2}, {QStringLiteral("value"), 2}, {QStringLiteral("v"), 2}};
    if (!kIndex.contains(projection) || (parameter != QLatin1String("weight") && parameter != QLatin1String("bias")))
        return std::nullopt;
    const QString prefix = tokens.isEmpty() ? QString() : tokens.join(QLatin1Char('.')) + QLatin1Char('.');
    return std::make_pair(kIndex.value(projection),
                          QStringList{prefix + QStringLiteral("in_proj_") + parameter, prefix + QStringLiteral("qkv.") + parameter,
                                      prefix + QStringLiteral("in_proj.") + parameter});
}

} // namespace

bool Matcher::assign(int target, int source, const PairAnalysis &analysis, MatchOrigin origin, double confidence, const QString &prefix)
{
    Mapping &mapping = m_result.mappings[static_cast<size_t>(target)];
    mapping.sources = {m_sources[static_cast<size_t>(source)].key};
    mapping.transforms = analysis.transforms;
    mapping.status = origin == MatchOrigin::OrderShape ? MatchStatus::Guessed : analysis.status;
    mapping.origin = origin;
    mapping.confidence = analysis.status == MatchStatus::Fixable ? confidence - kFixablePenalty : confidence;
    // Most leaves of a pass share their reason: one string shared by them all (100k
    // concatenations of the same two took 20 ms and 10 MB).
    if (prefix != m_lastReasonParts.first || analysis.reason != m_lastReasonParts.second) {
        m_lastReasonParts = {prefix, analysis.reason};
        m_lastReason = prefix + QStringLiteral("; ") + analysis.reason;
    }
    mapping.reason = m_lastReason;
    m_decided[static_cast<size_t>(target)] = true;
    m_matchedSource[static_cast<size_t>(target)] = source;
    m_sourceUsed[static_cast<size_t>(source)] = true;
    return true;
}

void Matcher::applyKeptAndIgnored()
{
    for (const QString &key : m_options.ignoredSources) {
        if (const int s = sourceIndex().value(key, -1); s >= 0) {
            m_ignored.insert(s);
            m_sourceUsed[static_cast<size_t>(s)] = true;
        } else {
            m_result.stale.push_back({QStringLiteral("ignored source %1").arg(key), QStringLiteral("source key '%1' is gone").arg(key)});
        }
    }
    const QSet<QString> kept(m_options.keptTargets.begin(), m_options.keptTargets.end());
    for (const QString &key : m_options.keptTargets) {
        if (!targetIndex().contains(key))
            m_result.stale.push_back({QStringLiteral("kept target %1").arg(key), QStringLiteral("target key '%1' is gone").arg(key)});
    }
    for (size_t t = 0; t < m_targets.size(); ++t) {
        const bool scalar = m_targets[t].kind == LeafKind::Scalar;
        if (kept.contains(m_targets[t].key) || scalar) {
            Mapping &mapping = m_result.mappings[t];
            mapping.status = MatchStatus::Kept;
            mapping.confidence = 1.0;
            mapping.reason = scalar ? QStringLiteral("scalar leaf: keeps the target's value")
                                    : QStringLiteral("kept at the target's initial value (profile)");
            m_decided[t] = true;
        }
    }
}

void Matcher::applyExplicit()
{
    for (const ExplicitMapping &explicitMapping : m_options.explicitMappings) {
        const QString entry = QStringLiteral("mapping %1 <- %2").arg(explicitMapping.target, explicitMapping.sources.join(QStringLiteral(", ")));
        const int target = targetIndex().value(explicitMapping.target, -1);
        if (target < 0) {
            m_result.stale.push_back({entry, QStringLiteral("target key '%1' is gone").arg(explicitMapping.target)});
            continue;
        }
        std::vector<int> sources;
        QString missing;
        for (const QString &key : explicitMapping.sources) {
            const int s = sourceIndex().value(key, -1);
            if (s < 0 && missing.isEmpty())
                missing = key;
            sources.push_back(s);
        }
        if (!missing.isEmpty()) {
            m_result.stale.push_back({entry, QStringLiteral("source key '%1' is gone").arg(missing)});
            continue;
        }
        if (sources.empty()) {
            m_result.stale.push_back({entry, QStringLiteral("no source given")});
            continue;
        }
        std::vector<TensorSpec> specs;
        for (int s : sources)
            specs.push_back(m_sources[static_cast<size_t>(s)].spec);
        const TensorSpec &targetSpec = m_targets[static_cast<size_t>(target)].spec;
        PairAnalysis analysis = explicitMapping.hasTransforms || sources.size() > 1
                                    ? analyseChain(specs, explicitMapping.transforms, targetSpec)
                                    : analysePair(specs.front(), targetSpec, m_convention, explicitMapping.target);
        if (analysis.status == MatchStatus::Incompatible) {
            m_result.stale.push_back({entry, QStringLiteral("shape changed: %1").arg(analysis.reason)});
            continue;
        }
        Mapping &mapping = m_result.mappings[static_cast<size_t>(target)];
        mapping.sources = explicitMapping.sources;
        mapping.transforms = analysis.transforms;
        mapping.status = analysis.status;
        mapping.origin = MatchOrigin::Explicit;
        mapping.confidence = kConfidenceExplicit;
        mapping.reason = QStringLiteral("explicit mapping; ") + analysis.reason;
        m_decided[static_cast<size_t>(target)] = true;
        m_matchedSource[static_cast<size_t>(target)] = sources.front();
        for (int s : sources)
            m_sourceUsed[static_cast<size_t>(s)] = true;
    }
}

void Matcher::matchByName(bool loose)
{
    auto keyOf = [loose](const QString &canonical) { return loose ? looseKeyOfCanonical(canonical) : canonical; };
    // One slot per name: its free sources in key order (the first, chained through `nextSource`:
    // one allocation for 100k names instead of a list each) and how many undecided targets carry
    // it. Each key is hashed once; the targets keep their slot, so the loop below hashes nothing.
    struct NameSlot {
        int firstSource = -1;
        int targets = 0;
    };
    std::vector<NameSlot> slots;
    slots.reserve(m_sources.size());
    QHash<QString, int> slotOfName;
    slotOfName.reserve(static_cast<qsizetype>(m_sources.size()));
    const auto slotOf = [&](const QString &name) {
        int &slot = slotOfName[name];
        if (slot == 0) {
            slots.emplace_back();
            slot = static_cast<int>(slots.size()); // plus one: 0 is a new entry
        }
        return static_cast<size_t>(slot - 1);
    };
    std::vector<int> nextSource(m_sources.size(), -1);
    for (size_t s = m_sources.size(); s-- > 0;) {
        if (m_sourceUsed[s])
            continue;
        NameSlot &slot = slots[slotOf(keyOf(m_sourceCanonical[s]))];
        nextSource[s] = slot.firstSource;
        slot.firstSource = static_cast<int>(s);
    }
    // Two undecided targets with one normalised name: giving the source to either is a guess.
    std::vector<int> targetSlot(m_targets.size(), -1);
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (!m_decided[t]) {
            targetSlot[t] = static_cast<int>(slotOf(keyOf(m_targetCanonical[t])));
            ++slots[static_cast<size_t>(targetSlot[t])].targets;
        }
    }
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (m_decided[t])
            continue;
        const NameSlot &slot = slots[static_cast<size_t>(targetSlot[t])];
        // (source, analysis) of each compatible candidate: usually one, so a vector, not a hash.
        std::vector<std::pair<int, PairAnalysis>> compatible;
        for (int s = slot.firstSource; s >= 0; s = nextSource[static_cast<size_t>(s)]) {
            if (m_sourceUsed[static_cast<size_t>(s)])
                continue;
            if (const std::optional<QString> renumbered = renumberedCarry(s, t)) {
                m_nameConflicts.insert(static_cast<int>(t), {s, *renumbered});
                continue;
            }
            PairAnalysis analysis = analysePair(m_sources[static_cast<size_t>(s)].spec, m_targets[t].spec, m_convention, m_targets[t].key);
            if (analysis.status == MatchStatus::Incompatible) {
                m_nameConflicts.insert(static_cast<int>(t), {s, analysis.reason});
                continue;
            }
            compatible.emplace_back(s, std::move(analysis));
        }
        if (compatible.size() == 1 && slot.targets == 1) {
            const int s = compatible.front().first;
            const bool renamed = m_renamed[static_cast<size_t>(s)] != m_sources[static_cast<size_t>(s)].key;
            const MatchOrigin origin = loose ? MatchOrigin::LooseName : renamed ? MatchOrigin::RenameRule : MatchOrigin::Name;
            const double confidence = loose ? kConfidenceLoose : renamed ? kConfidenceRenamed : kConfidenceName;
            const QString why = loose ? QStringLiteral("names match loosely") : renamed ? QStringLiteral("names match after rename rules")
                                                                                        : QStringLiteral("names match");
            assign(static_cast<int>(t), s, compatible.front().second, origin, confidence, why);
            m_nameConflicts.remove(static_cast<int>(t));
        } else if (!compatible.empty()) {
            Ambiguity ambiguity;
            ambiguity.target = m_targets[t].key;
            for (const auto &[s, analysis] : compatible)
                ambiguity.candidates << m_sources[static_cast<size_t>(s)].key;
            ambiguity.reason = compatible.size() > 1
                                   ? QStringLiteral("%1 source keys have the same normalised name").arg(compatible.size())
                                   : QStringLiteral("%1 target keys have the same normalised name")
                                         .arg(slot.targets);
            m_result.ambiguous.push_back(ambiguity);
            m_ambiguousTargets.insert(static_cast<int>(t));
            m_decided[t] = true;
        }
    }
}

void Matcher::matchFused()
{
    QHash<QString, int> byName; // built for the first target that could be fused (none, often)
    std::vector<QString> perHead; // likewise (fusedattention.h)
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (m_decided[t])
            continue;
        const auto fused = fusedCandidates(m_targetCanonical[t]);
        if (!fused)
            continue;
        if (byName.isEmpty()) {
            byName.reserve(static_cast<qsizetype>(m_sources.size()));
            for (size_t s = 0; s < m_sources.size(); ++s)
                byName.insert(m_sourceCanonical[s], static_cast<int>(s));
            // As the name passes read the keys (after the rename rules).
            std::vector<KeySpec> named = m_sources;
            for (size_t s = 0; s < named.size(); ++s)
                named[s].key = m_sourceNames[s];
            perHead = perHeadFusedReasons(named);
        }
        for (const QString &candidate : fused->second) {
            const int s = byName.value(candidate, -1);
            if (s < 0 || m_ignored.contains(s) || !perHead[static_cast<size_t>(s)].isEmpty())
                continue;
            const TensorSpec &source = m_sources[static_cast<size_t>(s)].spec;
            const TensorSpec &target = m_targets[t].spec;
            if (source.shape.empty() || target.shape.empty() || source.shape[0] != 3 * target.shape[0])
                continue;
            const qint64 rows = target.shape[0];
            TransformChain chain{Transform::slice(0, fused->first * rows, (fused->first + 1) * rows)};
            Result<TensorSpec> sliced = inferTransforms({source}, chain);
            if (!sliced)
                continue;
            PairAnalysis rest = analysePair(*sliced, target, m_convention, m_targets[t].key);
            if (rest.status == MatchStatus::Incompatible)
                continue;
            chain.insert(chain.end(), rest.transforms.begin(), rest.transforms.end());
            PairAnalysis analysis{MatchStatus::Fixable, chain,
                                  QStringLiteral("part %1 of 3 of a fused q/k/v tensor").arg(fused->first + 1)};
            assign(static_cast<int>(t), s, analysis, MatchOrigin::FusedSlice, kConfidenceFused, QStringLiteral("fused attention"));
            break;
        }
    }
}

void Matcher::matchStructureStep()
{
    std::vector<bool> available(m_sources.size());
    std::vector<bool> open(m_targets.size());
    for (size_t s = 0; s < m_sources.size(); ++s)
        available[s] = !m_sourceUsed[s] && m_bufferReason[s].isEmpty();
    for (size_t t = 0; t < m_targets.size(); ++t)
        open[t] = !m_decided[t] && m_targets[t].kind == LeafKind::Array;
    // Rules are learned from open targets and available sources only: without either (a
    // checkpoint matched onto itself), there is nothing to learn or decide.
    if (std::find(open.begin(), open.end(), true) == open.end() || std::find(available.begin(), available.end(), true) == available.end())
        return;
    // The names the other passes read (the targets' computed once in run()), on the raw source
    // keys (rename rules are the name passes' business); results are indexes: real keys stand.
    std::vector<QString> rawSourceNames;
    if (!m_options.rules.empty()) {
        std::vector<QString> rawKeys;
        rawKeys.reserve(m_sources.size());
        for (const KeySpec &source : m_sources)
            rawKeys.push_back(source.key);
        rawSourceNames = keysAsNamesRead(rawKeys);
    }
    const std::optional<std::vector<KeySpec>> sources = keySpecsNamed(m_sources, m_options.rules.empty() ? m_sourceNames : rawSourceNames);
    const std::optional<std::vector<KeySpec>> targets = keySpecsNamed(m_targets, m_targetNames);
    StructureMatch found = matchStructure(sources ? *sources : m_sources, available, targets ? *targets : m_targets, open, m_convention);
    m_result.rewrites = std::move(found.rewrites);
    for (StructureCandidate &candidate : found.matches) {
        const size_t t = static_cast<size_t>(candidate.target);
        if (const auto renumbered = m_options.useNames && candidate.sources.size() == 1 ? renumberedCarry(candidate.sources.front(), t)
                                                                                        : std::nullopt) {
            if (!m_nameConflicts.contains(candidate.target))
                m_nameConflicts.insert(candidate.target, {candidate.sources.front(), *renumbered});
            continue;
        }
        Mapping &mapping = m_result.mappings[t];
        mapping.sources.clear();
        for (int s : candidate.sources) {
            mapping.sources << m_sources[static_cast<size_t>(s)].key;
            m_sourceUsed[static_cast<size_t>(s)] = true;
        }
        mapping.transforms = candidate.analysis.transforms;
        mapping.status = candidate.analysis.status;
        mapping.origin = candidate.origin;
        mapping.confidence = kConfidenceStructure - (mapping.status == MatchStatus::Fixable ? kFixablePenalty : 0.0);
        mapping.reason = candidate.why + QStringLiteral("; ") + candidate.analysis.reason;
        m_decided[t] = true;
        m_matchedSource[t] = candidate.sources.front();
        m_nameConflicts.remove(candidate.target);
    }
    for (const auto &[t, s, why] : found.conflicts) {
        if (!m_decided[static_cast<size_t>(t)] && !m_nameConflicts.contains(t))
            m_nameConflicts.insert(t, {s, why});
    }
}

void Matcher::rejectRotaryOrderConflicts()
{
    // Each leaf on its own: on the cores (a read of every decided key, 100k of them).
    parallelFor(m_targets.size(), [this](size_t t) {
        Mapping &mapping = m_result.mappings[t];
        if (mapping.sources.size() != 1 || mapping.origin == MatchOrigin::Explicit
            || (mapping.status != MatchStatus::Exact && mapping.status != MatchStatus::Fixable && mapping.status != MatchStatus::Guessed))
            return;
        if (const QString why = rotaryLayoutConflict(mapping.sources.front(), m_targets[t].key); !why.isEmpty()) {
            mapping.status = MatchStatus::Incompatible; // its source stays taken: no later guess re-pairs the two
            mapping.transforms.clear();
            mapping.reason = why;
        }
    });
}

void Matcher::markBuffersAndFlags()
{
    // An Equinox BatchNorm whose statistics come from the source must not treat its first call
    // as the first time (it would overwrite them): its flag is set to False.
    for (size_t t = 0; t < m_targets.size(); ++t) {
        const KeySpec &leaf = m_targets[t];
        if (m_decided[t] || leaf.spec.dtype != DType::Bool || !leaf.spec.shape.empty() || !leaf.key.endsWith(QLatin1String("first_time_index")))
            continue;
        // `<bn>.first_time_index` / `<bn>.ema_first_time_index` (equinox 0.13's modes).
        const QString owner = leaf.key.section(QLatin1Char('.'), 0, -2);
        const int statistics = targetIndex().value(owner + QStringLiteral(".running_mean"), -1);
        if (statistics < 0 || m_matchedSource[static_cast<size_t>(statistics)] < 0)
            continue;
        Mapping &mapping = m_result.mappings[t];
        mapping.status = MatchStatus::Fixable;
        mapping.origin = MatchOrigin::Constant;
        mapping.constant = QByteArray(1, '\0');
        mapping.confidence = kConfidenceStructure;
        mapping.reason = QStringLiteral("BatchNorm first-time flag set to False: the running statistics loaded from the source are used "
                                        "(as torch's eval mode does), not overwritten by the first batch");
        m_decided[t] = true;
    }
}

void Matcher::finish()
{
    for (size_t t = 0; t < m_targets.size(); ++t) {
        Mapping &mapping = m_result.mappings[t];
        if (m_matchedSource[t] >= 0 || mapping.status == MatchStatus::Kept || mapping.origin == MatchOrigin::Constant)
            continue;
        if (m_ambiguousTargets.contains(static_cast<int>(t))) {
            mapping.status = MatchStatus::Unmapped;
            mapping.reason = QStringLiteral("ambiguous: several sources fit equally well");
            for (const Ambiguity &ambiguity : m_result.ambiguous) {
                if (ambiguity.target == mapping.target)
                    mapping.reason = QStringLiteral("ambiguous: ") + ambiguity.reason;
            }
        } else if (m_nameConflicts.contains(static_cast<int>(t))) {
            const auto &[s, why] = m_nameConflicts.value(static_cast<int>(t));
            mapping.sources = {m_sources[static_cast<size_t>(s)].key};
            mapping.status = MatchStatus::Incompatible;
            mapping.origin = MatchOrigin::Name;
            mapping.confidence = kConfidenceName;
            mapping.reason = QStringLiteral("names match but ") + why;
        } else {
            mapping.status = MatchStatus::Unmapped;
            mapping.reason = QStringLiteral("no source with this name, and none fits by order and shape");
        }
    }
    QSet<int> usedByIncompatible;
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (m_result.mappings[t].status == MatchStatus::Incompatible && m_nameConflicts.contains(static_cast<int>(t)))
            usedByIncompatible.insert(m_nameConflicts.value(static_cast<int>(t)).first);
    }
    for (size_t s = 0; s < m_sources.size(); ++s) {
        if (m_sourceUsed[s] || usedByIncompatible.contains(static_cast<int>(s)))
            continue;
        if (!m_bufferReason[s].isEmpty())
            m_result.unusedBuffers.push_back({m_sources[s].key, m_bufferReason[s]});
        else
            m_result.unusedSources << m_sources[s].key;
    }
}

MappingResult Matcher::run()
{
    // Between passes: a stopped match returns what it decided so far, marked cancelled.
    const auto stopped = [this] {
        if (!m_options.stop || !m_options.stop())
            return false;
        m_result.cancelled = true;
        return true;
    };
    if (matchOntoItself())
        return std::move(m_result);
    m_renamed.reserve(m_sources.size());
    for (const KeySpec &source : m_sources) {
        QString key = source.key;
        for (const RenameRule &rule : m_options.rules)
            key = rule.apply(key);
        m_renamed.push_back(key);
    }
    m_sourceNames = keysAsNamesRead(m_renamed);
    std::vector<QString> targetKeys;
    targetKeys.reserve(m_targets.size());
    for (const KeySpec &target : m_targets)
        targetKeys.push_back(target.key);
    // A checkpoint matched onto itself: one list of keys, read once.
    const bool sameKeys = targetKeys == m_renamed;
    m_targetNames = sameKeys ? m_sourceNames : keysAsNamesRead(targetKeys);
    // Canonical names once per key: the name passes (exact, loose, fused) all start from them.
    if (m_options.useNames) {
        m_sourceCanonical.resize(m_sources.size());
        parallelFor(m_sources.size(), [this](size_t s) { m_sourceCanonical[s] = canonicalKey(m_sourceNames[s]); });
        // A checkpoint matched onto itself (re-saved in another format) has one list of names:
        // read once (the comparison costs a pass of pointer and character compares).
        const bool sameNames = sameKeys || m_sourceNames == m_targetNames;
        if (sameNames) {
            m_targetCanonical = m_sourceCanonical;
        } else {
            m_targetCanonical.resize(m_targets.size());
            parallelFor(m_targets.size(), [this](size_t t) { m_targetCanonical[t] = canonicalKey(m_targetNames[t]); });
        }
        // The two sides at once (each is one pass over 100k keys in a large model).
        parallelFor(2, [this, sameNames](size_t side) {
            if (side == 0)
                m_sourceIndexSets.emplace(m_sourceCanonical);
            else if (!sameNames)
                m_targetIndexSets.emplace(m_targetCanonical);
        }, 1);
        m_renumbering.emplace(*m_sourceIndexSets, sameNames ? *m_sourceIndexSets : *m_targetIndexSets);
    }
    m_bufferReason.reserve(m_sources.size());
    for (const KeySpec &source : m_sources)
        m_bufferReason.push_back(bufferReason(source.key, source.spec.shape));
    applyKeptAndIgnored();
    applyExplicit();
    if (m_options.useNames) {
        const std::function<void()> passes[] = {[this] { matchByName(false); },
                                                [this] { matchStructureStep(); },
                                                [this] { matchByName(true); },
                                                [this] { matchFused(); },
                                                [this] {
                                                    if (m_options.useOrder)
                                                        matchByOrder(true);
                                                },
                                                [this] {
                                                    if (layoutEvidenceApplies(m_result))
                                                        applyLayoutEvidence(m_result, m_sources, sourceIndex(), m_targets);
                                                }};
        for (const std::function<void()> &pass : passes) {
            if (stopped())
                return std::move(m_result);
            pass();
        }
    }
    markBuffersAndFlags();
    if (stopped())
        return std::move(m_result);
    if (m_options.useOrder)
        matchByOrder(false);
    rejectRotaryOrderConflicts();
    finish();
    return std::move(m_result); // run() is called once: no copy of 100k mappings
}

} // namespace detail

MappingResult autoMatch(const std::vector<KeySpec> &sources, const std::vector<KeySpec> &targets, const MatchOptions &options,
                        Convention convention)
{
    detail::Matcher matcher(sources, targets, options, convention);
    return matcher.run();
}

} // namespace graft
