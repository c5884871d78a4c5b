#include "tensor/tensorstats.h"

#include "tensor/tensorvalues.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

// Plain loops, not xtensor, for the reductions over each decoded chunk. Measured here (2-core
// AMD EPYC, -O2, 100M-element float32 tensor decoded to double in chunks, best of 3):
//   one tensor's statistics: fused loop 0.28-0.40 s; xtensor (xt::adapt zero-copy + one
//     reduction per figure, xt::filter for the finite values) 0.64-1.04 s, 0.66-0.71 s tuned
//     (xt::minmax, mean from the sum);
//   pair statistics: fused loop 0.23 s; xtensor 1.30-2.14 s;
//   decoding alone: 0.05-0.08 s.
// xtensor makes one pass over the chunk per figure (about ten) where the loop makes one or
// two, and xt::where/xt::filter temporaries cost more; the chunk size (64K values = 512 KB)
// hardly changes either side. So every figure here comes from one fused pass per chunk.

namespace graft {
namespace {

constexpr qint64 kChunkValues = qint64(1) << 16; // per thread task and progress report
constexpr qint64 kBlockValues = qint64(1) << 12;  // decoded at a time: 32 KB of doubles
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// std::isfinite as a comparison (false for NaN and ±inf), which vectorises; GCC turns
// std::isfinite into branches that stop the loops below from vectorising.
inline bool isFiniteValue(double v) { return std::fabs(v) <= std::numeric_limits<double>::max(); }

// Complex tensors are read as their float components.
DType valueType(DType dtype)
{
    if (dtype == DType::Complex64)
        return DType::Float32;
    if (dtype == DType::Complex128)
        return DType::Float64;
    return dtype;
}

/// A tensor's raw bytes, a range at a time. From a mapped file they are copied with pread
/// into a buffer this reader reuses, not read through the map: on this VM, streaming 1.15 GB
/// through the map cost about 3x a copy (a TLB miss per 4 KB page, each a two-level walk under
/// virtualisation, plus a fault per 64 KB) and left all of it in the process's RSS; the
/// kernel's copy uses its own huge-page mapping, like `cat`. If pread fails the map is used.
class ByteSource {
public:
    const uchar *bytes(const TensorData &tensor, qint64 offset, qint64 length)
    {
        const uchar *mapped = tensor.data + offset;
        if (tensor.file == nullptr)
            return mapped;
        if (m_capacity < length) {
            m_buffer = std::make_unique_for_overwrite<uchar[]>(static_cast<size_t>(length));
            m_capacity = length;
        }
        return tensor.file->readAt(mapped - tensor.file->data(), m_buffer.get(), length) ? m_buffer.get() : mapped;
    }

private:
    std::unique_ptr<uchar[]> m_buffer; // not zeroed: pread fills what is used
    qint64 m_capacity = 0;
};

/// One chunk of a tensor's values: fetch() gets its bytes, decode() turns a block of them into
/// doubles. Blocks are small (kBlockValues) so the decoded values stay in the core's cache
/// through the several passes the figures make over them.
class ChunkDecoder {
public:
    void fetch(const TensorData &tensor, qint64 first, qint64 count)
    {
        m_type = valueType(tensor.dtype);
        m_raw = m_source.bytes(tensor, first * dtypeSize(m_type), count * dtypeSize(m_type));
    }
    void decode(qint64 offset, qint64 count, double *out) const { decodeToDouble(m_raw + offset * dtypeSize(m_type), m_type, count, out); }

private:
    ByteSource m_source;
    DType m_type = DType::Float32;
    const uchar *m_raw = nullptr;
};

// memcmp of two tensors' bytes, a few MB at a time.
bool sameBytes(const TensorData &a, const TensorData &b, qint64 bytes)
{
    constexpr qint64 kStep = qint64(1) << 22;
    ByteSource left, right;
    for (qint64 offset = 0; offset < bytes; offset += kStep) {
        const qint64 length = std::min(kStep, bytes - offset);
        if (std::memcmp(left.bytes(a, offset, length), right.bytes(b, offset, length), static_cast<size_t>(length)) != 0)
            return false;
    }
    return true;
}

// One chunk of decoded values, not zeroed (decoding fills what is used).
std::unique_ptr<double[]> scratchValues(qint64 count) { return std::make_unique_for_overwrite<double[]>(static_cast<size_t>(std::max<qint64>(1, std::min(count, kBlockValues)))); }

/// Calls `block(offset, m)` for consecutive blocks of at most kBlockValues of a chunk of n values.
template <typename Block>
void forEachBlock(qint64 n, Block block)
{
    for (qint64 offset = 0; offset < n; offset += kBlockValues)
        block(offset, std::min(kBlockValues, n - offset));
}

Error cancelled() { return Error{QString(), QStringLiteral("cancelled")}; }

/// numpy.histogram's binning: edges from linspace, index from the scaled offset, corrected
/// against the edges so a value on an edge lands where numpy puts it.
class HistogramBuilder {
public:
    HistogramBuilder(int bins, double lo, double hi) : m_counts(static_cast<size_t>(bins), 0), m_lo(lo), m_hi(hi)
    {
        const double step = (hi - lo) / bins;
        m_edges.resize(static_cast<size_t>(bins) + 1);
        for (int i = 0; i < bins; ++i)
            m_edges[static_cast<size_t>(i)] = i * step + lo;
        m_edges.back() = hi;
        m_norm = bins / (hi - lo);
    }

