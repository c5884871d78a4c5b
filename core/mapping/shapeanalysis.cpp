#include "mapping/shapeanalysis.h"

#include "mapping/keynames.h"

#include <algorithm>
#include <numeric>

namespace graft {

QString conventionName(Convention convention)
{
    switch (convention) {
    case Convention::Torch: return QStringLiteral("torch");
    case Convention::Equinox: return QStringLiteral("equinox");
    case Convention::Flax: return QStringLiteral("flax");
    }
    return QString();
}

QString matchStatusName(MatchStatus status)
{
    switch (status) {
    case MatchStatus::Exact: return QStringLiteral("exact");
    case MatchStatus::Fixable: return QStringLiteral("fixable");
    case MatchStatus::Incompatible: return QStringLiteral("incompatible");
    case MatchStatus::Unmapped: return QStringLiteral("unmapped");
    case MatchStatus::Kept: return QStringLiteral("kept");
    case MatchStatus::Guessed: return QStringLiteral("guessed");
    }
    return QString();
}

namespace {

qint64 numelOf(const Shape &shape)
{
    return std::accumulate(shape.begin(), shape.end(), qint64(1), std::multiplies<>());
}

Shape withoutOnes(const Shape &shape)
{
    Shape squeezed;
    std::copy_if(shape.begin(), shape.end(), std::back_inserter(squeezed), [](qint64 d) { return d != 1; });
    return squeezed;
}

// True when `from` and `to` differ only by axes of size 1 before the first or after the last
// other axis ([C] <-> [C, 1, 1], [1, 1, D] <-> [D], [O, I] <-> [O, I, 1, 1]), or hold at most one
// other axis. An axis of size 1 between two others has a place that means something: a (7, 1)
// convolution kernel is not a (1, 7) one (torchvision Inception v3 has both, same element count).
bool unitAxesDifferOnlyAtTheEnds(const Shape &from, const Shape &to)
{
    // The axes of size 1 between each pair of consecutive other axes.
    const auto interiorGaps = [](const Shape &shape) {
        std::vector<int> gaps;
        int ones = -1; // no other axis seen yet
        for (const qint64 d : shape) {
            if (d == 1) {
                if (ones >= 0)
                    ++ones;
            } else {
                if (ones >= 0)
                    gaps.push_back(ones);
                ones = 0;
            }
        }
        return gaps;
    };
    return withoutOnes(from).size() <= 1 || interiorGaps(from) == interiorGaps(to);
}

Shape permuted(const Shape &shape, const std::vector<int> &perm)
{
    Shape out(shape.size());
    for (size_t i = 0; i < perm.size(); ++i)
        out[i] = shape[static_cast<size_t>(perm[i])];
    return out;
}

// Every permutation of the source axes that yields the target shape (rank <= 6 to stay cheap).
std::vector<std::vector<int>> fittingPermutations(const Shape &source, const Shape &target)
{
    std::vector<std::vector<int>> fits;
    if (source.size() != target.size() || source.size() > 6)
        return fits;
    std::vector<int> perm(source.size());
    std::iota(perm.begin(), perm.end(), 0);
    do {
        if (permuted(source, perm) == target)
            fits.push_back(perm);
    } while (std::next_permutation(perm.begin(), perm.end()));
    return fits;
}

bool isIdentity(const std::vector<int> &perm)
{
    for (size_t i = 0; i < perm.size(); ++i) {
        if (perm[i] != static_cast<int>(i))
            return false;
    }
    return true;
}

// The permutation a convention prescribes for this target, if any.
std::optional<std::vector<int>> conventionPermutation(Convention convention, size_t rank, const QString &targetKey)
{
    if (convention != Convention::Flax)
        return std::nullopt;
    const QString last = keyTokens(targetKey).value(keyTokens(targetKey).size() - 1);
    if (last != QLatin1String("kernel"))
        return std::nullopt;
    if (rank == 2)
        return std::vector<int>{1, 0};           // Dense: torch (out, in) -> (in, out)
    if (rank == 3)
        return std::vector<int>{2, 1, 0};        // Conv1d: OIW -> WIO
    if (rank == 4)
        return std::vector<int>{2, 3, 1, 0};     // Conv2d: OIHW -> HWIO
    if (rank == 5)
        return std::vector<int>{2, 3, 4, 1, 0};  // Conv3d
    return std::nullopt;
}

// True when `to` only splits or merges neighbouring axes of `from` (C order): [32] -> [4, 8],
// [32, 32] -> [32, 4, 8]. Such a reshape keeps every value where a Flax DenseGeneral expects it.
bool splitsAxes(const Shape &from, const Shape &to)
{
    if (numelOf(from) != numelOf(to) || from.empty() || to.empty())
        return false;
    size_t i = 0;
    size_t j = 0;
    while (i < from.size() && j < to.size()) {
        qint64 a = from[i++];
        qint64 b = to[j++];
        while (a != b) {
            if (a < b) {
                if (i >= from.size())
                    return false;
                a *= from[i++];
            } else {
                if (j >= to.size())
                    return false;
                b *= to[j++];
            }
        }
    }
    return i == from.size() && j == to.size();
}

QString permutationText(const std::vector<int> &perm)
{
    TransformChain chain{Transform::transpose(perm)};
    return transformExpression(chain, {QStringLiteral("w")});
}

} // namespace

PairAnalysis analysePair(const TensorSpec &source, const TensorSpec &target, Convention convention, const QString &targetKey)
{
    PairAnalysis analysis;
    TransformChain chain;
    QStringList why;

    const std::optional<std::vector<int>> prescribed = conventionPermutation(convention, source.shape.size(), targetKey);
    if (prescribed && permuted(source.shape, *prescribed) == target.shape) {
        chain.push_back(Transform::transpose(*prescribed));
        why << QStringLiteral("%1 convention: %2").arg(conventionName(convention), permutationText(*prescribed));
    } else if (source.shape == target.shape) {
        // nothing to do for the shape
    } else if (numelOf(source.shape) == numelOf(target.shape) && withoutOnes(source.shape) == withoutOnes(target.shape)) {
        if (!unitAxesDifferOnlyAtTheEnds(source.shape, target.shape)) {
            // Neither a reshape nor a transpose is a fix: both would turn the kernel on its side.
            analysis.status = MatchStatus::Incompatible;
            analysis.reason = QStringLiteral("axes of size 1 sit elsewhere between the other axes: %1 vs %2 (a (7, 1) kernel is not a "
                                             "(1, 7) one)")
                                  .arg(shapeToString(source.shape), shapeToString(target.shape));
            return analysis;
        }
        chain.push_back(Transform::reshape(target.shape));
        why << QStringLiteral("size-1 axes differ: %1 -> %2").arg(shapeToString(source.shape), shapeToString(target.shape));
    } else if (const auto fits = fittingPermutations(source.shape, target.shape); !fits.empty()) {
        std::vector<int> chosen = fits.front();
        std::vector<int> swapFirstTwo(source.shape.size());
        std::iota(swapFirstTwo.begin(), swapFirstTwo.end(), 0);
        std::swap(swapFirstTwo[0], swapFirstTwo[1]);
        const bool equinoxTransposedConv = convention == Convention::Equinox && source.shape.size() >= 3
                                           && std::find(fits.begin(), fits.end(), swapFirstTwo) != fits.end();
        if (equinoxTransposedConv) {
            // torch ConvTranspose (in, out, k...) -> Equinox (out, in, k...) with the kernel flipped.
            std::vector<int> spatial;
            for (int axis = 2; axis < static_cast<int>(source.shape.size()); ++axis)
                spatial.push_back(axis);
            chain.push_back(Transform::transpose(swapFirstTwo));
            chain.push_back(Transform::flip(spatial));
            why << QStringLiteral("first two axes swapped: a transposed convolution (Equinox flips the kernel)");
        } else {
            if (fits.size() > 1) {
                // Prefer the permutation that moves the fewest axes.
                chosen = *std::min_element(fits.begin(), fits.end(), [](const auto &a, const auto &b) {
                    auto moved = [](const std::vector<int> &p) {
                        int n = 0;
                        for (size_t i = 0; i < p.size(); ++i)
                            n += p[i] != static_cast<int>(i);
                        return n;
                    };
                    return moved(a) < moved(b);
                });
                why << QStringLiteral("%1 permutations fit; chose %2 (fewest axes moved)").arg(fits.size()).arg(permutationText(chosen));
            } else {
                why << QStringLiteral("axes permuted: %1").arg(permutationText(chosen));
            }
            if (!isIdentity(chosen))
                chain.push_back(Transform::transpose(chosen));
        }
    } else if (const std::optional<std::vector<int>> kernel = conventionPermutation(convention, source.shape.size(), targetKey);
               kernel && splitsAxes(permuted(source.shape, *kernel), target.shape)) {
        // A Flax DenseGeneral kernel: (in, out) with the heads axis split out.
        chain.push_back(Transform::transpose(*kernel));
        chain.push_back(Transform::reshape(target.shape));
        why << QStringLiteral("%1 convention: %2, then axes split: %3").arg(conventionName(convention), permutationText(*kernel),
                                                                          shapeToString(target.shape));
    } else if (!kernel && source.shape.size() < target.shape.size() && source.shape.size() == 1 && splitsAxes(source.shape, target.shape)) {
        // A DenseGeneral bias: (out,) -> (heads, head_dim).
        chain.push_back(Transform::reshape(target.shape));
        why << QStringLiteral("axis split: %1 -> %2").arg(shapeToString(source.shape), shapeToString(target.shape));
    } else {
        // A fused tensor: one axis is k times the target's, the rest equal -> a slice.
        if (source.shape.size() == target.shape.size()) {
            int differing = -1;
            int count = 0;
            for (size_t i = 0; i < source.shape.size(); ++i) {
                if (source.shape[i] != target.shape[i]) {
                    differing = static_cast<int>(i);
                    ++count;
                }
            }
            if (count == 1 && target.shape[differing] > 0 && source.shape[differing] % target.shape[differing] == 0) {
                analysis.status = MatchStatus::Incompatible;
                analysis.reason = QStringLiteral("source axis %1 is %2 x the target's: a fused tensor; map one slice explicitly")
                                      .arg(differing).arg(source.shape[differing] / target.shape[differing]);
                return analysis;
            }
        }
        analysis.status = MatchStatus::Incompatible;
        analysis.reason = numelOf(source.shape) == numelOf(target.shape)
                              ? QStringLiteral("shapes %1 and %2 hold the same number of elements but no reshape or transpose maps them")
                                    .arg(shapeToString(source.shape), shapeToString(target.shape))
                              : QStringLiteral("shape %1 cannot become %2 (%3 vs %4 elements)")
                                    .arg(shapeToString(source.shape), shapeToString(target.shape))
                                    .arg(numelOf(source.shape)).arg(numelOf(target.shape));
        return analysis;
    }

    if (source.dtype != target.dtype) {
        chain.push_back(Transform::cast(target.dtype));
        why << QStringLiteral("dtype %1 -> %2").arg(dtypeName(source.dtype), dtypeName(target.dtype));
    }
    analysis.transforms = chain;
    analysis.status = chain.empty() ? MatchStatus::Exact : MatchStatus::Fixable;
    analysis.reason = chain.empty() ? QStringLiteral("same shape and dtype") : why.join(QStringLiteral("; "));
    return analysis;
}

PairAnalysis analyseChain(const std::vector<TensorSpec> &sources, const TransformChain &chain, const TensorSpec &target)
{
    PairAnalysis analysis;
    analysis.transforms = chain;
    Result<TensorSpec> produced = inferTransforms(sources, chain);
    if (!produced) {
        analysis.status = MatchStatus::Incompatible;
        analysis.reason = produced.error().message;
        return analysis;
    }
    if (!(*produced == target)) {
        analysis.status = MatchStatus::Incompatible;
        analysis.reason = QStringLiteral("the transforms give %1 %2, the target is %3 %4")
                              .arg(dtypeName(produced->dtype), shapeToString(produced->shape), dtypeName(target.dtype),
                                   shapeToString(target.shape));
        return analysis;
    }
    // One name per source, as Mapping::expression() shows them ("w" or "w0, w1, ...").
    QStringList names;
    for (size_t i = 0; i < sources.size(); ++i)
        names << (sources.size() == 1 ? QStringLiteral("w") : QStringLiteral("w%1").arg(i));
    analysis.status = chain.empty() ? MatchStatus::Exact : MatchStatus::Fixable;
    analysis.reason = chain.empty() ? QStringLiteral("same shape and dtype")
                                    : QStringLiteral("explicit: %1").arg(transformExpression(chain, names));
    return analysis;
}

} // namespace graft
