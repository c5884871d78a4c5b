#include "mapping/structurematcher.h"

#include "base/parallelfor.h"
#include "mapping/fusedattention.h"
#include "mapping/namingtable.h"
#include "mapping/partsanalysis.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <numeric>
#include <optional>

namespace graft {
namespace {

constexpr int kDuplicate = -2;

struct RoleForm {
    QStringList tokens;   ///< role tokens, numbers kept
    QStringList pattern;  ///< numbers as '#'
};

RoleForm roleFormOf(const QString &key)
{
    RoleForm form;
    form.tokens = roleTokens(key);
    form.pattern = form.tokens;
    for (QString &token : form.pattern) {
        if (isIndexToken(token))
            token = QStringLiteral("#");
    }
    return form;
}

// A tail of block indices and parameter names only (`#.weight`) says nothing about the role:
// `convs.3.weight` and `features.3.weight` agree on it by the accident of an index.
bool parameterOnly(const QStringList &tail)
{
    return std::all_of(tail.begin(), tail.end(), [](const QString &token) { return isParameterName(token) || isIndexToken(token); });
}

struct Rule {
    QString sourceHead; ///< '.'-joined pattern, may be empty
    int votes = 0;
    int overlap = 0;    ///< tokens shared with the target head (breaks ties between encoder/decoder)
    QStringList head;   ///< sourceHead's tokens
    int headIndices = 0; ///< its '#' tokens
};

class StructureMatcher {
public:
    StructureMatcher(const std::vector<KeySpec> &sources, const std::vector<bool> &sourceAvailable, const std::vector<KeySpec> &targets,
                     const std::vector<bool> &targetOpen, Convention convention)
        : m_sources(sources), m_available(sourceAvailable), m_targets(targets), m_open(targetOpen), m_convention(convention),
          m_used(sources.size(), false), m_sourcePerHead(perHeadFusedReasons(sources)), m_targetPerHead(perHeadFusedReasons(targets))
    {
    }

    StructureMatch run();

private:
    void indexSources();
    void learnRules();
    std::optional<StructureCandidate> attempt(int target, const Rule &rule, const QStringList &headNumbers, const QStringList &tail,
                                              bool &conflict);
    int lookup(const QStringList &tokens) const { return m_byKey.value(tokens.join(QLatin1Char('.')), -1); }
    QStringList filled(const QStringList &head, const QStringList &numbers) const;

