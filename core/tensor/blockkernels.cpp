// The hot loops of the statistics: the figures of one block of values in one pass, straight from
// float32 (and bfloat16/float16 widened to float32) or float64 lanes, and the widening itself.
//
// Each loop reads a block once and keeps every sum in double (a float is widened in the
// register, exactly), so the results keep double precision; the variance comes from sums shifted
// by a value of the block (Σ(x−s), Σ(x−s)²), which removes the second pass over the block that
// Welford-style code needs without the cancellation of Σx² − (Σx)²/n.
//
// Written by hand, not with xtensor: see tensorstats.cpp for the measurement (one fused pass
// against one pass per figure). Built with -fopenmp-simd, the dynamic cost model and
// -fno-trapping-math (core/CMakeLists.txt) so that the `omp simd` reductions vectorise, and, with
// GCC on x86-64, cloned for AVX-512 and AVX2 besides the SSE2 baseline (`target_clones`: the
// loader picks one per machine, so the binary still runs everywhere). The clone decides the
// lane count, hence the last bits of the sums; they never depend on the thread count (blocks and
// chunks are fixed, merged in order).

#include "tensor/pairaccumulator.h"
#include "tensor/statsmath.h"
#include "tensor/tensoraccumulator.h"

#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define GRAFT_CLONED __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GRAFT_CLONED
#endif

