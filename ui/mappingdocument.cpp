#include "mappingdocument.h"

#include "mapping/gathering.h"
#include "mapping/shapeanalysis.h"

#include <QSet>

#include <algorithm>

namespace graft::ui {

MappingDocument::MappingDocument(QObject *parent) : QObject(parent) {}

void MappingDocument::setSource(Checkpoint checkpoint)
{
    m_source = std::move(checkpoint);
    ++m_generation;
    m_bufferReasons.clear();
    m_undoStack.clear();
    Q_EMIT sourceChanged();
    rematchWithoutHistory();
}

void MappingDocument::setTarget(Checkpoint checkpoint)
{
    m_target = std::move(checkpoint);
    ++m_generation;
    m_undoStack.clear();
    Q_EMIT targetChanged();
    rematchWithoutHistory();
}

void MappingDocument::rematchWithoutHistory()
{
    // Every target leaf unmapped (scalars kept). Matching itself runs off the GUI thread
    // (MainWindow) and arrives as an undoable ReplaceMappingCommand.
    MappingResult result;
    m_options.explicitMappings.clear();
    m_options.keptTargets.clear();
    m_options.ignoredSources.clear();
    if (m_target) {
        result.convention = detectConvention(*m_target);
        for (const TensorEntry &leaf : m_target->tensors()) {
            Mapping mapping;
            mapping.target = leaf.key;
            mapping.status = leaf.kind == LeafKind::Scalar ? MatchStatus::Kept : MatchStatus::Unmapped;
            mapping.reason = m_source ? QStringLiteral("not matched yet") : QStringLiteral("no source open");
            result.mappings.push_back(mapping);
        }
    }
    m_result = std::move(result);
    rebuildSourceUse();
    Q_EMIT resultReset();
}

Mapping MappingDocument::proposeMapping(const QString &target, const QStringList &sources, const std::optional<TransformChain> &chain) const
{
    Mapping mapping;
    mapping.target = target;
    mapping.sources = sources;
    mapping.origin = MatchOrigin::Explicit;
    mapping.confidence = 1.0;
    if (!m_source || !m_target)
        return mapping;
    const int t = m_target->indexOf(target);
    std::vector<TensorSpec> specs;
    for (const QString &key : sources) {
        const int s = m_source->indexOf(key);
        if (s < 0 || t < 0) {
            mapping.status = MatchStatus::Incompatible;
            mapping.reason = QStringLiteral("key not found");
            return mapping;
        }
        specs.push_back({m_source->tensors()[static_cast<size_t>(s)].dtype, m_source->tensors()[static_cast<size_t>(s)].shape});
    }
    const TensorEntry &leaf = m_target->tensors()[static_cast<size_t>(t)];
    const TensorSpec targetSpec{leaf.dtype, leaf.shape};
    PairAnalysis analysis = chain || specs.size() != 1 ? analyseChain(specs, chain.value_or(TransformChain{}), targetSpec)
                                                       : analysePair(specs.front(), targetSpec, m_result.convention, target);
    mapping.transforms = analysis.transforms;
    mapping.status = analysis.status;
    mapping.reason = QStringLiteral("mapped by hand; ") + analysis.reason;
    return mapping;
}

Mapping MappingDocument::proposeGathered(const QString &target, const QStringList &keys, QString *description) const
{
    Mapping mapping;
    mapping.target = target;
    mapping.origin = MatchOrigin::Explicit;
    mapping.confidence = 1.0;
    mapping.status = MatchStatus::Incompatible;
    const int t = m_target && m_source ? m_target->indexOf(target) : -1;
    if (t < 0) {
        mapping.reason = QStringLiteral("key not found");
        return mapping;
    }
    // Only the dropped keys' specs: this runs on every move of a drag.
    std::vector<KeySpec> dropped;
    for (const QString &key : keys) {
        const int s = m_source->indexOf(key);
        if (s < 0) {
            mapping.reason = QStringLiteral("source key '%1' not found").arg(key);
            return mapping;
        }
        const TensorEntry &entry = m_source->tensors()[static_cast<size_t>(s)];
        dropped.push_back({entry.key, {entry.dtype, entry.shape}, entry.kind});
    }
    const TensorEntry &leaf = m_target->tensors()[static_cast<size_t>(t)];
    const GatheredSources gathered = gatherSources(dropped, {leaf.key, {leaf.dtype, leaf.shape}, leaf.kind}, m_result.convention);
    mapping.status = gathered.analysis.status;
    if (mapping.status == MatchStatus::Incompatible) {
        mapping.reason = gathered.analysis.reason;
        return mapping;
    }
    mapping.sources = gathered.sources;
    mapping.transforms = gathered.analysis.transforms;
    mapping.origin = gathered.origin;
    mapping.reason = QStringLiteral("mapped by hand; %1; %2").arg(gathered.description, gathered.analysis.reason);
    if (description)
        *description = gathered.description;
    return mapping;
}

Mapping MappingDocument::keptMapping(const QString &target) const
{
    Mapping mapping;
    mapping.target = target;
    mapping.status = MatchStatus::Kept;
    mapping.confidence = 1.0;
    mapping.reason = QStringLiteral("unmapped by hand: keeps the target's value");
    return mapping;
}

QStringList MappingDocument::tiedWith(const QString &source) const
{
    for (const QStringList &tie : m_result.tiedSources) {
        if (tie.contains(source)) {
            QStringList others = tie;
            others.removeAll(source);
            return others;
        }
    }
    return {};
}

Mapping MappingDocument::acceptedGuess(const QString &target) const
{
    const int m = mappingIndex(target);
    if (m < 0)
        return keptMapping(target);
    const Mapping &guess = m_result.mappings[static_cast<size_t>(m)];
    // The chain is checked again (it produces the target or the pin says incompatible).
    Mapping accepted = proposeMapping(target, guess.sources, guess.transforms);
    accepted.reason = QStringLiteral("guess accepted; ") + guess.reason;
    return accepted;
}

Mapping MappingDocument::rejectedGuess(const QString &target) const
{
    Mapping rejected;
    rejected.target = target;
    rejected.status = MatchStatus::Unmapped;
    const int m = mappingIndex(target);
    const QString was = m >= 0 ? m_result.mappings[static_cast<size_t>(m)].sources.join(QStringLiteral(", ")) : QString();
    rejected.reason = was.isEmpty() ? QStringLiteral("guess rejected") : QStringLiteral("guess rejected: was ← %1 by order and shape").arg(was);
    return rejected;
}

std::vector<Mapping> MappingDocument::matchSubtrees(const QStringList &sourceKeys, const QStringList &targetKeys) const
{
    std::vector<Mapping> mappings;
    if (!m_source || !m_target)
        return mappings;
    ++m_subtreeMatchCount;
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    const std::vector<KeySpec> allSources = keySpecs(*m_source);
    for (const QString &key : sourceKeys) {
        const int i = m_source->indexOf(key);
        if (i >= 0)
            sources.push_back(allSources[static_cast<size_t>(i)]);
    }
    for (const QString &key : targetKeys) {
        const int i = m_target->indexOf(key);
        if (i >= 0) {
            const TensorEntry &leaf = m_target->tensors()[static_cast<size_t>(i)];
            targets.push_back({leaf.key, {leaf.dtype, leaf.shape}, leaf.kind});
        }
    }
    MatchOptions options;
    options.rules = m_options.rules;
    const MappingResult partial = autoMatch(sources, targets, options, m_result.convention);
    for (const Mapping &mapping : partial.mappings) {
        if (mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable)
            mappings.push_back(mapping);
    }
    return mappings;
}

QList<int> MappingDocument::storeMappings(const std::vector<Mapping> &mappings)
{
    QList<int> changed;
    for (const Mapping &mapping : mappings) {
        const int index = m_result.indexOfTarget(mapping.target);
        if (index < 0)
            continue;
        m_result.mappings[static_cast<size_t>(index)] = mapping;
        changed << index;
    }
    return changed;
}

void MappingDocument::applyMappings(const std::vector<Mapping> &mappings)
{
    const QList<int> changed = storeMappings(mappings);
    for (const Mapping &mapping : mappings) {
        if (m_result.indexOfTarget(mapping.target) < 0)
            continue;
        // Keep the options in step so a later automatic match preserves hand edits.
        auto &explicitMappings = m_options.explicitMappings;
        explicitMappings.erase(std::remove_if(explicitMappings.begin(), explicitMappings.end(),
                                              [&](const ExplicitMapping &e) { return e.target == mapping.target; }),
                               explicitMappings.end());
        m_options.keptTargets.removeAll(mapping.target);
        if (mapping.status == MatchStatus::Kept)
            m_options.keptTargets << mapping.target;
        else if (!mapping.sources.isEmpty())
            explicitMappings.push_back({mapping.target, mapping.sources, mapping.transforms, true});
        m_result.ambiguous.erase(std::remove_if(m_result.ambiguous.begin(), m_result.ambiguous.end(),
                                                [&](const Ambiguity &a) { return a.target == mapping.target; }),
                                 m_result.ambiguous.end());
    }
    rebuildSourceUse();
    Q_EMIT mappingsChanged(changed);
}

void MappingDocument::restoreMappings(const std::vector<Mapping> &mappings, const MappingEditState &state)
{
    const QList<int> changed = storeMappings(mappings);
    m_options = state.options;
    m_result.ambiguous = state.ambiguous;
    rebuildSourceUse();
    Q_EMIT mappingsChanged(changed);
}

void MappingDocument::replaceResult(const MappingResult &result, const MatchOptions &options)
{
    for (const BufferEntry &buffer : result.unusedBuffers)
        m_bufferReasons.insert(buffer.key, buffer.reason);
    m_result = result;
    m_options = options;
    rebuildSourceUse();
    Q_EMIT resultReset();
}

void MappingDocument::rebuildSourceUse()
{
    // The same rules as the matcher's result: guessed sources are in use (not unused, not yet
    // written), a tied twin of a used name is the same tensor, buffers are listed apart.
    m_sourceUse.clear();
    QSet<QString> incompatibleUse;
    for (const Mapping &mapping : m_result.mappings) {
        const bool uses = mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable || mapping.status == MatchStatus::Guessed;
        for (const QString &source : mapping.sources) {
            if (uses) {
                QStringList &users = m_sourceUse[source];
                if (users.isEmpty() || users.back() != mapping.target)
                    users << mapping.target;
            }
            else if (mapping.status == MatchStatus::Incompatible)
                incompatibleUse.insert(source);
        }
    }
    m_sharedSources.clear();
    if (m_source) {
        for (const TensorEntry &entry : m_source->tensors()) {
            if (const auto use = m_sourceUse.constFind(entry.key); use != m_sourceUse.constEnd() && use->size() > 1)
                m_sharedSources << entry.key;
        }
    }
    for (const QStringList &tie : m_result.tiedSources) {
        const auto used = std::find_if(tie.begin(), tie.end(), [&](const QString &key) { return m_sourceUse.contains(key); });
        if (used == tie.end())
            continue;
        const QStringList targets = m_sourceUse.value(*used);
        for (const QString &key : tie) {
            if (!m_sourceUse.contains(key))
                m_sourceUse.insert(key, targets);
        }
    }
    m_result.unusedSources.clear();
    m_result.unusedBuffers.clear();
    if (m_source) {
        const QSet<QString> ignored(m_options.ignoredSources.begin(), m_options.ignoredSources.end());
        for (const TensorEntry &entry : m_source->tensors()) {
            if (m_sourceUse.contains(entry.key) || ignored.contains(entry.key) || incompatibleUse.contains(entry.key))
                continue;
            if (const auto buffer = m_bufferReasons.constFind(entry.key); buffer != m_bufferReasons.constEnd())
                m_result.unusedBuffers.push_back({entry.key, *buffer});
            else
                m_result.unusedSources << entry.key;
        }
    }
}

} // namespace graft::ui
