#include "tensor/tensorstats.h"

#include "checkpoint/formats/recordchecksum.h"
#include "tensor/bytesource.h"
#include "tensor/chunkdecoder.h"
#include "tensor/histogrambuilder.h"
#include "tensor/pairaccumulator.h"
#include "tensor/parallelchunks.h"
#include "tensor/tensoraccumulator.h"

#include <optional>

// compareTensors: the pair statistics, with each side's statistics and the histograms, in one
// pass over both tensors (a second one for histograms of automatic range). See tensorstats.cpp.

namespace graft {

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
    quint32 identicalCrcA = 0, identicalCrcB = 0;
    if (a.dtype == b.dtype
        && sameBytes(a, b, bytes, a.checksum ? &identicalCrcA : nullptr, b.checksum ? &identicalCrcB : nullptr)) {
        if (a.checksum)
            comparison.crcA = identicalCrcA;
        if (b.checksum)
            comparison.crcB = identicalCrcB;
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
    ChunkProgress progress(options.progress, secondPass ? 2 * count : count);
    const int workers = workersFor(count, options.threads);
    // Float32 lanes when both sides fit them (float32, bfloat16, float16), else float64 lanes.
    const bool floatLanes = ChunkDecoder::floatLanes(a.dtype) && ChunkDecoder::floatLanes(b.dtype);
    std::vector<ChunkDecoder> decodersA(static_cast<size_t>(workers)), decodersB(static_cast<size_t>(workers));
    const size_t chunks = static_cast<size_t>(chunkCount(count));
    std::vector<PairAccumulator> pairChunks(chunks);
    std::vector<TensorAccumulator> chunksA(withTensorStatistics ? chunks : 0), chunksB(withTensorStatistics ? chunks : 0);
    // CRC-32 of each chunk's bytes (the record check folded into this pass), joined in order below.
    std::vector<quint32> crcChunksA(a.checksum ? chunks : 0), crcChunksB(b.checksum ? chunks : 0);
    // Per worker: histograms of A, B and A − B.
    struct Histograms {
        std::optional<HistogramBuilder> a, b, d;
    };
    std::vector<Histograms> histograms(static_cast<size_t>(workers));
    auto addToHistograms = [&](int worker, ChunkDecoder &decoderA, ChunkDecoder &decoderB, qint64 offset, qint64 n) {
        Histograms &h = histograms[static_cast<size_t>(worker)];
        const double *x = decoderA.doubles(offset, n);
        const double *y = decoderB.doubles(offset, n);
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
        ChunkDecoder &decoderA = decodersA[static_cast<size_t>(worker)];
        ChunkDecoder &decoderB = decodersB[static_cast<size_t>(worker)];
        decoderA.fetch(a, first, n);
        decoderB.fetch(b, first, n);
        if (a.checksum)
            crcChunksA[static_cast<size_t>(chunk)] = recordCrc32(decoderA.raw(), decoderA.rawSize());
        if (b.checksum)
            crcChunksB[static_cast<size_t>(chunk)] = recordCrc32(decoderB.raw(), decoderB.rawSize());
        PairAccumulator pairFigures;
        TensorAccumulator figuresA, figuresB;
        forEachBlock(n, [&](qint64 offset, qint64 m) {
            auto addFigures = [&](const auto *x, const auto *y) { // float or double lanes
                pairFigures.merge(PairAccumulator::ofChunk(x, y, m, tolerance));
                if (withTensorStatistics) {
                    figuresA.merge(TensorAccumulator::ofChunk(x, m));
                    figuresB.merge(TensorAccumulator::ofChunk(y, m));
                }
            };
            if (floatLanes)
                addFigures(decoderA.floats(offset, m), decoderB.floats(offset, m));
            else
                addFigures(decoderA.doubles(offset, m), decoderB.doubles(offset, m));
            if (histograms.front().d)
                addToHistograms(worker, decoderA, decoderB, offset, m);
        });
        pairChunks[static_cast<size_t>(chunk)] = pairFigures;
        if (withTensorStatistics) {
            chunksA[static_cast<size_t>(chunk)] = figuresA;
            chunksB[static_cast<size_t>(chunk)] = figuresB;
        }
    });
    if (!ok)
        return cancelledError();
    const auto joinCrcs = [&](const std::vector<quint32> &crcs, DType dtype) {
        const qint64 valueBytes = isComplex(dtype) ? dtypeSize(dtype) / 2 : dtypeSize(dtype);
        quint32 crc = 0;
        for (size_t c = 0; c < crcs.size(); ++c) {
            const qint64 values = std::min(kChunkValues, count - static_cast<qint64>(c) * kChunkValues);
            crc = c == 0 ? crcs[c] : crc32Combine(crc, crcs[c], values * valueBytes);
        }
        return crc;
    };
    if (a.checksum)
        comparison.crcA = joinCrcs(crcChunksA, a.dtype);
    if (b.checksum)
        comparison.crcB = joinCrcs(crcChunksB, b.dtype);
    PairAccumulator pair;
    TensorAccumulator statisticsA, statisticsB;
    for (size_t c = 0; c < chunks; ++c) {
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
            forEachBlock(n, [&](qint64 offset, qint64 m) { addToHistograms(worker, decoderA, decoderB, offset, m); });
        });
        if (!binned)
            return cancelledError();
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
