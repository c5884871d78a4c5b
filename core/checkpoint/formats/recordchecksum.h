#pragma once
// CRC-32 (zip's) of a zip record's bytes, in memory or straight from the file, and the pieces a
// reader needs to check a record while it streams it (crc32Update, crc32Combine).

#include "base/mappedfile.h"

#include <optional>

namespace graft {

/// CRC-32 of `size` bytes at `data`.
quint32 recordCrc32(const uchar *data, qint64 size);

/// `crc` (of the bytes before) extended by `size` bytes at `data`; start from 0.
quint32 crc32Update(quint32 crc, const uchar *data, qint64 size);

/// CRC-32 of A followed by B, from crc(A), crc(B) and B's length (zlib's crc32_combine64).
quint32 crc32Combine(quint32 crcA, quint32 crcB, qint64 lengthB);

/// CRC-32 of `size` bytes at `offset` of `file` (16 MiB stripes on every core), read through
/// the map and each stripe's pages released once read, so checking a 500 MB record does not
/// leave the process 500 MB bigger. nullopt when the range is not in the file.
std::optional<quint32> recordCrc32(const MappedFile &file, qint64 offset, qint64 size);

} // namespace graft