    void add(double v, qint64 weight = 1)
    {
        if (!(v >= m_lo && v <= m_hi)) // also drops NaN
            return;
        const qint64 bins = static_cast<qint64>(m_counts.size());
        qint64 index = static_cast<qint64>((v - m_lo) * m_norm);
        index = std::clamp<qint64>(index, 0, bins - 1);
        if (v < m_edges[static_cast<size_t>(index)])
            --index;
        else if (index != bins - 1 && v >= m_edges[static_cast<size_t>(index) + 1])
            ++index;
        m_counts[static_cast<size_t>(index)] += weight;
    }

    /// Adds the counts of a builder with the same bins.
    void merge(const HistogramBuilder &other)
    {
        for (size_t i = 0; i < m_counts.size(); ++i)
            m_counts[i] += other.m_counts[i];
    }

    Histogram result() const { return {m_lo, m_hi, m_counts}; }

private:
    std::vector<qint64> m_counts;
    std::vector<double> m_edges;
    double m_lo;
    double m_hi;
    double m_norm;
};

/// numpy's automatic range: min..max, widened by 0.5 each side when equal, (0, 1) when empty.
void autoRange(double min, double max, bool any, double *lo, double *hi)
{
    if (!any) {
        *lo = 0.0;
        *hi = 1.0;
    } else if (min == max) {
        *lo = min - 0.5;
        *hi = max + 0.5;
    } else {
        *lo = min;
        *hi = max;
    }
}

/// One tensor's figures, merged chunk by chunk (Chan et al.'s update for the variance).
class TensorAccumulator {
public:
    /// The figures of one chunk of values.
    static TensorAccumulator ofChunk(const double *x, qint64 n)
    {
        // Branch-free so that the loops vectorise (OpenMP simd reductions: the sums are split
        // across lanes, which changes their rounding by a few ulps, not their meaning).
        // Counts are doubles in the loop (exact below 2^53) so that every lane is a double.
        double finiteCount = 0.0, nanCount = 0.0, zeroCount = 0.0;
        double sum = 0.0, sumSquares = 0.0, min = kInfinity, max = -kInfinity;
#pragma omp simd reduction(+ : finiteCount, nanCount, zeroCount, sum, sumSquares) reduction(min : min) reduction(max : max)
        for (qint64 i = 0; i < n; ++i) {
            const double v = x[i];
            const bool isFinite = isFiniteValue(v);
            const double f = isFinite ? v : 0.0;
            finiteCount += isFinite ? 1.0 : 0.0;
            nanCount += v != v ? 1.0 : 0.0;
            zeroCount += v == 0.0 ? 1.0 : 0.0;
            sum += f;
            sumSquares += f * f;
            const double low = isFinite ? v : kInfinity;
            const double high = isFinite ? v : -kInfinity;
            min = low < min ? low : min;
            max = high > max ? high : max;
        }
        const qint64 finite = static_cast<qint64>(finiteCount), nan = static_cast<qint64>(nanCount), zeros = static_cast<qint64>(zeroCount);
        const qint64 inf = n - finite - nan;
        double m2 = 0.0;
        const double mean = finite > 0 ? sum / static_cast<double>(finite) : 0.0;
        if (finite > 0) {
#pragma omp simd reduction(+ : m2)
            for (qint64 i = 0; i < n; ++i) {
                const double deviation = x[i] - mean; // computed unconditionally: a select, not a branch
                const double d = isFiniteValue(x[i]) ? deviation : 0.0;
                m2 += d * d;
            }
        }
        TensorAccumulator chunk;
        chunk.m_count = n;
        chunk.m_nan = nan;
        chunk.m_inf = inf;
        chunk.m_zeros = zeros;
        chunk.m_sumSquares = sumSquares;
        chunk.m_min = min;
        chunk.m_max = max;
        chunk.m_finite = finite;
        chunk.m_mean = mean;
        chunk.m_m2 = m2;
        return chunk;
    }

