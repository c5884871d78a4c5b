#include "checkpoint/formats/earlypickle.h"

#include "checkpoint/formats/bytereader.h"
#include "checkpoint/formats/torchzipstorages.h"

#include <cstring>
#include <future>

namespace graft {
namespace {

constexpr quint32 kLocalHeaderSignature = 0x04034b50;
constexpr qint64 kLocalHeaderSize = 30;
constexpr quint16 kFlagDescriptor = 0x8;
// How far the descriptor is looked for: a 100k-tensor data.pkl is 14 MB. A larger pickle, or a
// file without the descriptor, is read the ordinary way (the scan reads what it passes).
constexpr qint64 kMaxScannedBytes = qint64(128) << 20;

bool isDataPkl(const char *name, qint64 length)
{
    constexpr char kName[] = "data.pkl";
    constexpr qint64 kLength = sizeof(kName) - 1;
    if (length < kLength || std::memcmp(name + length - kLength, kName, kLength) != 0)
        return false;
    return length == kLength || name[length - kLength - 1] == '/';
}

// The size of the stored member starting at `dataStart` whose data descriptor follows it: the
// first "PK\7\8" whose two sizes (32- or 64-bit) both equal its distance from `dataStart`, and
// its CRC-32. A descriptor look-alike inside the pickle can fool this; the caller only uses a
// guess the central directory confirms.
std::optional<std::pair<qint64, quint32>> descriptorAfter(const MappedFile &file, qint64 dataStart)
{
    const uchar *data = file.data();
    const qint64 limit = std::min(file.size(), dataStart + kMaxScannedBytes + 24);
    static constexpr uchar kSignature[] = {'P', 'K', 7, 8};
    for (qint64 at = dataStart; at + 16 <= limit;) {
        const void *found = memmem(data + at, static_cast<size_t>(limit - at), kSignature, sizeof(kSignature));
        if (found == nullptr)
            return std::nullopt;
        at = static_cast<const uchar *>(found) - data;
        const qint64 length = at - dataStart;
        ByteReader descriptor(data + at, limit - at);
        descriptor.skip(4);
        const quint32 crc = descriptor.u32();
        ByteReader narrow = descriptor;
        const bool sizes32 = narrow.u32() == static_cast<quint64>(length) && narrow.u32() == static_cast<quint64>(length);
        const bool sizes64 = !sizes32 && descriptor.u64() == static_cast<quint64>(length) && descriptor.u64() == static_cast<quint64>(length);
        if ((sizes32 && !narrow.failed()) || (sizes64 && !descriptor.failed()))
            return std::make_pair(length, crc);
        ++at;
    }
    return std::nullopt;
}

bool sameMember(const ZipEntry &a, const ZipEntry &b)
{
    return a.name == b.name && a.dataOffset == b.dataOffset && a.compressedSize == b.compressedSize
           && a.uncompressedSize == b.uncompressedSize && a.method == b.method && a.crc32 == b.crc32;
}

// data.pkl as the first local header (and the data descriptor after it) describes it, when it
// is stored and at least `minimumBytes` long.
std::optional<ZipEntry> firstDataPkl(const MappedFile &file, qint64 minimumBytes)
{
    ByteReader header(file.data(), file.size());
    if (header.u32() != kLocalHeaderSignature)
        return std::nullopt;
    header.skip(2); // version
    const quint16 flags = header.u16();
    const quint16 method = header.u16();
    header.skip(4); // time, date
    const quint32 crc = header.u32();
    const quint32 compressed = header.u32();
    const quint32 uncompressed = header.u32();
    const quint16 nameLength = header.u16();
    const quint16 extraLength = header.u16();
    const uchar *name = header.take(nameLength);
    header.skip(extraLength);
    if (header.failed() || method != 0 || (flags & 0x1) || !isDataPkl(reinterpret_cast<const char *>(name), nameLength))
        return std::nullopt;
    ZipEntry member;
    member.name = QString::fromUtf8(reinterpret_cast<const char *>(name), nameLength);
    member.dataOffset = kLocalHeaderSize + nameLength + extraLength;
    member.method = method;
    if (flags & kFlagDescriptor) {
        const std::optional<std::pair<qint64, quint32>> extent = descriptorAfter(file, member.dataOffset);
        if (!extent)
            return std::nullopt;
        member.compressedSize = member.uncompressedSize = extent->first;
        member.crc32 = extent->second;
    } else {
        // Sizes in the header itself (0xffffffff: in a ZIP64 extra field; not guessed).
        if (compressed != uncompressed || compressed == 0xffffffff || !file.contains(member.dataOffset, compressed))
            return std::nullopt;
        member.compressedSize = member.uncompressedSize = compressed;
        member.crc32 = crc;
    }
    if (member.compressedSize < minimumBytes)
        return std::nullopt;
    return member;
}

} // namespace

std::optional<Result<Unpickled>> EarlyPickle::take(const ZipEntry &entry)
{
    if (!sameMember(member, entry))
        return std::nullopt;
    return std::move(unpickled);
}

Result<ZipArchive> readZipUnpicklingFirst(const MappedFilePtr &file, std::optional<EarlyPickle> &early, qint64 minimumBytes)
{
    const std::optional<ZipEntry> member = firstDataPkl(*file, minimumBytes);
    if (!member)
        return ZipArchive::read(file);
    std::future<Result<ZipArchive>> directory = std::async(std::launch::async, [file] { return ZipArchive::read(file); });
    early.emplace(EarlyPickle{*member, unpickleZipMember(file, *member)});
    return directory.get();
}

} // namespace graft
