#include "mapping/orderalignment.h"

#include <algorithm>

namespace graft {
namespace {

AlignmentResult greedy(int targets, int sources, const std::function<int(int, int)> &score)
{
    AlignmentResult result;
    result.approximate = true;
    result.ambiguous.resize(static_cast<size_t>(targets));
    int next = 0;
    for (int t = 0; t < targets && next < sources; ++t) {
        // Look a short way ahead for the first compatible source.
        for (int s = next; s < std::min(sources, next + 64); ++s) {
            if (score(t, s) > 0) {
                result.pairs.push_back({t, s});
                next = s + 1;
                break;
            }
        }
    }
    return result;
}

} // namespace

AlignmentResult alignByOrder(int targets, int sources, const std::function<int(int, int)> &score, long long cellLimit)
{
    if (targets == 0 || sources == 0)
        return {{}, std::vector<std::vector<int>>(static_cast<size_t>(targets)), false};
    if (static_cast<long long>(targets + 1) * (sources + 1) > cellLimit)
        return greedy(targets, sources, score);

    const int width = sources + 1;
    std::vector<int> cell(static_cast<size_t>(targets) * static_cast<size_t>(sources));
    for (int t = 0; t < targets; ++t) {
        for (int s = 0; s < sources; ++s)
            cell[static_cast<size_t>(t) * sources + s] = score(t, s);
    }
    auto at = [&](int t, int s) { return cell[static_cast<size_t>(t) * sources + s]; };

    // forward[t][s]: best score aligning targets[0, t) with sources[0, s).
    std::vector<int> forward(static_cast<size_t>(targets + 1) * width, 0);
    for (int t = 1; t <= targets; ++t) {
        for (int s = 1; s <= sources; ++s) {
            int best = std::max(forward[(t - 1) * width + s], forward[t * width + s - 1]);
            if (at(t - 1, s - 1) > 0)
                best = std::max(best, forward[(t - 1) * width + s - 1] + at(t - 1, s - 1));
            forward[t * width + s] = best;
        }
    }
    // backward[t][s]: best score aligning targets[t, n) with sources[s, m).
    std::vector<int> backward(static_cast<size_t>(targets + 1) * width, 0);
    for (int t = targets - 1; t >= 0; --t) {
        for (int s = sources - 1; s >= 0; --s) {
            int best = std::max(backward[(t + 1) * width + s], backward[t * width + s + 1]);
            if (at(t, s) > 0)
                best = std::max(best, backward[(t + 1) * width + s + 1] + at(t, s));
            backward[t * width + s] = best;
        }
    }
    const int optimum = forward[targets * width + sources];

    AlignmentResult result;
    result.ambiguous.resize(static_cast<size_t>(targets));
    int lastSource = -1;
    for (int t = 0; t < targets; ++t) {
        std::vector<int> usable;
        for (int s = 0; s < sources; ++s) {
            if (at(t, s) > 0 && forward[t * width + s] + at(t, s) + backward[(t + 1) * width + s + 1] == optimum)
                usable.push_back(s);
        }
        // Can an optimal alignment leave t unpaired? Then another target fits its source just as
        // well (two same-shape targets, one source): not decided either, so reported.
        int unpaired = 0;
        for (int s = 0; s <= sources; ++s)
            unpaired = std::max(unpaired, forward[t * width + s] + backward[(t + 1) * width + s]);
        const bool optional = unpaired == optimum;
        if (usable.size() == 1 && !optional && usable.front() > lastSource) {
            result.pairs.push_back({t, usable.front()});
            lastSource = usable.front();
        } else if (usable.size() > 1 || (usable.size() == 1 && optional)) {
            result.ambiguous[static_cast<size_t>(t)] = usable;
        }
    }
    return result;
}

} // namespace graft
