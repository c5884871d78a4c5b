#pragma once
// Internal to core/tensor: the widening of 16-bit floats to float32, a block at a time, for the
// statistics (tensorstats.h) and for casts that need no tensor library (applyExactWidening);
// blockkernels.cpp, with the accumulators' ofChunk loops.

#include <QtGlobal>

namespace graft {

/// `count` little-endian bfloat16 values from `data` into `out`, exactly.
void widenBfloat16(const uchar *data, qint64 count, float *out);

/// `count` little-endian IEEE float16 values from `data` into `out`, exactly (NaN payloads kept).
void widenFloat16(const uchar *data, qint64 count, float *out);

} // namespace graft
