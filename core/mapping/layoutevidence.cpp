#include "mapping/layoutevidence.h"

#include "base/parallelfor.h"
#include "mapping/keynames.h"
#include "mapping/namingtable.h"
#include "mapping/structurematcher.h"

#include <QSet>

#include <algorithm>
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

// An embedding-like module (its role from naming.json), cached per distinct module name.
bool isEmbeddingModule(const QString &module)
{
    static thread_local QHash<QString, bool> cache;
    const auto it = cache.constFind(module);
    if (it != cache.constEnd())
        return *it;
    const QStringList roles = roleTokens(module + QStringLiteral(".weight"));
    const bool embedding = roles.size() >= 2 && isEmbeddingRole(roles[roles.size() - 2]);
    cache.insert(module, embedding);
    return embedding;
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
    // Raw tokens only (a 100k-key model passes here once per 2-D weight): the parameter name,
    // the module name (its role looked up once per distinct name) and the block group.
    const QString &targetKey = targets[index].key;
    if (!targetKey.endsWith(QLatin1String("weight")) && !targetKey.endsWith(QLatin1String("kernel")))
        return std::nullopt;
    // Views into the lower-cased keys (toLower() shares a key already lower-case): 100k subjects
    // without a list of token strings each (a fifth of matching a checkpoint onto itself).
    const QString sourceLower = mapping.sources.front().toLower();
    const QVarLengthArray<QStringView, 16> sourceTokens = keyTokenViews(sourceLower);
    if (sourceTokens.size() < 2)
        return std::nullopt;
    const QStringView sourceParameter = sourceTokens.last();
    if (sourceParameter != QLatin1String("weight") && sourceParameter != QLatin1String("kernel"))
        return std::nullopt;
    subject.module = sourceTokens[sourceTokens.size() - 2].toString();
    if (isEmbeddingModule(subject.module))
        return std::nullopt;
    const QString targetLower = targetKey.toLower();
    const QVarLengthArray<QStringView, 16> targetTokens = keyTokenViews(targetLower);
    if (targetTokens.size() >= 2 && isEmbeddingModule(targetTokens[targetTokens.size() - 2].toString()))
        return std::nullopt;
    for (const Transform &transform : mapping.transforms)
        subject.transposed = subject.transposed || isTranspose(transform, stacked);
    const auto isIndex = [](QStringView token) {
        return !token.isEmpty() && std::all_of(token.begin(), token.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
    };
    qsizetype lastIndex = -1;
    for (qsizetype i = 0; i < sourceTokens.size(); ++i) {
        if (isIndex(sourceTokens[i]))
            lastIndex = i;
    }
    subject.group.reserve(sourceLower.size());
    for (qsizetype i = 0; i <= lastIndex; ++i) {
        if (i > 0)
            subject.group += QLatin1Char('.');
        if (isIndex(sourceTokens[i]))
            subject.group += QLatin1Char('#');
        else
            subject.group += sourceTokens[i];
    }
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

bool layoutEvidenceApplies(const MappingResult &result)
{
    // Evidence changes a square only towards the layout its siblings share; with no transpose
    // anywhere every sibling is plain and every square already is (a checkpoint onto itself, an
    // Equinox target): nothing to tally, and 100k subjects are not built.
    return std::any_of(result.mappings.begin(), result.mappings.end(), [](const Mapping &mapping) {
        return std::any_of(mapping.transforms.begin(), mapping.transforms.end(),
                           [](const Transform &transform) { return transform.op == TransformOp::Transpose; });
    });
}

void applyLayoutEvidence(MappingResult &result, const std::vector<KeySpec> &sources, const QHash<QString, int> &sourceIndex,
                         const std::vector<KeySpec> &targets)
{
    if (!layoutEvidenceApplies(result))
        return;
    // Each mapping's subject on every core (each depends on its mapping alone), then tallied in order.
    std::vector<std::optional<Subject>> subjects(result.mappings.size());
    parallelFor(result.mappings.size(), [&](size_t i) { subjects[i] = subjectOf(i, result.mappings[i], sources, sourceIndex, targets); });
    std::vector<Subject> squares;
    QHash<QString, Evidence> byGroup;
    Evidence global;
    for (const std::optional<Subject> &subject : subjects) {
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