    /// Adds the figures of the values that follow (Chan et al.'s update for the variance).
    void merge(const TensorAccumulator &next)
    {
        m_count += next.m_count;
        m_nan += next.m_nan;
        m_inf += next.m_inf;
        m_zeros += next.m_zeros;
        m_sumSquares += next.m_sumSquares;
        m_min = std::min(m_min, next.m_min);
        m_max = std::max(m_max, next.m_max);
        if (next.m_finite > 0) {
            const double total = static_cast<double>(m_finite + next.m_finite);
            const double delta = next.m_mean - m_mean;
            m_mean += delta * static_cast<double>(next.m_finite) / total;
            m_m2 += next.m_m2 + delta * delta * static_cast<double>(m_finite) * static_cast<double>(next.m_finite) / total;
            m_finite += next.m_finite;
        }
    }

    bool anyFinite() const { return m_finite > 0; }
    double min() const { return m_min; }
    double max() const { return m_max; }

    TensorStatistics result() const
    {
        TensorStatistics s;
        s.count = m_count;
        s.finite = m_finite;
        s.nan = m_nan;
        s.inf = m_inf;
        s.zeros = m_zeros;
        s.zeroFraction = m_count > 0 ? static_cast<double>(m_zeros) / static_cast<double>(m_count) : kNaN;
        s.l2 = std::sqrt(m_sumSquares);
        if (m_finite > 0) {
            s.mean = m_mean;
            s.std = std::sqrt(m_m2 / static_cast<double>(m_finite));
            s.min = m_min;
            s.max = m_max;
            s.maxAbs = std::max(std::fabs(m_min), std::fabs(m_max));
        } else {
            s.mean = s.std = s.min = s.max = s.maxAbs = kNaN;
        }
        return s;
    }

private:
    qint64 m_count = 0, m_finite = 0, m_nan = 0, m_inf = 0, m_zeros = 0;
    double m_mean = 0.0, m_m2 = 0.0, m_sumSquares = 0.0;
    double m_min = kInfinity, m_max = -kInfinity;
};

// d as the header defines it: 0 where equal (equal infinities agree), else a − b.
inline double difference(double a, double b) { return a == b ? 0.0 : a - b; }

class PairAccumulator {
public:
    PairAccumulator() = default;

