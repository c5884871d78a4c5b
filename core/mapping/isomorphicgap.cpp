#include "mapping/isomorphicgap.h"

#include "mapping/namingtable.h"

#include <QHash>

#include <algorithm>

namespace graft {
namespace {

struct Module {
    QStringList roles;                       ///< role tokens of the module path
    std::vector<std::pair<QString, int>> parameters; ///< (parameter name, leaf index), sorted by name
};

// Modules in order of first appearance (an Equinox (model, state) lists a BatchNorm's weight in
// the model part and its statistics in the state part: one module all the same).
std::vector<Module> modulesOf(const std::vector<int> &leaves, const std::function<const QStringList &(size_t)> &roles)
{
    std::vector<Module> modules;
    QHash<QString, size_t> byPath;
    for (int leaf : leaves) {
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
    }
    for (Module &module : modules)
        std::sort(module.parameters.begin(), module.parameters.end());
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
    if (a.isEmpty() || b.isEmpty())
        return false;
    const QString &x = a.last();
    const QString &y = b.last();
    return x != y && isKnownRole(x) && isKnownRole(y) && !isIndexToken(x) && !isIndexToken(y);
}

} // namespace

std::vector<std::pair<int, int>> isomorphicPairs(const std::vector<int> &gapTargets, const std::vector<int> &gapSources,
                                                 const std::vector<KeySpec> &targets, const std::vector<KeySpec> &sources,
                                                 const std::function<const QStringList &(size_t)> &targetRoles,
                                                 const std::function<const QStringList &(size_t)> &sourceRoles, Convention convention,
                                                 const std::function<bool(const QStringList &, const QStringList &)> &namesContradict)
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
    std::vector<bool> uncertain(targetModules.size(), false);
    for (size_t m = 1; m < targetModules.size(); ++m) {
        if (alike(targetModules[m - 1], targetModules[m], targets) || alike(sourceModules[m - 1], sourceModules[m], sources))
            uncertain[m - 1] = uncertain[m] = true;
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
            modulePairs.emplace_back(t, s);
        }
        if (!uncertain[m])
            pairs.insert(pairs.end(), modulePairs.begin(), modulePairs.end());
    }
    return pairs;
}

} // namespace graft
