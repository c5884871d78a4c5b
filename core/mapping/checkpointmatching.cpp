// The checkpoint-level entry points of automatic matching: the key lists of two checkpoints, the
// target's convention, tensors saved under several names, and matchCheckpoints() around
// autoMatch() (automatcher.cpp holds the matcher's passes).
#include "mapping/automatcher.h"

#include "base/parallelfor.h"
#include "checkpoint/checkpoint.h"
#include "mapping/keynames.h"

#include <QSet>

#include <algorithm>
#include <atomic>
#include <tuple>

namespace graft {

std::vector<KeySpec> keySpecs(const Checkpoint &checkpoint)
{
    const std::vector<TensorEntry> &tensors = checkpoint.tensors();
    std::vector<KeySpec> specs(tensors.size());
    parallelFor(tensors.size(), [&](size_t i) { specs[i] = {tensors[i].key, {tensors[i].dtype, tensors[i].shape}, tensors[i].kind}; });
    return specs;
}

Convention detectConvention(const Checkpoint &target)
{
    if (target.format() == CheckpointFormat::GraftSkeleton || target.format() == CheckpointFormat::Eqx)
        return Convention::Equinox;
    if (target.format() == CheckpointFormat::FlaxMsgpack)
        return Convention::Flax;
    // Each key on its own, on the cores (a read of every key: 100k of a torch target).
    const std::vector<TensorEntry> &tensors = target.tensors();
    std::atomic<bool> flax = false;
    parallelFor(tensors.size(), [&](size_t i) {
        const QString &key = tensors[i].key;
        if (flax.load(std::memory_order_relaxed))
            return;
        if (key.startsWith(QLatin1String("params/"))) {
            flax = true;
            return;
        }
        // A token is a (lower-cased) substring: keys without either word (nearly all of a torch target's
        // 100k) are not split into tokens at all.
        if (!mayContainCaseless(key, QLatin1String("kernel")) && !mayContainCaseless(key, QLatin1String("batch_stats")))
            return;
        const QStringList tokens = keyTokens(key);
        if (tokens.contains(QStringLiteral("kernel")) || tokens.contains(QStringLiteral("batch_stats")))
            flax = true;
    });
    return flax ? Convention::Flax : Convention::Torch;
}

std::vector<QStringList> tiedTensors(const Checkpoint &checkpoint)
{
    // Same bytes, same view: one tensor saved under several names (torch keeps tied weights so).
    // Sorted by view instead of hashed by a formatted string: at 100k tensors the formatting
    // alone took a third of a second.
    const std::vector<TensorEntry> &tensors = checkpoint.tensors();
    std::vector<int> order;
    order.reserve(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (tensors[i].kind == LeafKind::Array && tensors[i].numel() != 0)
            order.push_back(static_cast<int>(i));
    }
    const auto view = [&](int i) {
        const TensorEntry &t = tensors[static_cast<size_t>(i)];
        return std::tie(t.segment, t.byteOffset, t.dtype, t.shape, t.strides);
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return view(a) < view(b); });
    // Each group of two or more, in the order of its second name (as they are found in file order).
    std::vector<std::pair<int, QStringList>> groups;
    for (size_t begin = 0; begin < order.size();) {
        size_t end = begin + 1;
        while (end < order.size() && view(order[end]) == view(order[begin]))
            ++end;
        if (end - begin > 1) {
            QStringList keys;
            for (size_t k = begin; k < end; ++k)
                keys << tensors[static_cast<size_t>(order[k])].key;
            groups.emplace_back(order[begin + 1], keys);
        }
        begin = end;
    }
    std::sort(groups.begin(), groups.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    std::vector<QStringList> ties;
    ties.reserve(groups.size());
    for (auto &group : groups)
        ties.push_back(std::move(group.second));
    return ties;
}

MappingResult matchCheckpoints(const Checkpoint &source, const Checkpoint &target, const MatchOptions &options)
{
    const Convention convention = options.convention.value_or(detectConvention(target));
    // A checkpoint matched onto itself (a re-save, a format change): one list of its keys.
    const bool ontoItself = source.sharesIndexWith(target);
    const std::vector<KeySpec> sources = keySpecs(source);
    const std::vector<KeySpec> targets = ontoItself ? std::vector<KeySpec>() : keySpecs(target);
    MappingResult result = autoMatch(sources, ontoItself ? sources : targets, options, convention);
    if (result.cancelled)
        return result;
    result.tiedSources = tiedTensors(source);
    // A tied name whose twin feeds a target is not unused: it is the same tensor.
    if (result.tiedSources.empty())
        return result;
    QSet<QString> used;
    for (const Mapping &mapping : result.mappings) {
        for (const QString &key : mapping.sources)
            used.insert(key);
    }
    for (const QStringList &tie : result.tiedSources) {
        const bool fed = std::any_of(tie.begin(), tie.end(), [&](const QString &key) { return used.contains(key); });
        if (fed) {
            for (const QString &key : tie)
                result.unusedSources.removeAll(key);
        }
    }
    return result;
}

} // namespace graft