    /// The figures of one chunk of value pairs.
    static PairAccumulator ofChunk(const double *a, const double *b, qint64 n, const Tolerance &tolerance)
    {
        double maxAbs = 0.0, finiteMaxAbs = 0.0, sumAbs = 0.0, sumSquares = 0.0, dot = 0.0, normA = 0.0, normB = 0.0;
        double differingCount = 0.0, nans = 0.0, far = 0.0; // doubles in the loop, as in TensorAccumulator
        const double atol = tolerance.atol, rtol = tolerance.rtol;
#pragma omp simd reduction(+ : sumAbs, sumSquares, dot, normA, normB, differingCount, nans, far) reduction(max : maxAbs, finiteMaxAbs)
        for (qint64 i = 0; i < n; ++i) {
            const double x = a[i], y = b[i];
            const bool same = x == y;
            const double difference = x - y; // computed unconditionally: a select, not a branch
            const double d = same ? 0.0 : difference;
            const double absolute = std::fabs(d);
            const bool isNan = d != d;
            nans += isNan ? 1.0 : 0.0;
            const double forMax = isNan ? 0.0 : absolute; // NaN is reported apart
            const double forFiniteMax = absolute < kInfinity ? absolute : 0.0;
            maxAbs = forMax > maxAbs ? forMax : maxAbs;
            finiteMaxAbs = forFiniteMax > finiteMaxAbs ? forFiniteMax : finiteMaxAbs;
            sumAbs += absolute;
            sumSquares += d * d;
            differingCount += same ? 0.0 : 1.0;
            dot += x * y;
            normA += x * x;
            normB += y * y;
            const bool close = same | (isFiniteValue(x) & isFiniteValue(y) & (absolute <= atol + rtol * std::fabs(y)));
            far += close ? 0.0 : 1.0;
        }
        const qint64 differing = static_cast<qint64>(differingCount);
        const bool nan = nans > 0.0, close = far == 0.0;
        PairAccumulator chunk;
        chunk.m_count = n;
        chunk.m_nan = nan;
        chunk.m_maxAbs = maxAbs;
        chunk.m_finiteMaxAbs = finiteMaxAbs;
        chunk.m_sumAbs = sumAbs;
        chunk.m_sumSquares = sumSquares;
        chunk.m_dot = dot;
        chunk.m_normA = normA;
        chunk.m_normB = normB;
        chunk.m_differing = differing;
        chunk.m_close = close;
        return chunk;
    }

    /// Adds the figures of the pairs that follow.
    void merge(const PairAccumulator &next)
    {
        m_count += next.m_count;
        m_nan |= next.m_nan;
        m_maxAbs = std::max(m_maxAbs, next.m_maxAbs);
        m_finiteMaxAbs = std::max(m_finiteMaxAbs, next.m_finiteMaxAbs);
        m_sumAbs += next.m_sumAbs;
        m_sumSquares += next.m_sumSquares;
        m_dot += next.m_dot;
        m_normA += next.m_normA;
        m_normB += next.m_normB;
        m_differing += next.m_differing;
        m_close = m_close && next.m_close;
    }

    double finiteMaxAbs() const { return m_finiteMaxAbs; }

