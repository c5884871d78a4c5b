#include "checkpoint/formats/recordchecksum.h"

#include <zlib.h>

#include <algorithm>
#include <vector>

namespace graft {

quint32 recordCrc32(const uchar *data, qint64 size)
{
    uLong crc = crc32_z(0, nullptr, 0);
    if (size > 0)
        crc = crc32_z(crc, data, static_cast<z_size_t>(size));
    return static_cast<quint32>(crc);
}

std::optional<quint32> recordCrc32(const MappedFile &file, qint64 offset, qint64 size)
{
    if (!file.contains(offset, size))
        return std::nullopt;
    constexpr qint64 kPiece = qint64(1) << 20;
    std::vector<uchar> buffer(static_cast<size_t>(std::min(size, kPiece)));
    uLong crc = crc32_z(0, nullptr, 0);
    for (qint64 done = 0; done < size;) {
        const qint64 piece = std::min(kPiece, size - done);
        if (!file.readAt(offset + done, buffer.data(), piece))
            return std::nullopt;
        crc = crc32_z(crc, buffer.data(), static_cast<z_size_t>(piece));
        done += piece;
    }
    return static_cast<quint32>(crc);
}

} // namespace graft
