#include "checkpoint/formats/inflate.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace graft {
namespace {

// Deflate cannot expand data by more than 1032:1 (a 258-byte match costs at least 2 bits), so
// `compressed` bytes inflate to at most this many (one byte of slack for tiny streams).
qint64 maxInflatedSize(qint64 compressed)
{
    constexpr qint64 kMaxRatio = 1032;
    return compressed >= std::numeric_limits<qint64>::max() / kMaxRatio - 1 ? std::numeric_limits<qint64>::max()
                                                                            : (compressed + 1) * kMaxRatio;
}

// zlib (not Qt's qUncompress, which wants zlib-wrapped data with a size prefix) is the
// well-kept library for raw deflate; we only bound its output.
Result<std::vector<uchar>> inflateBounded(const uchar *data, qint64 size, qint64 outputSize, bool requireEnd)
{
    if (size < 0 || outputSize < 0)
        return Error{QString(), QStringLiteral("invalid compressed sizes")};
    // The output buffer is allocated up front, so the declared size must first be one the
    // compressed bytes can really produce: a 1.5 KB torch zip whose data.pkl declared 2 GiB made
    // us allocate 2 GiB (found by fuzz_torchzip). Allocations now stay within 1032x the file.
    if (outputSize > maxInflatedSize(size)) {
        if (requireEnd)
            return Error{QString(), QStringLiteral("%1 compressed bytes cannot inflate to the %2 bytes declared")
                                        .arg(size).arg(outputSize)};
        outputSize = maxInflatedSize(size); // a prefix: the stream cannot hold more anyway
    }
    std::vector<uchar> output;
    try {
        output.resize(static_cast<size_t>(outputSize));
    } catch (const std::bad_alloc &) {
        return Error{QString(), QStringLiteral("not enough memory to inflate %1 bytes").arg(outputSize)};
    }
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
        return Error{QString(), QStringLiteral("cannot initialise zlib")};

    qint64 consumed = 0;
    qint64 produced = 0;
    int status = Z_OK;
    constexpr qint64 kChunk = std::numeric_limits<uInt>::max() / 2;
    uchar overflowProbe = 0;
    while (status == Z_OK) {
        stream.next_in = const_cast<Bytef *>(data + consumed);
        stream.avail_in = static_cast<uInt>(std::min(size - consumed, kChunk));
        const bool full = produced == outputSize;
        // Once the buffer is full, give zlib one spare byte: output there means the size lied.
        stream.next_out = full ? &overflowProbe : output.data() + produced;
        stream.avail_out = full ? 1u : static_cast<uInt>(std::min(outputSize - produced, kChunk));
        const uInt inBefore = stream.avail_in;
        const uInt outBefore = stream.avail_out;
        status = inflate(&stream, Z_NO_FLUSH);
        consumed += inBefore - stream.avail_in;
        const qint64 wrote = outBefore - stream.avail_out;
        if (full && wrote > 0) {
            inflateEnd(&stream);
            return Error{QString(), QStringLiteral("compressed data inflates to more than the %1 bytes declared")
                                        .arg(outputSize)};
        }
        produced += full ? 0 : wrote;
        if (!requireEnd && produced == outputSize)
            break;
        if (status == Z_BUF_ERROR && inBefore == stream.avail_in && outBefore == stream.avail_out) {
            // No progress: input exhausted before the stream ended.
            break;
        }
        if (status == Z_OK && consumed == size && stream.avail_in == 0 && wrote == 0)
            break;
    }
    inflateEnd(&stream);

    if (status == Z_DATA_ERROR || status == Z_MEM_ERROR || status == Z_NEED_DICT || status == Z_STREAM_ERROR)
        return Error{QString(), QStringLiteral("corrupt compressed data (%1)")
                                    .arg(QString::fromLatin1(stream.msg ? stream.msg : "zlib error"))};
    if (requireEnd) {
        if (status != Z_STREAM_END)
            return Error{QString(), QStringLiteral("compressed data ends early (%1 of %2 bytes)")
                                        .arg(produced).arg(outputSize)};
        if (produced != outputSize)
            return Error{QString(), QStringLiteral("compressed data inflates to %1 bytes, %2 declared")
                                        .arg(produced).arg(outputSize)};
    } else {
        output.resize(static_cast<size_t>(produced));
    }
    return output;
}

} // namespace

Result<std::vector<uchar>> inflateRaw(const uchar *data, qint64 size, qint64 expectedSize)
{
    return inflateBounded(data, size, expectedSize, true);
}

Result<std::vector<uchar>> inflateRawPrefix(const uchar *data, qint64 size, qint64 maxBytes)
{
    return inflateBounded(data, size, maxBytes, false);
}

} // namespace graft