namespace graft {

namespace {

template <typename T>
double firstFinite(const T *x, qint64 n)
{
    for (qint64 i = 0; i < n; ++i) {
        if (isFiniteValue(static_cast<double>(x[i])))
            return static_cast<double>(x[i]);
    }
    return 0.0;
}

template <typename T>
[[gnu::always_inline]] inline TensorAccumulator tensorBlock(const T *x, qint64 n)
{
    // Counts are doubles in the loop (exact below 2^53) so that every lane is a double.
    const double shift = firstFinite(x, n);
    double finiteCount = 0.0, nanCount = 0.0, zeroCount = 0.0;
    double shiftedSum = 0.0, shiftedSquares = 0.0, sumSquares = 0.0, min = kInfinity, max = -kInfinity;
#pragma omp simd reduction(+ : finiteCount, nanCount, zeroCount, shiftedSum, shiftedSquares, sumSquares) reduction(min : min) reduction(max : max)
    for (qint64 i = 0; i < n; ++i) {
        const double v = static_cast<double>(x[i]);
        const bool isFinite = isFiniteValue(v);
        const double f = isFinite ? v : 0.0;
        const double d = isFinite ? v - shift : 0.0; // computed unconditionally: a select, not a branch
        finiteCount += isFinite ? 1.0 : 0.0;
        nanCount += v != v ? 1.0 : 0.0;
        zeroCount += v == 0.0 ? 1.0 : 0.0;
        shiftedSum += d;
        shiftedSquares += d * d;
        sumSquares += f * f;
        const double low = isFinite ? v : kInfinity;
        const double high = isFinite ? v : -kInfinity;
        min = low < min ? low : min;
        max = high > max ? high : max;
    }
    return TensorAccumulator::ofSums(n, finiteCount, nanCount, zeroCount, shift, shiftedSum, shiftedSquares, sumSquares, min, max);
}

template <typename T>
[[gnu::always_inline]] inline PairAccumulator pairBlock(const T *a, const T *b, qint64 n, const Tolerance &tolerance)
{
    double maxAbs = 0.0, finiteMaxAbs = 0.0, sumAbs = 0.0, sumSquares = 0.0, dot = 0.0, normA = 0.0, normB = 0.0;
    double differing = 0.0, nans = 0.0, far = 0.0;
    const double atol = tolerance.atol, rtol = tolerance.rtol;
#pragma omp simd reduction(+ : sumAbs, sumSquares, dot, normA, normB, differing, nans, far) reduction(max : maxAbs, finiteMaxAbs)
    for (qint64 i = 0; i < n; ++i) {
        const double x = static_cast<double>(a[i]), y = static_cast<double>(b[i]);
        const bool same = x == y;
        const double d = same ? 0.0 : x - y;
        const double absolute = std::fabs(d);
        const bool isNan = d != d;
        nans += isNan ? 1.0 : 0.0;
        const double forMax = isNan ? 0.0 : absolute; // NaN is reported apart
        const double forFiniteMax = absolute < kInfinity ? absolute : 0.0;
        maxAbs = forMax > maxAbs ? forMax : maxAbs;
        finiteMaxAbs = forFiniteMax > finiteMaxAbs ? forFiniteMax : finiteMaxAbs;
        sumAbs += absolute;
        sumSquares += d * d;
        differing += same ? 0.0 : 1.0;
        dot += x * y;
        normA += x * x;
        normB += y * y;
        const bool close = same | (isFiniteValue(x) & isFiniteValue(y) & (absolute <= atol + rtol * std::fabs(y)));
        far += close ? 0.0 : 1.0;
    }
    return PairAccumulator::ofSums(n, differing, nans, far, maxAbs, finiteMaxAbs, sumAbs, sumSquares, dot, normA, normB);
}

GRAFT_CLONED TensorAccumulator tensorBlockFloat(const float *x, qint64 n) { return tensorBlock(x, n); }
GRAFT_CLONED TensorAccumulator tensorBlockDouble(const double *x, qint64 n) { return tensorBlock(x, n); }
GRAFT_CLONED PairAccumulator pairBlockFloat(const float *a, const float *b, qint64 n, const Tolerance &t) { return pairBlock(a, b, n, t); }
GRAFT_CLONED PairAccumulator pairBlockDouble(const double *a, const double *b, qint64 n, const Tolerance &t) { return pairBlock(a, b, n, t); }

inline float floatFromBits(std::uint32_t bits)
{
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
}

inline std::uint32_t bitsOfFloat(float value)
{
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    return bits;
}

} // namespace

TensorAccumulator TensorAccumulator::ofChunk(const float *x, qint64 n) { return tensorBlockFloat(x, n); }
TensorAccumulator TensorAccumulator::ofChunk(const double *x, qint64 n) { return tensorBlockDouble(x, n); }
PairAccumulator PairAccumulator::ofChunk(const float *a, const float *b, qint64 n, const Tolerance &t) { return pairBlockFloat(a, b, n, t); }
PairAccumulator PairAccumulator::ofChunk(const double *a, const double *b, qint64 n, const Tolerance &t) { return pairBlockDouble(a, b, n, t); }

GRAFT_CLONED void widenBfloat16(const uchar *data, qint64 count, float *out)
{
#pragma omp simd
    for (qint64 i = 0; i < count; ++i) {
        std::uint16_t bits;
        std::memcpy(&bits, data + 2 * i, 2);
        out[i] = floatFromBits(std::uint32_t(bits) << 16);
    }
}

GRAFT_CLONED void widenFloat16(const uchar *data, qint64 count, float *out)
{
    // Branch-free: the magnitude's bits moved into a float's place and scaled by 2^112 give every
    // finite half exactly (subnormals included, as float has the range); 0x7c00 and above are
    // infinities and NaNs, whose payload moves into place.
    const float scale = floatFromBits(0x77800000u); // 2^112
#pragma omp simd
    for (qint64 i = 0; i < count; ++i) {
        std::uint16_t bits;
        std::memcpy(&bits, data + 2 * i, 2);
        const std::uint32_t sign = std::uint32_t(bits & 0x8000u) << 16;
        const std::uint32_t magnitude = bits & 0x7fffu;
        const std::uint32_t finite = bitsOfFloat(floatFromBits(magnitude << 13) * scale);
        const std::uint32_t special = 0x7f800000u | ((magnitude & 0x3ffu) << 13);
        out[i] = floatFromBits(sign | (magnitude >= 0x7c00u ? special : finite));
    }
}

} // namespace graft
