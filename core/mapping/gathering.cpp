#include "mapping/gathering.h"

#include "mapping/keynames.h"
#include "mapping/namingtable.h"

#include <QSet>

#include <algorithm>
#include <map>

namespace graft {

Transform liftedToStack(const Transform &transform, qint64 layers)
{
    Transform out = transform;
    switch (transform.op) {
    case TransformOp::Reshape:
        out.shape.insert(out.shape.begin(), layers);
        break;
    case TransformOp::Transpose:
        out.axes = {0};
        for (int axis : transform.axes)
            out.axes.push_back(axis + 1);
        break;
    case TransformOp::Flip:
        for (int &axis : out.axes)
            ++axis;
        break;
    case TransformOp::Slice:
        ++out.axis;
        break;
    default:
        break;
    }
    return out;
}

PairAnalysis analyseGathered(const std::vector<std::vector<TensorSpec>> &layers, const TensorSpec &target, Convention convention,
                      const QString &targetKey, bool stackedTarget)
{
    PairAnalysis failed;
    failed.status = MatchStatus::Incompatible;
    const std::vector<TensorSpec> &first = layers.front();
    for (const std::vector<TensorSpec> &layer : layers) {
        if (layer.size() != first.size() || !std::equal(layer.begin(), layer.end(), first.begin())) {
            failed.reason = QStringLiteral("the layers' tensors differ in shape or dtype");
            return failed;
        }
    }
    TensorSpec combined = first.front();
    if (first.size() > 1) {
        for (size_t i = 1; i < first.size(); ++i) {
            const TensorSpec &part = first[i];
            if (part.dtype != combined.dtype || part.shape.size() != combined.shape.size() || part.shape.empty()
                || !std::equal(part.shape.begin() + 1, part.shape.end(), combined.shape.begin() + 1)) {
                failed.reason = QStringLiteral("the parts cannot be concatenated on axis 0");
                return failed;
            }
            combined.shape[0] += part.shape[0];
        }
    }
    TensorSpec perLayerTarget = target;
    const qint64 count = static_cast<qint64>(layers.size());
    if (stackedTarget) {
        if (target.shape.empty() || target.shape[0] != count) {
            failed.reason = QStringLiteral("%1 layers, the stacked leaf has %2").arg(count).arg(target.shape.empty() ? 0 : target.shape[0]);
            return failed;
        }
        perLayerTarget.shape.erase(perLayerTarget.shape.begin());
    }
    PairAnalysis inner = analysePair(combined, perLayerTarget, convention, targetKey);
    if (inner.status == MatchStatus::Incompatible)
        return inner;
    TransformChain chain;
    QStringList why;
    if (!stackedTarget) {
        if (first.size() > 1) {
            chain.push_back(Transform::concat(0));
            why << QStringLiteral("%1 parts concatenated on axis 0").arg(first.size());
        }
        chain.insert(chain.end(), inner.transforms.begin(), inner.transforms.end());
    } else {
        chain.push_back(Transform::stack(0));
        if (first.size() > 1) {
            for (const TensorSpec &part : first) {
                if (!(part == first.front())) {
                    failed.reason = QStringLiteral("parts of unequal shape cannot be stacked per layer");
                    return failed;
                }
            }
            Shape shape = combined.shape;
            shape.insert(shape.begin(), count);
            chain.push_back(Transform::reshape(shape));
            why << QStringLiteral("%1 layers of %2 parts each stacked").arg(count).arg(first.size());
        } else {
            why << QStringLiteral("%1 layers stacked on a new axis 0").arg(count);
        }
        for (const Transform &transform : inner.transforms)
            chain.push_back(liftedToStack(transform, count));
    }
    if (inner.status == MatchStatus::Fixable)
        why << inner.reason;
    PairAnalysis analysis;
    analysis.transforms = chain;
    analysis.status = chain.empty() ? MatchStatus::Exact : MatchStatus::Fixable;
    analysis.reason = why.isEmpty() ? inner.reason : why.join(QStringLiteral("; "));
    return analysis;
}

namespace {

// The role path of a key from its last block index on (`transformer.h.0.attn.c_attn.weight` ->
// attn, qkv, weight): what the key is inside its layer.
QStringList roleTail(const QString &key)
{
    const QStringList tokens = roleTokens(key);
    qsizetype start = 0;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        if (isIndexToken(tokens[i]))
            start = i + 1;
    }
    return tokens.mid(start);
}

int commonSuffix(const QStringList &a, const QStringList &b)
{
    int n = 0;
    while (n < a.size() && n < b.size() && a[a.size() - 1 - n] == b[b.size() - 1 - n])
        ++n;
    return n;
}

// The module role of a key (`q` of attn.q.weight), or empty for a bare parameter.
QString moduleRole(const QStringList &tail) { return tail.size() >= 2 ? tail[tail.size() - 2] : QString(); }

struct Group {
    QString label;          ///< the block index, or empty
    std::vector<int> keys;  ///< indices into `dropped`, in selection order
};

// Layers: the first token after the keys' common prefix is a block index in every key.
std::vector<Group> groupByLayer(const std::vector<KeySpec> &dropped)
{
    std::vector<QStringList> tokens;
    for (const KeySpec &key : dropped)
        tokens.push_back(keyTokens(key.key));
    qsizetype common = tokens.front().size();
    for (const QStringList &t : tokens) {
        qsizetype n = 0;
        while (n < common && n < t.size() && t[n] == tokens.front()[n])
            ++n;
        common = n;
    }
    std::map<qint64, Group> layers;
    bool layered = dropped.size() > 1;
    for (size_t i = 0; i < tokens.size() && layered; ++i) {
        if (tokens[i].size() <= common + 1 || !isIndexToken(tokens[i][common])) {
            layered = false;
            break;
        }
        Group &group = layers[tokens[i][common].toLongLong()];
        group.label = tokens[i][common];
        group.keys.push_back(static_cast<int>(i));
    }
    std::vector<Group> groups;
    if (layered && layers.size() > 1) {
        for (auto &entry : layers)
            groups.push_back(std::move(entry.second));
        return groups;
    }
    Group all;
    for (size_t i = 0; i < dropped.size(); ++i)
        all.keys.push_back(static_cast<int>(i));
    groups.push_back(std::move(all));
    return groups;
}

// One group's sources for the target (see gatherSources), or empty with `why`.
std::vector<int> pickSources(const std::vector<KeySpec> &dropped, const Group &group, const KeySpec &target, const TensorSpec &perLayer,
                             bool onlyGroup, Convention convention, QStringList &partNames, QString &why)
{
    partNames.clear();
    if (group.keys.size() == 1) {
        partNames << dropped[static_cast<size_t>(group.keys.front())].key;
        return group.keys;
    }
    const QStringList targetTail = roleTail(target.key);
    std::vector<QStringList> tails;
    for (int k : group.keys)
        tails.push_back(roleTail(dropped[static_cast<size_t>(k)].key));
    // The key whose role path ends like the target's (module and parameter at least).
    int best = -1;
    int bestLength = 1;
    bool tie = false;
    for (size_t i = 0; i < tails.size(); ++i) {
        const int length = commonSuffix(tails[i], targetTail);
        if (length > bestLength) {
            best = static_cast<int>(i);
            bestLength = length;
            tie = false;
        } else if (length == bestLength && best >= 0) {
            tie = true;
        }
    }
    if (best >= 0 && !tie) {
        partNames << dropped[static_cast<size_t>(group.keys[static_cast<size_t>(best)])].key;
        return {group.keys[static_cast<size_t>(best)]};
    }
    // The parts of the target's fused role, in role order (q, k, v for qkv).
    const QStringList parts = fusedParts(moduleRole(targetTail));
    if (!parts.isEmpty() && !targetTail.isEmpty()) {
        std::vector<int> found;
        for (const QString &part : parts) {
            int match = -1;
            for (size_t i = 0; i < tails.size(); ++i) {
                if (moduleRole(tails[i]) == part && tails[i].back() == targetTail.back())
                    match = match < 0 ? static_cast<int>(i) : -2;
            }
            if (match < 0)
                break;
            found.push_back(group.keys[static_cast<size_t>(match)]);
        }
        if (found.size() == static_cast<size_t>(parts.size())) {
            partNames = parts;
            return found;
        }
    }
    // One group: every key is a part, in the order the user selected them.
    if (onlyGroup) {
        std::vector<std::vector<TensorSpec>> one(1);
        for (int k : group.keys)
            one[0].push_back(dropped[static_cast<size_t>(k)].spec);
        if (analyseGathered(one, target.spec, convention, target.key, false).status != MatchStatus::Incompatible) {
            for (int k : group.keys) {
                const QString role = moduleRole(roleTail(dropped[static_cast<size_t>(k)].key));
                partNames << (isKnownRole(role) ? role : dropped[static_cast<size_t>(k)].key);
            }
            return group.keys;
        }
    }
    // The only key whose shape fits.
    int fits = -1;
    for (int k : group.keys) {
        if (analysePair(dropped[static_cast<size_t>(k)].spec, perLayer, convention, target.key).status != MatchStatus::Incompatible)
            fits = fits == -1 ? k : -2;
    }
    if (fits >= 0) {
        partNames << dropped[static_cast<size_t>(fits)].key;
        return {fits};
    }
    why = fits == -2 ? QStringLiteral("several keys%1 fit %2: select the one to use")
                           .arg(group.label.isEmpty() ? QString() : QStringLiteral(" of layer %1").arg(group.label), target.key)
                     : QStringLiteral("no key%1 fits %2 %3")
                           .arg(group.label.isEmpty() ? QString() : QStringLiteral(" of layer %1").arg(group.label), target.key,
                                shapeToString(perLayer.shape));
    return {};
}

// `transformer.h.0.attn.c_attn.weight` with the layer token `0` -> transformer.h.#.attn.c_attn.weight.
QString layerTemplate(const QString &key, const QString &layer)
{
    QStringList parts = key.split(QLatin1Char('.'));
    for (QString &part : parts) {
        if (part == layer) {
            part = QStringLiteral("#");
            break;
        }
    }
    return parts.join(QLatin1Char('.'));
}

} // namespace

