#include "tensor/tensorstats.h"

#include "tensor/chunkdecoder.h"
#include "tensor/histogrambuilder.h"
#include "tensor/parallelchunks.h"
#include "tensor/tensoraccumulator.h"

// The statistics of one tensor (compareTensors is in tensorcomparison.cpp). The pieces:
//   ByteSource, ChunkDecoder   a tensor's bytes, a block at a time, as float32 or float64 lanes;
//   TensorAccumulator, PairAccumulator   the figures of a block in one fused pass
//                              (blockkernels.cpp), merged in order;
//   HistogramBuilder           numpy.histogram's binning;
//   forEachChunk               the threads that take the chunks (parallelchunks.h).
//
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

qint64 valueCount(DType dtype, qint64 numel) { return isComplex(dtype) ? 2 * numel : numel; }

Result<TensorStatistics> tensorStatistics(const TensorData &tensor, const StatisticsOptions &options)
{
    const qint64 count = valueCount(tensor.dtype, tensor.numel);
    const bool secondPass = wantsAutoRange(options);
    ChunkProgress progress(options.progress, secondPass ? 2 * count : count);
    const int workers = workersFor(count, options.threads);
    const bool floatLanes = ChunkDecoder::floatLanes(tensor.dtype);
    std::vector<ChunkDecoder> decoders(static_cast<size_t>(workers));
    std::vector<TensorAccumulator> chunks(static_cast<size_t>(chunkCount(count)));
    std::vector<HistogramBuilder> histograms;
    if (options.bins > 0 && !secondPass)
        histograms.assign(static_cast<size_t>(workers), HistogramBuilder(options.bins, options.lo, options.hi));
    const bool ok = forEachChunk(count, workers, progress, [&](int worker, qint64 chunk, qint64 first, qint64 n) {
        ChunkDecoder &decoder = decoders[static_cast<size_t>(worker)];
        decoder.fetch(tensor, first, n);
        TensorAccumulator figures;
        forEachBlock(n, [&](qint64 offset, qint64 m) {
            figures.merge(floatLanes ? TensorAccumulator::ofChunk(decoder.floats(offset, m), m)
                                     : TensorAccumulator::ofChunk(decoder.doubles(offset, m), m));
            if (!histograms.empty()) {
                const double *values = decoder.doubles(offset, m);
                for (qint64 i = 0; i < m; ++i)
                    histograms[static_cast<size_t>(worker)].add(values[i]);
            }
        });
        chunks[static_cast<size_t>(chunk)] = figures;
    });
    if (!ok)
        return cancelledError();
    TensorAccumulator accumulator;
    for (const TensorAccumulator &chunk : chunks)
        accumulator.merge(chunk);
    if (secondPass) {
        double lo, hi;
        autoRange(accumulator.min(), accumulator.max(), accumulator.anyFinite(), &lo, &hi);
        histograms.assign(static_cast<size_t>(workers), HistogramBuilder(options.bins, lo, hi));
        const bool binned = forEachChunk(count, workers, progress, [&](int worker, qint64, qint64 first, qint64 n) {
            ChunkDecoder &decoder = decoders[static_cast<size_t>(worker)];
            decoder.fetch(tensor, first, n);
            forEachBlock(n, [&](qint64 offset, qint64 m) {
                const double *values = decoder.doubles(offset, m);
                for (qint64 i = 0; i < m; ++i)
                    histograms[static_cast<size_t>(worker)].add(values[i]);
            });
        });
        if (!binned)
            return cancelledError();
    }
    TensorStatistics statistics = accumulator.result();
    if (!histograms.empty()) {
        for (size_t w = 1; w < histograms.size(); ++w)
            histograms.front().merge(histograms[w]);
        statistics.histogram = histograms.front().result();
    }
    return statistics;
}

} // namespace graft
