#include "mapping/gathering.h"

#include "mapping/partsanalysis.h"

#include "mapping/keynames.h"
#include "mapping/namingtable.h"

#include <QSet>

#include <algorithm>
#include <map>

namespace graft {


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