QString roleInLayer(const QString &key) { return roleTail(key).join(QLatin1Char('.')); }

GatheredSources gatherSources(const std::vector<KeySpec> &dropped, const KeySpec &target, Convention convention)
{
    GatheredSources out;
    out.analysis.status = MatchStatus::Incompatible;
    if (dropped.empty()) {
        out.analysis.reason = QStringLiteral("no source keys");
        return out;
    }
    const std::vector<Group> groups = groupByLayer(dropped);
    const bool stacked = groups.size() > 1;
    const qint64 count = static_cast<qint64>(groups.size());
    TensorSpec perLayer = target.spec;
    if (stacked) {
        if (target.spec.shape.empty() || target.spec.shape[0] != count) {
            out.analysis.reason = QStringLiteral("%1 layers dropped, the leaf's first axis is %2 (%3)")
                                      .arg(count)
                                      .arg(target.spec.shape.empty() ? QStringLiteral("missing") : QString::number(target.spec.shape[0]),
                                           shapeToString(target.spec.shape));
            return out;
        }
        perLayer.shape.erase(perLayer.shape.begin());
    }
    std::vector<std::vector<TensorSpec>> layers;
    QStringList partNames;
    for (const Group &group : groups) {
        QStringList names;
        QString why;
        const std::vector<int> picked = pickSources(dropped, group, target, perLayer, !stacked, convention, names, why);
        if (picked.empty()) {
            out.analysis.reason = why;
            return out;
        }
        if (!partNames.isEmpty() && names.size() != partNames.size()) {
            out.analysis.reason = QStringLiteral("layer %1 has %2 parts, layer %3 has %4")
                                      .arg(groups.front().label).arg(partNames.size()).arg(group.label).arg(names.size());
            return out;
        }
        if (partNames.isEmpty())
            partNames = names;
        layers.emplace_back();
        for (int k : picked) {
            out.sources << dropped[static_cast<size_t>(k)].key;
            layers.back().push_back(dropped[static_cast<size_t>(k)].spec);
        }
    }
    out.analysis = analyseGathered(layers, target.spec, convention, target.key, stacked);
    out.layers = stacked ? static_cast<int>(count) : 0;
    const size_t parts = layers.front().size();
    out.parts = parts > 1 ? partNames : QStringList();
    QStringList described;
    if (stacked) {
        described << QStringLiteral("stacked %1 layers of %2")
                         .arg(count)
                         .arg(layerTemplate(out.sources.front(), groups.front().label));
    }
    if (parts > 1)
        described << QStringLiteral("concatenated %1").arg(partNames.join(QStringLiteral(", ")));
    out.origin = stacked ? MatchOrigin::Stacked : parts > 1 ? MatchOrigin::Concat : MatchOrigin::Explicit;
    out.description = described.isEmpty() ? QStringLiteral("picked %1 by its role").arg(out.sources.front()) : described.join(QStringLiteral(", "));
    return out;
}

} // namespace graft
