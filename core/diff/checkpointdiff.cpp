#include "diff/checkpointdiff.h"

#include "mapping/conversionplan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <new>

namespace graft {
namespace {

/// One pair of tensors to compare: A's bytes (read, or produced through the mapping) and B's.
struct Job {
    DiffRow row;
    std::function<Result<TensorBytes>()> readA;
    int indexB = -1;
    qint64 numel = 0;
};

void alignExactly(const Checkpoint &a, const Checkpoint &b, CheckpointDiff &diff, std::vector<Job> &jobs)
{
    for (int i = 0; i < static_cast<int>(a.tensors().size()); ++i) {
        const TensorEntry &left = a.tensors()[static_cast<size_t>(i)];
        const int j = b.indexOf(left.key);
        if (j < 0) {
            diff.onlyInA << left.key;
            continue;
        }
        const TensorEntry &right = b.tensors()[static_cast<size_t>(j)];
        if (left.dtype != right.dtype)
            diff.dtypeChanged.push_back({left.key, left.dtype, right.dtype});
        if (left.shape != right.shape) {
            diff.shapeChanged.push_back({left.key, left.shape, right.shape});
            continue;
        }
        if (isComplex(left.dtype) != isComplex(right.dtype))
            continue; // complex and real values do not line up; the dtype change says enough
        Job job;
        job.row.key = left.key;
        job.row.shape = right.shape;
        job.row.dtype = right.dtype;
        job.row.aDtype = left.dtype;
        job.readA = [a, i]() { return a.read(i, Checkpoint::RecordCheck::ByReader); };
        job.indexB = j;
        job.numel = right.numel();
        jobs.push_back(std::move(job));
    }
    for (const TensorEntry &right : b.tensors()) {
        if (a.indexOf(right.key) < 0)
            diff.onlyInB << right.key;
    }
}

Status alignThroughMapping(const Checkpoint &a, const Checkpoint &b, const MappingResult &mapping, CheckpointDiff &diff,
                           std::vector<Job> &jobs)
{
    // keepUnmapped: every leaf gets a plan entry; the ones filled from A are the mapped ones.
    // Guessed pairs are compared too: a diff writes nothing, and equal values confirm the guess.
    Result<ConversionPlan> plan = planConversion(a, b, mapping, true, true);
    if (!plan)
        return plan.error();
    diff.onlyInA = mapping.unusedSources;
    for (int j = 0; j < static_cast<int>(b.tensors().size()); ++j) {
        const TensorEntry &leaf = b.tensors()[static_cast<size_t>(j)];
        const int m = mapping.indexOfTarget(leaf.key);
        const Mapping *entry = m >= 0 ? &mapping.mappings[static_cast<size_t>(m)] : nullptr;
        const MatchStatus status = entry != nullptr ? entry->status : MatchStatus::Unmapped;
        if (status == MatchStatus::Exact || status == MatchStatus::Fixable || status == MatchStatus::Guessed) {
            Job job;
            job.row.key = leaf.key;
            job.row.source = transformExpression(entry->transforms, entry->sources);
            job.row.shape = leaf.shape;
            job.row.dtype = job.row.aDtype = leaf.dtype;
            job.readA = plan->leaves[static_cast<size_t>(j)].produce;
            job.indexB = j;
            job.numel = leaf.numel();
            jobs.push_back(std::move(job));
        } else if (status == MatchStatus::Incompatible && !entry->sources.isEmpty() && a.indexOf(entry->sources.first()) >= 0) {
            const TensorEntry &source = a.tensors()[static_cast<size_t>(a.indexOf(entry->sources.first()))];
            if (source.shape == leaf.shape && source.dtype != leaf.dtype)
                diff.dtypeChanged.push_back({leaf.key, source.dtype, leaf.dtype});
            else
                diff.shapeChanged.push_back({leaf.key, source.shape, leaf.shape});
        } else if (status == MatchStatus::Kept || leaf.kind == LeafKind::Scalar || leaf.shape.empty()) {
            diff.kept << leaf.key;
        } else {
            diff.onlyInB << leaf.key;
        }
    }
    return Status::success();
}

// NaN ranks above +inf: an undefined difference is the first thing to look at.
bool moreDifferent(const DiffRow &x, const DiffRow &y)
{
    const double u = x.pair.relL2, v = y.pair.relL2;
    if (std::isnan(u) || std::isnan(v))
        return std::isnan(u) && !std::isnan(v);
    return u > v;
}

} // namespace

int CheckpointDiff::differingRows() const
{
    return static_cast<int>(std::count_if(compared.begin(), compared.end(), [](const DiffRow &row) { return !row.equal; }));
}

bool CheckpointDiff::equal() const
{
    return onlyInA.isEmpty() && onlyInB.isEmpty() && shapeChanged.empty() && dtypeChanged.empty() && differingRows() == 0;
}

static Result<CheckpointDiff> diffCheckpointsUnguarded(const Checkpoint &a, const Checkpoint &b, const DiffOptions &options)
{
    CheckpointDiff diff;
    diff.fileA = a.path();
    diff.fileB = b.path();
    diff.throughMapping = options.mapping.has_value();
    std::vector<Job> jobs;
    if (options.mapping) {
        if (Status aligned = alignThroughMapping(a, b, *options.mapping, diff, jobs); !aligned)
            return aligned.error();
    } else {
        alignExactly(a, b, diff, jobs);
    }

    qint64 total = 0;
    for (const Job &job : jobs)
        total += valueCount(job.row.aDtype, job.numel);
    qint64 done = 0;
    for (Job &job : jobs) {
        Result<TensorBytes> left = job.readA();
        if (!left)
            return left.error();
        Result<TensorBytes> right = b.read(job.indexB, Checkpoint::RecordCheck::ByReader);
        if (!right)
            return right.error();
        if (left->size() != job.numel * dtypeSize(job.row.aDtype))
            return Error{a.path(), QStringLiteral("'%1' produced %2 bytes, expected %3")
                                       .arg(job.row.source.isEmpty() ? job.row.key : job.row.source)
                                       .arg(left->size())
                                       .arg(job.numel * dtypeSize(job.row.aDtype))};

        StatisticsOptions statisticsOptions;
        statisticsOptions.bins = options.bins;
        const qint64 before = done;
        bool stopped = false;
        if (options.progress) {
            // compareTensors counts a second histogram pass too: scale its figures to this row.
            const qint64 rowValues = valueCount(job.row.aDtype, job.numel);
            statisticsOptions.progress = [&options, &stopped, before, rowValues, total](qint64 rowDone, qint64 rowTotal) {
                const qint64 share = rowTotal > 0 ? static_cast<qint64>(static_cast<double>(rowDone) / static_cast<double>(rowTotal)
                                                                        * static_cast<double>(rowValues))
                                                  : rowValues;
                stopped = !options.progress(before + share, total);
                return !stopped;
            };
        }
        // A record read with RecordCheck::ByReader gets its CRC-32 computed in the statistics'
        // pass instead of by a read of its own (segmentToCheck() says which are left to us).
        const TensorData dataA{left->data(), job.row.aDtype, job.numel, left->mappedFile(), left->segmentToCheck() >= 0};
        const TensorData dataB{right->data(), job.row.dtype, job.numel, right->mappedFile(), right->segmentToCheck() >= 0};
        Result<Comparison> comparison =
            compareTensors(dataA, dataB, options.tolerance, options.tensorStatistics, statisticsOptions);
        if (!comparison) {
            if (stopped)
                return Error{QString(), QStringLiteral("the diff was cancelled")};
            return Error{b.path(), QStringLiteral("comparing '%1': %2").arg(job.row.key, comparison.error().message)};
        }
        // The records' CRC-32 checks, folded into the pass above: figures of a corrupt record are
        // not shown.
        if (comparison->crcA) {
            if (Status checked = a.completeCheck(*left, *comparison->crcA); !checked)
                return Error{a.path(), QStringLiteral("tensor '%1': %2").arg(job.row.key, checked.error().message)};
        }
        if (comparison->crcB) {
            if (Status checked = b.completeCheck(*right, *comparison->crcB); !checked)
                return Error{b.path(), QStringLiteral("tensor '%1': %2").arg(job.row.key, checked.error().message)};
        }
        done += valueCount(job.row.aDtype, job.numel);
        job.row.pair = comparison->pair;
        job.row.equal = comparison->equal;
        job.row.a = comparison->a;
        job.row.b = comparison->b;
        diff.compared.push_back(std::move(job.row));
    }
    std::stable_sort(diff.compared.begin(), diff.compared.end(), moreDifferent);
    return diff;
}

Result<CheckpointDiff> diffCheckpoints(const Checkpoint &a, const Checkpoint &b, const DiffOptions &options)
{
    try {
        return diffCheckpointsUnguarded(a, b, options);
    } catch (const std::bad_alloc &) {
        return Error{a.path(), QStringLiteral("not enough memory to compare it with %1").arg(b.path())};
    }
}

} // namespace graft
