#include "mapping/layoutevidence.h"

#include "mapping/keynames.h"
#include "mapping/namingtable.h"
#include "mapping/structurematcher.h"

#include <QSet>

#include <optional>

namespace graft {
namespace {

struct Subject {
    size_t mapping = 0;
    TensorSpec source;   ///< one layer's source
    TensorSpec target;   ///< one layer's target
    bool stacked = false;
    bool transposed = false;
    QString group;       ///< source pattern up to its last block index
    QString module;      ///< the source's module name, for the reason
};

bool isEmbeddingRole(const QString &role)
{
    static const QSet<QString> roles{QStringLiteral("tok_embed"), QStringLiteral("pos_embed"), QStringLiteral("type_embed"),
                                     QStringLiteral("rel_bias"), QStringLiteral("cls_token"), QStringLiteral("patch_embed")};
    return roles.contains(role);
}

bool isTranspose(const Transform &transform, bool stacked)
{
    return transform.op == TransformOp::Transpose
           && transform.axes == (stacked ? std::vector<int>{0, 2, 1} : std::vector<int>{1, 0});
}

std::optional<Subject> subjectOf(size_t index, const Mapping &mapping, const std::vector<KeySpec> &sources,
                                 const QHash<QString, int> &sourceIndex, const std::vector<KeySpec> &targets)
{
    if ((mapping.status != MatchStatus::Exact && mapping.status != MatchStatus::Fixable) || mapping.sources.size() < 1)
        return std::nullopt;
    const bool stacked = mapping.origin == MatchOrigin::Stacked;
    const bool single = mapping.origin == MatchOrigin::Name || mapping.origin == MatchOrigin::RenameRule
                        || mapping.origin == MatchOrigin::LooseName || mapping.origin == MatchOrigin::Structure;
    if (!single && !stacked)
        return std::nullopt;
    if (single && mapping.sources.size() != 1)
        return std::nullopt;
    const int s = sourceIndex.value(mapping.sources.front(), -1);
    if (s < 0)
        return std::nullopt;
    Subject subject;
    subject.mapping = index;
    subject.stacked = stacked;
    subject.source = sources[static_cast<size_t>(s)].spec;
    subject.target = targets[index].spec;
    if (stacked) {
        // One source per layer (a stacked concatenation is left alone).
        if (subject.target.shape.empty() || subject.target.shape[0] != mapping.sources.size())
            return std::nullopt;
        subject.target.shape.erase(subject.target.shape.begin());
    }
    if (subject.source.shape.size() != 2 || subject.target.shape.size() != 2)
        return std::nullopt;
    const QStringList targetTokens = keyTokens(targets[index].key);
    const QString parameter = targetTokens.value(targetTokens.size() - 1);
    if (parameter != QLatin1String("weight") && parameter != QLatin1String("kernel"))
        return std::nullopt;
    const QStringList roles = roleTokens(mapping.sources.front());
    if (roles.size() < 2 || roles.last() != QLatin1String("weight") || isEmbeddingRole(roles[roles.size() - 2]))
        return std::nullopt;
    const QStringList targetRoles = roleTokens(targets[index].key);
    if (targetRoles.size() >= 2 && isEmbeddingRole(targetRoles[targetRoles.size() - 2]))
        return std::nullopt;
    for (const Transform &transform : mapping.transforms)
        subject.transposed = subject.transposed || isTranspose(transform, stacked);
    const QStringList pattern = roleTemplate(mapping.sources.front()).split(QLatin1Char('.'));
    const qsizetype lastIndex = pattern.lastIndexOf(QStringLiteral("#"));
    subject.group = lastIndex < 0 ? QString() : pattern.mid(0, lastIndex + 1).join(QLatin1Char('.'));
    const QStringList rawTokens = keyTokens(mapping.sources.front());
    subject.module = rawTokens.value(rawTokens.size() - 2);
    return subject;
}

struct Evidence {
    int transposed = 0;
    int plain = 0;
    QStringList modules;
    std::optional<bool> verdict() const
    {
        if (transposed > 0 && plain == 0)
            return true;
        if (plain > 0 && transposed == 0)
            return false;
        return std::nullopt;
    }
};

} // namespace

void applyLayoutEvidence(MappingResult &result, const std::vector<KeySpec> &sources, const QHash<QString, int> &sourceIndex,
                         const std::vector<KeySpec> &targets)
{
    std::vector<Subject> squares;
    QHash<QString, Evidence> byGroup;
    Evidence global;
    for (size_t i = 0; i < result.mappings.size(); ++i) {
        const std::optional<Subject> subject = subjectOf(i, result.mappings[i], sources, sourceIndex, targets);
        if (!subject)
            continue;
        if (subject->source.shape[0] == subject->source.shape[1]) {
            squares.push_back(*subject);
            continue;
        }
        for (Evidence *evidence : {&byGroup[subject->group], &global}) {
            (subject->transposed ? evidence->transposed : evidence->plain) += 1;
            if (!evidence->modules.contains(subject->module) && evidence->modules.size() < 3)
                evidence->modules << subject->module;
        }
    }
    for (const Subject &square : squares) {
        const Evidence *evidence = byGroup.contains(square.group) && byGroup[square.group].verdict() ? &byGroup[square.group] : &global;
        const std::optional<bool> verdict = evidence->verdict();
        if (!verdict || (*verdict == square.transposed && !*verdict))
            continue;
        Mapping &mapping = result.mappings[square.mapping];
        const QString siblings = evidence->modules.join(QStringLiteral(", "));
        if (*verdict == square.transposed) {
            mapping.reason += QStringLiteral("; square: transposed like its non-square siblings %1").arg(siblings);
            continue;
        }
        TransformChain chain;
        if (square.stacked)
            chain.push_back(Transform::stack(0));
        if (*verdict)
            chain.push_back(Transform::transpose(square.stacked ? std::vector<int>{0, 2, 1} : std::vector<int>{1, 0}));
        if (square.source.dtype != square.target.dtype)
            chain.push_back(Transform::cast(square.target.dtype));
        mapping.transforms = chain;
        mapping.status = chain.empty() ? MatchStatus::Exact : MatchStatus::Fixable;
        mapping.reason += *verdict ? QStringLiteral("; square: transposed like its non-square siblings %1").arg(siblings)
                                   : QStringLiteral("; square: not transposed, like its non-square siblings %1").arg(siblings);
    }
}

} // namespace graft
