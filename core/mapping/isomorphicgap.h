#pragma once
// Between two name-matched anchors, a run of leaves whose names say nothing may still be
// decided by structure: when both sides hold the same modules in the same order — each pair with
// the same parameters (weight, bias, running_mean…) of compatible shapes, no contradicting role
// names, and no two neighbouring modules alike (a swap could not be seen) — the modules are the
// same layers. Anything less is left to order and shape, which only guesses.

#include "mapping/mapping.h"

#include <functional>
#include <vector>

namespace graft {

/// (target, source) pairs when the gap is isomorphic at the module level (neighbours alike
/// left out), else empty.
/// `targetRoles` / `sourceRoles` give roleTokens() of a leaf by index. With `distinctModules`
/// (a parent's children compared on their own), any two modules alike stay open, neighbours or not.
std::vector<std::pair<int, int>> isomorphicPairs(const std::vector<int> &gapTargets, const std::vector<int> &gapSources,
                                                 const std::vector<KeySpec> &targets, const std::vector<KeySpec> &sources,
                                                 const std::function<const QStringList &(size_t)> &targetRoles,
                                                 const std::function<const QStringList &(size_t)> &sourceRoles, Convention convention,
                                                 const std::function<bool(const QStringList &, const QStringList &)> &namesContradict,
                                                 bool distinctModules = false);

} // namespace graft
