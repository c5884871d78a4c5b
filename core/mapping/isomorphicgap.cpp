#include "mapping/isomorphicgap.h"

#include "mapping/namingtable.h"

#include <QHash>

#include <algorithm>
#include <numeric>
#include <limits>

namespace graft {
namespace {

struct Module {
    QStringList roles;                       ///< role tokens of the module path
    std::vector<std::pair<QString, int>> parameters; ///< (parameter name, leaf index), sorted by name
};

// Modules in tree order: by the first leaf anywhere in their subtree, a parent before its first
// child. (torch's state_dict lists a module's own parameters before its children's — ConvNeXt's
// layer_scale — where an Equinox module declares them wherever its author did; an Equinox
// (model, state) lists a BatchNorm's statistics after the whole model: one module all the same.)
std::vector<Module> modulesOf(const std::vector<int> &leaves, const std::function<const QStringList &(size_t)> &roles)
{
    std::vector<Module> modules;
    QHash<QString, size_t> byPath;
    QHash<QString, int> subtreeFirst; // module path -> position of the first leaf below it
    for (size_t position = 0; position < leaves.size(); ++position) {
        const int leaf = leaves[position];
        QStringList tokens = roles(static_cast<size_t>(leaf));
        QString parameter;
        if (!tokens.isEmpty() && isParameterName(tokens.last()))
            parameter = tokens.takeLast();
        const QString path = tokens.join(QLatin1Char('.'));
        auto it = byPath.constFind(path);
        if (it == byPath.constEnd()) {
            it = byPath.insert(path, modules.size());
            modules.push_back({tokens, {}});
        }
        modules[*it].parameters.emplace_back(parameter, leaf);
        QString prefix; // built one token at a time: every ancestor path of this module
        for (qsizetype depth = 0; depth <= tokens.size(); ++depth) {
            if (depth > 0) {
                if (depth > 1)
                    prefix += QLatin1Char('.');
                prefix += tokens[depth - 1];
            }
            if (!subtreeFirst.contains(prefix))
                subtreeFirst.insert(prefix, static_cast<int>(position));
        }
    }
    for (Module &module : modules)
        std::sort(module.parameters.begin(), module.parameters.end());
    // Sort keys computed once per module (a comparator that joins paths costs seconds at 100k).
    std::vector<std::pair<int, qsizetype>> keys;
    keys.reserve(modules.size());
    for (const Module &module : modules)
        keys.emplace_back(subtreeFirst.value(module.roles.join(QLatin1Char('.'))), module.roles.size());
    std::vector<size_t> order(modules.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    std::vector<Module> sorted;
    sorted.reserve(modules.size());
    for (size_t index : order)
        sorted.push_back(std::move(modules[index]));
    modules = std::move(sorted);
    return modules;
}

bool sameParameters(const Module &a, const Module &b)
{
    return a.parameters.size() == b.parameters.size()
           && std::equal(a.parameters.begin(), a.parameters.end(), b.parameters.begin(),
                         [](const auto &x, const auto &y) { return x.first == y.first; });
}

bool alike(const Module &a, const Module &b, const std::vector<KeySpec> &specs)
{
    if (!sameParameters(a, b))
        return false;
    for (size_t i = 0; i < a.parameters.size(); ++i) {
        if (!(specs[static_cast<size_t>(a.parameters[i].second)].spec == specs[static_cast<size_t>(b.parameters[i].second)].spec))
            return false;
    }
    return true;
}

bool rolesContradict(const QStringList &a, const QStringList &b)
{
    return !a.isEmpty() && !b.isEmpty() && rolesDiffer(a.last(), b.last());
}

} // namespace

std::vector<std::pair<int, int>> isomorphicPairs(const std::vector<int> &gapTargets, const std::vector<int> &gapSources,
                                                 const std::vector<KeySpec> &targets, const std::vector<KeySpec> &sources,
                                                 const std::function<const QStringList &(size_t)> &targetRoles,
                                                 const std::function<const QStringList &(size_t)> &sourceRoles, Convention convention,
                                                 const std::function<bool(const QStringList &, const QStringList &)> &namesContradict,
                                                 bool distinctModules)
{
    if (gapTargets.size() != gapSources.size() || gapTargets.empty())
        return {};
    const std::vector<Module> targetModules = modulesOf(gapTargets, targetRoles);
    const std::vector<Module> sourceModules = modulesOf(gapSources, sourceRoles);
    const bool debug = qEnvironmentVariableIsSet("GRAFT_DEBUG_ISO");
    if (debug)
        qWarning("iso: %zu target modules, %zu source modules", targetModules.size(), sourceModules.size());
    if (targetModules.size() != sourceModules.size())
        return {};
    // Neighbours alike on either side (an SE block's reduce and expand of one width): order
    // alone would say which is which, so those stay open for the guessing pass.
    // Only true neighbours count: modules with nothing already decided between them on one side
    // or the other (a decided module in between on both sides fixes their order).
    auto adjacent = [](const Module &a, const Module &b, const std::vector<int> &gap) {
        int last = -1;
        int first = std::numeric_limits<int>::max();
        for (const auto &parameter : a.parameters)
            last = std::max(last, parameter.second);
        for (const auto &parameter : b.parameters)
            first = std::min(first, parameter.second);
        if (first < last)
            return true;
        // Every leaf between them belongs to the gap: nothing separates them.
        const auto from = std::upper_bound(gap.begin(), gap.end(), last);
        const auto to = std::lower_bound(gap.begin(), gap.end(), first);
        return to - from == first - last - 1;
    };
    std::vector<int> sortedTargets = gapTargets;
    std::vector<int> sortedSources = gapSources;
    std::sort(sortedTargets.begin(), sortedTargets.end());
    std::sort(sortedSources.begin(), sortedSources.end());
    std::vector<bool> uncertain(targetModules.size(), false);
    for (size_t m = 1; m < targetModules.size(); ++m) {
        const bool alikeTargets = alike(targetModules[m - 1], targetModules[m], targets);
        const bool alikeSources = alike(sourceModules[m - 1], sourceModules[m], sources);
        if (!alikeTargets && !alikeSources)
            continue;
        const bool separated = !adjacent(targetModules[m - 1], targetModules[m], sortedTargets)
                               && !adjacent(sourceModules[m - 1], sourceModules[m], sortedSources);
        if (!separated)
            uncertain[m - 1] = uncertain[m] = true;
    }
    if (distinctModules) {
        for (size_t a = 0; a < targetModules.size(); ++a) {
            for (size_t b = a + 1; b < targetModules.size(); ++b) {
                if (alike(targetModules[a], targetModules[b], targets) || alike(sourceModules[a], sourceModules[b], sources))
                    uncertain[a] = uncertain[b] = true;
            }
        }
    }
    std::vector<std::pair<int, int>> pairs;
    for (size_t m = 0; m < targetModules.size(); ++m) {
        const Module &target = targetModules[m];
        const Module &source = sourceModules[m];
        if (!sameParameters(target, source) || rolesContradict(target.roles, source.roles) || namesContradict(target.roles, source.roles)) {
            if (debug)
                qWarning("iso: module %zu differs: %s vs %s", m, qPrintable(target.roles.join('.')), qPrintable(source.roles.join('.')));
            return {};
        }
        std::vector<std::pair<int, int>> modulePairs;
        for (size_t p = 0; p < target.parameters.size(); ++p) {
            const int t = target.parameters[p].second;
            const int s = source.parameters[p].second;
            const PairAnalysis analysis = analysePair(sources[static_cast<size_t>(s)].spec, targets[static_cast<size_t>(t)].spec,
                                                      convention, targets[static_cast<size_t>(t)].key);
            if (analysis.status == MatchStatus::Incompatible)
                return {};
            // Order is weak evidence: it may pair tensors whose shapes agree as they are (or as the
            // Flax convention prescribes), never through a transpose it would have to guess (an
            // Equinox or torch Linear weight never arrives transposed: DeepSeek's w1 is gate_proj,
            // not down_proj.T).
            if (convention != Convention::Flax
                && std::any_of(analysis.transforms.begin(), analysis.transforms.end(),
                               [](const Transform &transform) { return transform.op == TransformOp::Transpose; }))
                return {};
            modulePairs.emplace_back(t, s);
        }
        if (!uncertain[m])
            pairs.insert(pairs.end(), modulePairs.begin(), modulePairs.end());
    }
    return pairs;
}

} // namespace graft
