#include "checkpoint/formats/recordchecksum.h"

#include "base/parallelfor.h"

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
    // Stripes of 16 MiB on every core, joined in order with crc32_combine: a 500 MB record's
    // check is then bound by the reads, not by one core's CRC (zlib's crc32 runs at ~2 GB/s here,
    // and the check sits in front of convert's copy and diff's statistics).
    constexpr qint64 kPiece = qint64(1) << 20;
    constexpr qint64 kStripe = qint64(16) << 20;
    const size_t stripes = static_cast<size_t>(std::max<qint64>(1, (size + kStripe - 1) / kStripe));
    std::vector<uLong> crcs(stripes, crc32_z(0, nullptr, 0));
    std::vector<char> failed(stripes, 0);
    parallelFor(
        stripes,
        [&](size_t stripe) {
            const qint64 begin = static_cast<qint64>(stripe) * kStripe;
            const qint64 end = std::min(size, begin + kStripe);
            std::vector<uchar> buffer(static_cast<size_t>(std::min(end - begin, kPiece)));
            uLong crc = crc32_z(0, nullptr, 0);
            for (qint64 done = begin; done < end;) {
                const qint64 piece = std::min(kPiece, end - done);
                if (!file.readAt(offset + done, buffer.data(), piece)) {
                    failed[stripe] = 1;
                    return;
                }
                crc = crc32_z(crc, buffer.data(), static_cast<z_size_t>(piece));
                done += piece;
            }
            crcs[stripe] = crc;
        },
        2);
    uLong crc = crcs.front();
    for (size_t stripe = 0; stripe < stripes; ++stripe) {
        if (failed[stripe])
            return std::nullopt;
        if (stripe > 0)
            crc = crc32_combine64(crc, crcs[stripe], std::min(kStripe, size - static_cast<qint64>(stripe) * kStripe));
    }
    return static_cast<quint32>(crc);
}

} // namespace graft