    const std::vector<KeySpec> &m_sources;
    const std::vector<bool> &m_available;
    const std::vector<KeySpec> &m_targets;
    const std::vector<bool> &m_open;
    Convention m_convention;
    std::vector<bool> m_used;
    QSet<int> m_sliced; ///< fused/stacked sources that feed slices (may feed several targets)
    std::vector<RoleForm> m_sourceForms;
    std::vector<RoleForm> m_targetForms;
    QHash<QString, int> m_byKey;
    QHash<QString, std::vector<Rule>> m_rules; ///< by target head pattern
    StructureMatch m_result;
    /// Rewrites (their `via` text) whose block i <-> block i pairing the shapes contradict (a leaf
    /// of target block i fits another source block, not i: a diffusers VAE's up blocks run in the
    /// reverse of latent diffusion's): nothing is decided through them, equal widths included.
    QSet<QString> m_contradicted;
    std::vector<QString> m_sourcePerHead, m_targetPerHead; ///< why a fused q/k/v is never cut / made (fusedattention.h)
};

QStringList StructureMatcher::filled(const QStringList &head, const QStringList &numbers) const
{
    QStringList out;
    qsizetype n = 0;
    for (const QString &token : head)
        out << (token == QLatin1String("#") ? numbers.value(n++) : token);
    return out;
}

void StructureMatcher::indexSources()
{
    m_sourceForms.resize(m_sources.size());
    parallelFor(m_sources.size(), [this](size_t s) {
        if (m_available[s])
            m_sourceForms[s] = roleFormOf(m_sources[s].key);
    });
    for (size_t s = 0; s < m_sources.size(); ++s) {
        if (!m_available[s])
            continue;
        const QString key = m_sourceForms[s].tokens.join(QLatin1Char('.'));
        const auto it = m_byKey.constFind(key);
        m_byKey.insert(key, it == m_byKey.constEnd() ? static_cast<int>(s) : kDuplicate);
    }
    m_targetForms.resize(m_targets.size());
    parallelFor(m_targets.size(), [this](size_t t) {
        if (m_open[t])
            m_targetForms[t] = roleFormOf(m_targets[t].key);
    });
}

void StructureMatcher::learnRules()
{
    // Every tail of every distinct source pattern (a model's blocks share one pattern each).
    QHash<QString, QStringList> sourcePatterns;
    for (size_t s = 0; s < m_sources.size(); ++s) {
        if (m_available[s])
            sourcePatterns.insert(m_sourceForms[s].pattern.join(QLatin1Char('.')), m_sourceForms[s].pattern);
    }
    QHash<QString, std::vector<std::pair<const QStringList *, int>>> tails;
    for (const QStringList &pattern : std::as_const(sourcePatterns)) {
        for (qsizetype i = 0; i < pattern.size(); ++i) {
            const QStringList tail = pattern.mid(i);
            if (!parameterOnly(tail))
                tails[tail.join(QLatin1Char('.'))].emplace_back(&pattern, static_cast<int>(i));
        }
    }
    QHash<QString, int> targetPatterns;
    QHash<QString, QStringList> targetPatternTokens;
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (!m_open[t])
            continue;
        const QString joined = m_targetForms[t].pattern.join(QLatin1Char('.'));
        ++targetPatterns[joined];
        targetPatternTokens.insert(joined, m_targetForms[t].pattern);
    }
    // The names each side's keys use (index markers aside).
    QSet<QString> sourceWords;
    QSet<QString> targetWords;
    for (const QStringList &pattern : std::as_const(sourcePatterns))
        sourceWords.unite(QSet<QString>(pattern.begin(), pattern.end()));
    for (const QStringList &pattern : std::as_const(targetPatternTokens))
        targetWords.unite(QSet<QString>(pattern.begin(), pattern.end()));
    // Each target pattern votes for the head pairs of its longest tail found among the sources.
    QHash<QString, QHash<QString, int>> votes;
    for (auto it = targetPatterns.constBegin(); it != targetPatterns.constEnd(); ++it) {
        const QStringList &pattern = targetPatternTokens[it.key()];
        for (qsizetype j = 0; j < pattern.size(); ++j) {
            const QStringList tail = pattern.mid(j);
            if (parameterOnly(tail))
                break;
            // The tail itself, or with its module as the fused whole / first part (q <-> qkv).
            std::vector<QStringList> variants{tail};
            if (tail.size() >= 2) {
                const QString &module = tail[tail.size() - 2];
                if (const auto whole = fusedWhole(module)) {
                    variants.push_back(tail);
                    variants.back()[tail.size() - 2] = whole->first;
                }
                if (const QStringList parts = fusedParts(module); !parts.isEmpty()) {
                    variants.push_back(tail);
                    variants.back()[tail.size() - 2] = parts.front();
                }
            }
            bool found = false;
            const QString targetHead = pattern.mid(0, j).join(QLatin1Char('.'));
            for (const QStringList &variant : variants) {
                const auto hits = tails.constFind(variant.join(QLatin1Char('.')));
                if (hits == tails.constEnd())
                    continue;
                for (const auto &[sourcePattern, cut] : *hits) {
                    if (headsExclusive(sourcePattern->mid(0, cut), pattern.mid(0, j))
                        || rewriteCrossesNames(sourcePattern->mid(0, cut), pattern.mid(0, j),
                                               pattern.mid(0, j + 1).contains(QStringLiteral("#")), sourceWords, targetWords))
                        continue; // an encoder never learns its prefix from a decoder, nor block 4e from 3b
                    found = true;
                    votes[targetHead][sourcePattern->mid(0, cut).join(QLatin1Char('.'))] += it.value();
                }
            }
            if (found)
                break;
        }
    }
    for (auto it = votes.constBegin(); it != votes.constEnd(); ++it) {
        const QStringList targetTokens = it.key().split(QLatin1Char('.'), Qt::SkipEmptyParts);
        std::vector<Rule> rules;
        for (auto source = it.value().constBegin(); source != it.value().constEnd(); ++source) {
            const QStringList sourceTokens = source.key().split(QLatin1Char('.'), Qt::SkipEmptyParts);
            int overlap = 0;
            for (const QString &token : sourceTokens)
                overlap += token != QLatin1String("#") && targetTokens.contains(token);
            rules.push_back({source.key(), source.value(), overlap, sourceTokens,
                             static_cast<int>(sourceTokens.count(QStringLiteral("#")))});
            if (source.key() != it.key())
                m_result.rewrites.push_back({source.key(), it.key(), source.value()});
        }
        std::sort(rules.begin(), rules.end(), [](const Rule &a, const Rule &b) {
            return a.votes != b.votes ? a.votes > b.votes : a.overlap != b.overlap ? a.overlap > b.overlap : a.sourceHead < b.sourceHead;
        });
        m_rules.insert(it.key(), rules);
    }
    std::sort(m_result.rewrites.begin(), m_result.rewrites.end(), [](const LearnedRewrite &a, const LearnedRewrite &b) {
        return a.support != b.support ? a.support > b.support : a.targetHead < b.targetHead;
    });
}

std::optional<StructureCandidate> StructureMatcher::attempt(int target, const Rule &rule, const QStringList &headNumbers,
                                                            const QStringList &tail, bool &conflict)
{
    const QStringList &head = rule.head;
    const int sourceIndices = rule.headIndices;
    const int targetIndices = static_cast<int>(headNumbers.size());
    const KeySpec &leaf = m_targets[static_cast<size_t>(target)];
    // How the sources were found, built only for a candidate (attempts run per target and rule).
    auto via = [&]() {
        const QStringList &pattern = m_targetForms[static_cast<size_t>(target)].pattern;
        if (rule.sourceHead.isEmpty() && pattern.size() == tail.size())
            return QStringLiteral("role names match");
        return QStringLiteral("learned rewrite '%1' -> '%2'").arg(rule.sourceHead, pattern.mid(0, pattern.size() - tail.size()).join(QLatin1Char('.')));
    };
    auto usable = [&](int s) { return s >= 0 && !m_used[static_cast<size_t>(s)] && !m_sliced.contains(s); };
    auto withModule = [&](const QStringList &tokens, const QString &module) {
        QStringList out = tokens;
        out[out.size() - 2] = module;
        return out;
    };
    // The sources of one layer for this tail: the tensor itself, or the parts of a fused role.
    auto layerSources = [&](const QStringList &prefix, std::vector<int> &out) -> bool {
        const QStringList key = prefix + tail;
        const int direct = lookup(key);
        if (usable(direct)) {
            out = {direct};
            return true;
        }
        if (tail.size() >= 2 && m_targetPerHead[static_cast<size_t>(target)].isEmpty()) {
            const QStringList parts = fusedParts(tail[tail.size() - 2]);
            std::vector<int> found;
            for (const QString &part : parts) {
                const int s = lookup(withModule(key, part));
                if (!usable(s))
                    break;
                found.push_back(s);
            }
            if (!parts.isEmpty() && found.size() == static_cast<size_t>(parts.size())) {
                out = found;
                return true;
            }
        }
        return false;
    };
    // The leaf fits the same tail in another block of the source (the head's last index changed).
    auto fitsAnotherBlock = [&]() {
        QStringList numbers = headNumbers;
        const qint64 own = numbers.last().toLongLong();
        for (qint64 n = 0; n < 4096; ++n) {
            if (n == own)
                continue;
            numbers.last() = QString::number(n);
            const int s = lookup(filled(head, numbers) + tail);
            if (s < 0) {
                if (n > own + 64) // blocks may be numbered with gaps (torchvision Swin's features.1, .3, .5)
                    break;
                continue;
            }
            if (analysePair(m_sources[static_cast<size_t>(s)].spec, leaf.spec, m_convention, leaf.key).status != MatchStatus::Incompatible)
                return true;
        }
        return false;
    };
    auto finish = [&](std::vector<int> sources, PairAnalysis analysis, MatchOrigin origin) -> std::optional<StructureCandidate> {
        if (analysis.status == MatchStatus::Incompatible) {
            m_result.conflicts.emplace_back(target, sources.front(), analysis.reason);
            conflict = true;
            if (origin == MatchOrigin::Structure && sources.size() == 1 && sourceIndices == targetIndices && targetIndices >= 1
                && fitsAnotherBlock())
                m_contradicted.insert(via());
            return std::nullopt;
        }
        return StructureCandidate{target, std::move(sources), std::move(analysis), origin, via()};
    };

    if (sourceIndices == targetIndices) {
        const QStringList prefix = filled(head, headNumbers);
        std::vector<int> found;
        if (layerSources(prefix, found)) {
            std::vector<std::vector<TensorSpec>> layer(1);
            for (int s : found)
                layer[0].push_back(m_sources[static_cast<size_t>(s)].spec);
            PairAnalysis analysis = analyseGathered(layer, leaf.spec, m_convention, leaf.key, false);
            return finish(found, analysis, found.size() > 1 ? MatchOrigin::Concat : MatchOrigin::Structure);
        }
        // One part of a fused source (qkv -> q).
        if (tail.size() >= 2) {
            if (const auto whole = fusedWhole(tail[tail.size() - 2])) {
                const int s = lookup(withModule(prefix + tail, whole->first));
                if (s >= 0 && !m_used[static_cast<size_t>(s)]) {
                    if (const QString &perHead = m_sourcePerHead[static_cast<size_t>(s)]; !perHead.isEmpty())
                        return finish({s}, PairAnalysis{MatchStatus::Incompatible, {}, perHead}, MatchOrigin::FusedSlice);
                    PairAnalysis analysis = analyseFusedSlice(m_sources[static_cast<size_t>(s)].spec, leaf.spec, whole->second,
                                                              static_cast<int>(fusedParts(whole->first).size()), m_convention, leaf.key);
                    return finish({s}, analysis, MatchOrigin::FusedSlice);
                }
            }
        }
        return std::nullopt;
    }
    if (sourceIndices == targetIndices + 1) {
        // Per-layer sources into a stacked leaf: the source head's last index runs over the layers.
        // A stacked leaf's first axis counts the layers found (checked once found).
        const qsizetype free = head.lastIndexOf(QStringLiteral("#"));
        std::vector<int> all;
        std::vector<std::vector<TensorSpec>> layers;
        for (int n = 0;; ++n) {
            QStringList numbers = headNumbers;
            const qsizetype before = head.mid(0, free).count(QStringLiteral("#"));
            numbers.insert(before, QString::number(n));
            std::vector<int> found;
            if (!layerSources(filled(head, numbers), found))
                break;
            std::vector<TensorSpec> specs;
            for (int s : found)
                specs.push_back(m_sources[static_cast<size_t>(s)].spec);
            all.insert(all.end(), found.begin(), found.end());
            layers.push_back(specs);
        }
        if (layers.empty() && tail.size() >= 2 && !leaf.spec.shape.empty()) {
            // One part of each layer's fused source, stacked (c_attn of every layer -> stacked q).
            const auto whole = fusedWhole(tail[tail.size() - 2]);
            if (!whole)
                return std::nullopt;
            QStringList wholeTail = tail;
            wholeTail[tail.size() - 2] = whole->first;
            std::vector<int> found;
            for (int n = 0;; ++n) {
                QStringList numbers = headNumbers;
                numbers.insert(head.mid(0, free).count(QStringLiteral("#")), QString::number(n));
                const int s = lookup(filled(head, numbers) + wholeTail);
                if (s < 0 || m_used[static_cast<size_t>(s)])
                    break;
                found.push_back(s);
            }
            if (found.empty())
                return std::nullopt;
            const TensorSpec &first = m_sources[static_cast<size_t>(found.front())].spec;
            for (int s : found) {
                if (!(m_sources[static_cast<size_t>(s)].spec == first))
                    return std::nullopt;
                if (!m_sourcePerHead[static_cast<size_t>(s)].isEmpty())
                    return finish(found, PairAnalysis{MatchStatus::Incompatible, {}, m_sourcePerHead[static_cast<size_t>(s)]}, MatchOrigin::Stacked);
            }
            const qint64 count = static_cast<qint64>(found.size());
            if (leaf.spec.shape[0] != count) {
                m_result.conflicts.emplace_back(target, found.front(),
                                                QStringLiteral("%1 layers, the stacked leaf has %2").arg(count).arg(leaf.spec.shape[0]));
                conflict = true;
                return std::nullopt;
            }
            TensorSpec perLayer{leaf.spec.dtype, Shape(leaf.spec.shape.begin() + 1, leaf.spec.shape.end())};
            PairAnalysis inner = analyseFusedSlice(first, perLayer, whole->second, static_cast<int>(fusedParts(whole->first).size()), m_convention, leaf.key);
            if (inner.status == MatchStatus::Incompatible)
                return finish(found, inner, MatchOrigin::Stacked);
            TransformChain chain{Transform::stack(0)};
            for (const Transform &transform : inner.transforms)
                chain.push_back(liftedTransform(transform, count));
            PairAnalysis analysis{MatchStatus::Fixable, chain,
                                  QStringLiteral("%1 layers stacked on a new axis 0; %2").arg(count).arg(inner.reason)};
            return StructureCandidate{target, found, analysis, MatchOrigin::Stacked, via(), true};
        }
        if (layers.empty())
            return std::nullopt;
        if (leaf.spec.shape.empty() || leaf.spec.shape[0] != static_cast<qint64>(layers.size()))
            return std::nullopt; // not a stack of these layers (T5's `encoder.rel_bias` is block 0's bias)
        PairAnalysis analysis = analyseGathered(layers, leaf.spec, m_convention, leaf.key, true);
        return finish(all, analysis, MatchOrigin::Stacked);
    }
    if (sourceIndices + 1 == targetIndices) {
        // One layer of a stacked source: the target head's last index picks it.
        QStringList numbers = headNumbers;
        const qint64 layer = numbers.takeLast().toLongLong();
        const int s = lookup(filled(head, numbers) + tail);
        if (s < 0 || m_used[static_cast<size_t>(s)])
            return std::nullopt;
        const TensorSpec &source = m_sources[static_cast<size_t>(s)].spec;
        // A stacked source has one axis more than each layer's leaf; anything else is a
        // per-layer tensor under a differently nested name (`layer1.0` vs `stages[0][0]`).
        if (source.shape.size() != leaf.spec.shape.size() + 1)
            return std::nullopt;
        if (source.shape[0] <= layer) {
            m_result.conflicts.emplace_back(target, s, QStringLiteral("the stacked source has no layer %1").arg(layer));
            conflict = true;
            return std::nullopt;
        }
        TensorSpec one{source.dtype, Shape(source.shape.begin() + 1, source.shape.end())};
        PairAnalysis inner = analysePair(one, leaf.spec, m_convention, leaf.key);
        TransformChain chain{Transform::slice(0, layer, layer + 1), Transform::reshape(one.shape)};
        chain.insert(chain.end(), inner.transforms.begin(), inner.transforms.end());
        PairAnalysis analysis{inner.status == MatchStatus::Incompatible ? MatchStatus::Incompatible : MatchStatus::Fixable, chain,
                              QStringLiteral("layer %1 of a stacked tensor").arg(layer)};
        if (inner.status == MatchStatus::Incompatible)
            analysis.reason = inner.reason;
        else if (inner.status == MatchStatus::Fixable)
            analysis.reason += QStringLiteral("; ") + inner.reason;
        return finish({s}, analysis, MatchOrigin::Unstacked);
    }
    return std::nullopt;
}

StructureMatch StructureMatcher::run()
{
    indexSources();
    learnRules();
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (!m_open[t])
            continue;
        const RoleForm &form = m_targetForms[t];
        bool decided = false;
        for (qsizetype j = 0; j < form.tokens.size() && !decided; ++j) {
            // A tail of a parameter name alone never teaches a rewrite, but under a rewrite the
            // other leaves taught (`stages.#.blocks.#` -> `stages.#.blocks`) it finds its source.
            const QStringList tail = form.tokens.mid(j);
            const auto rules = m_rules.constFind(form.pattern.mid(0, j).join(QLatin1Char('.')));
            if (rules == m_rules.constEnd())
                continue;
            QStringList numbers;
            for (qsizetype i = 0; i < j; ++i) {
                if (isIndexToken(form.tokens[i]))
                    numbers << form.tokens[i];
            }
            bool conflict = false;
            for (size_t r = 0; r < rules->size() && !decided; ++r) {
                std::optional<StructureCandidate> candidate = attempt(static_cast<int>(t), (*rules)[r], numbers, tail, conflict);
                if (!candidate)
                    continue;
                // A second rule as well supported that finds other sources: a tie, not a decision.
                bool tie = false;
                for (size_t other = r + 1; other < rules->size(); ++other) {
                    const Rule &a = (*rules)[r];
                    const Rule &b = (*rules)[other];
                    if (b.votes != a.votes || b.overlap != a.overlap)
                        break;
                    bool ignored = false;
                    const std::optional<StructureCandidate> rival = attempt(static_cast<int>(t), b, numbers, tail, ignored);
                    tie = tie || (rival && rival->sources != candidate->sources);
                }
                decided = true;
                if (tie)
                    break;
                const bool slices = candidate->slicesSources || candidate->origin == MatchOrigin::FusedSlice
                                    || candidate->origin == MatchOrigin::Unstacked;
                for (int s : candidate->sources) {
                    if (slices)
                        m_sliced.insert(s);
                    else
                        m_used[static_cast<size_t>(s)] = true;
                }
                m_result.matches.push_back(std::move(*candidate));
            }
            if (conflict)
                break;
        }
    }
    if (!m_contradicted.isEmpty()) {
        std::vector<StructureCandidate> kept;
        for (StructureCandidate &candidate : m_result.matches) {
            if (!m_contradicted.contains(candidate.why)) {
                kept.push_back(std::move(candidate));
                continue;
            }
            m_result.conflicts.emplace_back(candidate.target, candidate.sources.front(),
                                            QStringLiteral("%1 pairs block i with block i, but the shapes of other leaves say the "
                                                           "blocks are in another order")
                                                .arg(candidate.why));
        }
        m_result.matches = std::move(kept);
    }
    return std::move(m_result);
}

} // namespace

QString roleKey(const QString &key) { return roleTokens(key).join(QLatin1Char('.')); }

QString roleTemplate(const QString &key) { return roleFormOf(key).pattern.join(QLatin1Char('.')); }

StructureMatch matchStructure(const std::vector<KeySpec> &sources, const std::vector<bool> &sourceAvailable,
                              const std::vector<KeySpec> &targets, const std::vector<bool> &targetOpen, Convention convention)
{
    StructureMatcher matcher(sources, sourceAvailable, targets, targetOpen, convention);
    return matcher.run();
}

} // namespace graft
