#include "mapping/mapping.h"

namespace graft {

QString matchOriginName(MatchOrigin origin)
{
    switch (origin) {
    case MatchOrigin::None: return QStringLiteral("none");
    case MatchOrigin::Explicit: return QStringLiteral("explicit");
    case MatchOrigin::Name: return QStringLiteral("name");
    case MatchOrigin::RenameRule: return QStringLiteral("rename rule");
    case MatchOrigin::LooseName: return QStringLiteral("loose name");
    case MatchOrigin::FusedSlice: return QStringLiteral("fused slice");
    case MatchOrigin::OrderShape: return QStringLiteral("order + shape");
    case MatchOrigin::Structure: return QStringLiteral("structure");
    case MatchOrigin::Stacked: return QStringLiteral("stacked");
    case MatchOrigin::Unstacked: return QStringLiteral("unstacked");
    case MatchOrigin::Concat: return QStringLiteral("concatenated");
    case MatchOrigin::Constant: return QStringLiteral("constant");
    }
    return QString();
}

QString Mapping::expression() const
{
    if (sources.isEmpty())
        return QString();
    QStringList names;
    for (int i = 0; i < sources.size(); ++i)
        names << (sources.size() == 1 ? QStringLiteral("w") : QStringLiteral("w%1").arg(i));
    return transformExpression(transforms, names);
}

int acceptGuesses(MappingResult &result)
{
    int accepted = 0;
    for (Mapping &mapping : result.mappings) {
        if (mapping.status != MatchStatus::Guessed)
            continue;
        mapping.status = mapping.transforms.empty() ? MatchStatus::Exact : MatchStatus::Fixable;
        mapping.reason += QStringLiteral("; guess accepted by the user");
        ++accepted;
    }
    return accepted;
}

MappingSummary MappingResult::summary() const
{
    MappingSummary s;
    s.targets = static_cast<int>(mappings.size());
    for (const Mapping &m : mappings) {
        switch (m.status) {
        case MatchStatus::Exact: ++s.exact; break;
        case MatchStatus::Fixable: ++s.fixable; break;
        case MatchStatus::Incompatible: ++s.incompatible; break;
        case MatchStatus::Unmapped: ++s.unmapped; break;
        case MatchStatus::Kept: ++s.kept; break;
        case MatchStatus::Guessed: ++s.guessed; break;
        }
    }
    s.ambiguous = static_cast<int>(ambiguous.size());
    s.unusedSources = static_cast<int>(unusedSources.size());
    s.stale = static_cast<int>(stale.size());
    return s;
}

bool MappingResult::complete() const
{
    const MappingSummary s = summary();
    return s.incompatible == 0 && s.unmapped == 0 && s.ambiguous == 0 && s.guessed == 0;
}

int MappingResult::indexOfTarget(const QString &target) const
{
    return m_targetIndex.find(target, mappings.size(), [this](size_t i) -> const QString & { return mappings[i].target; });
}

KeyIndexCache &KeyIndexCache::operator=(const KeyIndexCache &)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_index.clear();
    return *this;
}

int KeyIndexCache::find(const QString &key, size_t count, const std::function<const QString &(size_t)> &keyAt) const
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    if (const auto it = m_index.constFind(key); it != m_index.constEnd()) {
        const size_t i = static_cast<size_t>(*it);
        if (i < count && keyAt(i) == key)
            return *it;
    }
    // Stale or absent: rebuild from the vector as it is now, then answer from it.
    m_index.clear();
    m_index.reserve(static_cast<qsizetype>(count));
    for (size_t i = count; i-- > 0;)
        m_index.insert(keyAt(i), static_cast<int>(i)); // backwards: the first occurrence wins
    return m_index.value(key, -1);
}

std::optional<std::vector<KeySpec>> keySpecsNamed(const std::vector<KeySpec> &specs, const std::vector<QString> &names)
{
    bool same = true;
    for (size_t i = 0; i < specs.size() && same; ++i)
        same = specs[i].key == names[i];
    if (same)
        return std::nullopt;
    std::vector<KeySpec> named = specs;
    for (size_t i = 0; i < named.size(); ++i)
        named[i].key = names[i];
    return named;
}

} // namespace graft