    PairStatistics result() const
    {
        PairStatistics p;
        p.count = m_count;
        p.differing = m_differing;
        p.allclose = m_close;
        if (m_count == 0)
            return p;
        const double n = static_cast<double>(m_count);
        p.maxAbsDiff = m_nan ? kNaN : m_maxAbs;
        p.meanAbsDiff = m_sumAbs / n;
        p.rmsDiff = std::sqrt(m_sumSquares / n);
        const double normD = std::sqrt(m_sumSquares);
        const double normA = std::sqrt(m_normA);
        const double normB = std::sqrt(m_normB);
        if (std::isnan(normD))
            p.relL2 = kNaN;
        else if (normD == 0.0)
            p.relL2 = 0.0;
        else if (normA == 0.0)
            p.relL2 = kInfinity;
        else
            p.relL2 = normD / normA;
        if (normA == 0.0 && normB == 0.0)
            p.cosine = 1.0;
        else if (normA == 0.0 || normB == 0.0)
            p.cosine = 0.0;
        else
            p.cosine = m_dot / (normA * normB);
        return p;
    }

private:
    qint64 m_count = 0, m_differing = 0;
    double m_maxAbs = 0.0, m_finiteMaxAbs = 0.0, m_sumAbs = 0.0, m_sumSquares = 0.0;
    double m_dot = 0.0, m_normA = 0.0, m_normB = 0.0;
    bool m_close = true, m_nan = false;
};

/// Reports (done, total) and answers whether to go on.
class Progress {
public:
    Progress(const ProgressCallback &callback, qint64 total) : m_callback(callback), m_total(total) {}
    bool advance(qint64 values)
    {
        m_done += values;
        return !m_callback || m_callback(m_done, m_total);
    }

private:
    const ProgressCallback &m_callback;
    qint64 m_total;
    qint64 m_done = 0;
};

/// Threads for one tensor: the statistics are bound by arithmetic, not by the disk (the bytes
/// are mapped and usually cached), so each core takes chunks. Small tensors stay on one thread.
int workersFor(qint64 count, int threads)
{
    const qint64 chunks = (count + kChunkValues - 1) / kChunkValues;
    const int cores = threads > 0 ? threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    return static_cast<int>(std::clamp<qint64>(threads > 0 ? chunks : chunks / 4, 1, cores));
}

/// Calls `work(worker, chunk, first, n)` for every chunk of `count` values, on workersFor(count)
/// threads (the calling thread is worker 0 and the only one that reports progress). Each
/// chunk's figures go to their own slot, so the caller merges them in chunk order and gets,
/// bit for bit, what one thread would. False when the progress callback cancelled.
template <typename Work>
bool forEachChunk(qint64 count, int workers, Progress &progress, Work work)
{
    const qint64 chunks = (count + kChunkValues - 1) / kChunkValues;
    std::atomic<qint64> next{0};
    std::atomic<qint64> done{0};
    std::atomic<bool> cancelled{false};
    auto run = [&](int worker) {
        qint64 reported = 0;
        for (qint64 chunk = next++; chunk < chunks && !cancelled; chunk = next++) {
            const qint64 first = chunk * kChunkValues;
            const qint64 n = std::min(kChunkValues, count - first);
            work(worker, chunk, first, n);
            done += n;
            if (worker == 0) {
                const qint64 now = done;
                if (!progress.advance(now - reported))
                    cancelled = true;
                reported = now;
            }
        }
        return reported;
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(workers - 1));
    for (int worker = 1; worker < workers; ++worker)
        threads.emplace_back(run, worker);
    const qint64 reported = run(0);
    for (std::thread &thread : threads)
        thread.join();
    if (cancelled)
        return false;
    // Chunks other threads finished after worker 0's last report.
    return done == reported || progress.advance(done - reported);
}

bool wantsAutoRange(const StatisticsOptions &options) { return options.bins > 0 && !(options.lo < options.hi); }

} // namespace

qint64 valueCount(DType dtype, qint64 numel) { return isComplex(dtype) ? 2 * numel : numel; }

Result<TensorStatistics> tensorStatistics(const TensorData &tensor, const StatisticsOptions &options)
{
    const qint64 count = valueCount(tensor.dtype, tensor.numel);
    const bool secondPass = wantsAutoRange(options);
    Progress progress(options.progress, secondPass ? 2 * count : count);
    const int workers = workersFor(count, options.threads);
    std::vector<std::unique_ptr<double[]>> buffers;
    for (int w = 0; w < workers; ++w)
        buffers.push_back(scratchValues(count));
    std::vector<ChunkDecoder> decoders(static_cast<size_t>(workers));
    std::vector<TensorAccumulator> chunks(static_cast<size_t>((count + kChunkValues - 1) / kChunkValues));
    std::vector<HistogramBuilder> histograms;
    if (options.bins > 0 && !secondPass)
        histograms.assign(static_cast<size_t>(workers), HistogramBuilder(options.bins, options.lo, options.hi));
    const bool ok = forEachChunk(count, workers, progress, [&](int worker, qint64 chunk, qint64 first, qint64 n) {
        double *values = buffers[static_cast<size_t>(worker)].get();
        ChunkDecoder &decoder = decoders[static_cast<size_t>(worker)];
        decoder.fetch(tensor, first, n);
        TensorAccumulator figures;
        forEachBlock(n, [&](qint64 offset, qint64 m) {
            decoder.decode(offset, m, values);
            figures.merge(TensorAccumulator::ofChunk(values, m));
            if (!histograms.empty()) {
                for (qint64 i = 0; i < m; ++i)
                    histograms[static_cast<size_t>(worker)].add(values[i]);
            }
        });
        chunks[static_cast<size_t>(chunk)] = figures;
    });
    if (!ok)
        return cancelled();
    TensorAccumulator accumulator;
    for (const TensorAccumulator &chunk : chunks)
        accumulator.merge(chunk);
    if (secondPass) {
        double lo, hi;
        autoRange(accumulator.min(), accumulator.max(), accumulator.anyFinite(), &lo, &hi);
        histograms.assign(static_cast<size_t>(workers), HistogramBuilder(options.bins, lo, hi));
        const bool binned = forEachChunk(count, workers, progress, [&](int worker, qint64, qint64 first, qint64 n) {
            double *values = buffers[static_cast<size_t>(worker)].get();
            ChunkDecoder &decoder = decoders[static_cast<size_t>(worker)];
            decoder.fetch(tensor, first, n);
            forEachBlock(n, [&](qint64 offset, qint64 m) {
                decoder.decode(offset, m, values);
                for (qint64 i = 0; i < m; ++i)
                    histograms[static_cast<size_t>(worker)].add(values[i]);
            });
        });
        if (!binned)
            return cancelled();
    }
    TensorStatistics statistics = accumulator.result();
    if (!histograms.empty()) {
        for (size_t w = 1; w < histograms.size(); ++w)
            histograms.front().merge(histograms[w]);
        statistics.histogram = histograms.front().result();
    }
    return statistics;
}

Result<Comparison> compareTensors(const TensorData &a, const TensorData &b, const Tolerance &tolerance,
                                  bool withTensorStatistics, const StatisticsOptions &options)
{
    const qint64 count = valueCount(a.dtype, a.numel);
    if (count != valueCount(b.dtype, b.numel))
        return Error{QString(), QStringLiteral("cannot compare %1 values of %2 with %3 values of %4")
                                    .arg(count)
                                    .arg(dtypeName(a.dtype))
                                    .arg(valueCount(b.dtype, b.numel))
                                    .arg(dtypeName(b.dtype))};
    Comparison comparison;
    const qint64 bytes = a.numel * dtypeSize(a.dtype);
    if (a.dtype == b.dtype && sameBytes(a, b, bytes)) {
        comparison.pair.count = count;
        comparison.pair.identical = true;
        if (options.bins > 0) {
            double lo = options.lo, hi = options.hi;
            if (!(lo < hi))
                autoRange(0.0, 0.0, count > 0, &lo, &hi);
            HistogramBuilder histogram(options.bins, lo, hi);
            histogram.add(0.0, count);
            comparison.pair.diffHistogram = histogram.result();
        }
        if (withTensorStatistics) {
            Result<TensorStatistics> statistics = tensorStatistics(a, options);
            if (!statistics)
                return statistics.error();
            comparison.a = comparison.b = *statistics;
        }
        return comparison;
    }

    const bool secondPass = wantsAutoRange(options);
    Progress progress(options.progress, secondPass ? 2 * count : count);
    const int workers = workersFor(count, options.threads);
    std::vector<std::unique_ptr<double[]>> xs, ys;
    for (int w = 0; w < workers; ++w) {
        xs.push_back(scratchValues(count));
        ys.push_back(scratchValues(count));
    }
    std::vector<ChunkDecoder> decodersA(static_cast<size_t>(workers)), decodersB(static_cast<size_t>(workers));
    const size_t chunkCount = static_cast<size_t>((count + kChunkValues - 1) / kChunkValues);
    std::vector<PairAccumulator> pairChunks(chunkCount);
    std::vector<TensorAccumulator> chunksA(withTensorStatistics ? chunkCount : 0), chunksB(withTensorStatistics ? chunkCount : 0);
    // Per worker: histograms of A, B and A − B.
    struct Histograms {
        std::optional<HistogramBuilder> a, b, d;
    };
    std::vector<Histograms> histograms(static_cast<size_t>(workers));
    auto addToHistograms = [&](int worker, qint64 n) {
        Histograms &h = histograms[static_cast<size_t>(worker)];
        const double *x = xs[static_cast<size_t>(worker)].get();
        const double *y = ys[static_cast<size_t>(worker)].get();
        for (qint64 i = 0; i < n; ++i) {
            h.d->add(difference(x[i], y[i]));
            if (withTensorStatistics) {
                h.a->add(x[i]);
                h.b->add(y[i]);
            }
        }
    };
    auto startHistograms = [&](double lo, double hi, double dLo, double dHi) {
        for (Histograms &h : histograms) {
            h.a.emplace(options.bins, lo, hi);
            h.b.emplace(options.bins, lo, hi);
            h.d.emplace(options.bins, dLo, dHi);
        }
    };
    if (options.bins > 0 && !secondPass)
        startHistograms(options.lo, options.hi, options.lo, options.hi);
    const bool ok = forEachChunk(count, workers, progress, [&](int worker, qint64 chunk, qint64 first, qint64 n) {
        double *x = xs[static_cast<size_t>(worker)].get();
        double *y = ys[static_cast<size_t>(worker)].get();
        ChunkDecoder &decoderA = decodersA[static_cast<size_t>(worker)];
        ChunkDecoder &decoderB = decodersB[static_cast<size_t>(worker)];
        decoderA.fetch(a, first, n);
        decoderB.fetch(b, first, n);
        PairAccumulator pairFigures;
        TensorAccumulator figuresA, figuresB;
        forEachBlock(n, [&](qint64 offset, qint64 m) {
            decoderA.decode(offset, m, x);
            decoderB.decode(offset, m, y);
            pairFigures.merge(PairAccumulator::ofChunk(x, y, m, tolerance));
            if (withTensorStatistics) {
                figuresA.merge(TensorAccumulator::ofChunk(x, m));
                figuresB.merge(TensorAccumulator::ofChunk(y, m));
            }
            if (histograms.front().d)
                addToHistograms(worker, m);
        });
        pairChunks[static_cast<size_t>(chunk)] = pairFigures;
        if (withTensorStatistics) {
            chunksA[static_cast<size_t>(chunk)] = figuresA;
            chunksB[static_cast<size_t>(chunk)] = figuresB;
        }
    });
    if (!ok)
        return cancelled();
    PairAccumulator pair;
    TensorAccumulator statisticsA, statisticsB;
    for (size_t c = 0; c < chunkCount; ++c) {
        pair.merge(pairChunks[c]);
        if (withTensorStatistics) {
            statisticsA.merge(chunksA[c]);
            statisticsB.merge(chunksB[c]);
        }
    }
    if (secondPass) {
        // A and B share one range so their histograms overlay; A−B gets ±max |d|.
        double lo, hi, dLo, dHi;
        autoRange(std::min(statisticsA.min(), statisticsB.min()), std::max(statisticsA.max(), statisticsB.max()),
                  statisticsA.anyFinite() || statisticsB.anyFinite(), &lo, &hi);
        const double spread = pair.finiteMaxAbs();
        autoRange(-spread, spread, count > 0, &dLo, &dHi);
        startHistograms(lo, hi, dLo, dHi);
        const bool binned = forEachChunk(count, workers, progress, [&](int worker, qint64, qint64 first, qint64 n) {
            ChunkDecoder &decoderA = decodersA[static_cast<size_t>(worker)];
            ChunkDecoder &decoderB = decodersB[static_cast<size_t>(worker)];
            decoderA.fetch(a, first, n);
            decoderB.fetch(b, first, n);
            forEachBlock(n, [&](qint64 offset, qint64 m) {
                decoderA.decode(offset, m, xs[static_cast<size_t>(worker)].get());
                decoderB.decode(offset, m, ys[static_cast<size_t>(worker)].get());
                addToHistograms(worker, m);
            });
        });
        if (!binned)
            return cancelled();
    }
    std::optional<HistogramBuilder> histogramA, histogramB, histogramD;
    if (histograms.front().d) {
        histogramA = *histograms.front().a;
        histogramB = *histograms.front().b;
        histogramD = *histograms.front().d;
        for (size_t w = 1; w < histograms.size(); ++w) {
            histogramA->merge(*histograms[w].a);
            histogramB->merge(*histograms[w].b);
            histogramD->merge(*histograms[w].d);
        }
    }
    comparison.pair = pair.result();
    comparison.equal = comparison.pair.allclose;
    if (histogramD)
        comparison.pair.diffHistogram = histogramD->result();
    if (withTensorStatistics) {
        comparison.a = statisticsA.result();
        comparison.b = statisticsB.result();
        if (histogramA) {
            comparison.a->histogram = histogramA->result();
            comparison.b->histogram = histogramB->result();
        }
    }
    return comparison;
}

} // namespace graft
