#pragma once
// Raw deflate decompression (zip method 8) with a hard output size.

#include "base/result.h"

#include <QtGlobal>

#include <vector>

namespace graft {

/// Inflates a raw deflate stream that must produce exactly `expectedSize` bytes. Refuses to
/// produce more (zip bombs, size lies) and reports a stream that ends early or is corrupt.
/// The Error carries no file name; callers add it.
Result<std::vector<uchar>> inflateRaw(const uchar *data, qint64 size, qint64 expectedSize);

/// Inflates at most `maxBytes` from the start of a raw deflate stream (used to read an npy
/// header inside a compressed npz member without inflating the whole member).
Result<std::vector<uchar>> inflateRawPrefix(const uchar *data, qint64 size, qint64 maxBytes);

} // namespace graft
