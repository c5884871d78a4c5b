#include "checkpoint/formats/ziparchive.h"

#include "base/mappedfilecursor.h"
#include "base/parallelfor.h"
#include "checkpoint/formats/bytereader.h"

#include <algorithm>
#include <array>

namespace graft {
namespace {

constexpr quint32 kLocalHeaderSignature = 0x04034b50;
constexpr quint32 kCentralSignature = 0x02014b50;
constexpr quint32 kEndSignature = 0x06054b50;
constexpr quint32 kZip64EndSignature = 0x06064b50;
constexpr quint32 kZip64LocatorSignature = 0x07064b50;
constexpr qint64 kEndRecordSize = 22;
constexpr qint64 kMaxCommentSize = 0xffff;
constexpr qint64 kMaxEntries = 1'000'000;
constexpr qint64 kLocalHeaderSize = 30;

struct EndRecord {
    qint64 entryCount = 0;
    qint64 directorySize = 0;
    qint64 directoryOffset = 0;
};

Error zipError(const MappedFile &file, const QString &what)
{
    return Error{file.path(), QStringLiteral("not a valid zip archive: ") + what};
}

Result<EndRecord> findEndRecord(const MappedFile &file)
{
    const qint64 size = file.size();
    if (size < kEndRecordSize)
        return zipError(file, QStringLiteral("file too short (%1 bytes)").arg(size));
    const qint64 lowest = std::max<qint64>(0, size - kEndRecordSize - kMaxCommentSize);
    for (qint64 at = size - kEndRecordSize; at >= lowest; --at) {
        ByteReader reader(file.data() + at, size - at);
        if (reader.u32() != kEndSignature)
            continue;
        reader.skip(4); // disk numbers
        reader.skip(2); // entries on this disk
        EndRecord end;
        end.entryCount = reader.u16();
        end.directorySize = reader.u32();
        end.directoryOffset = reader.u32();
        const quint16 commentLength = reader.u16();
        if (at + kEndRecordSize + commentLength != size)
            continue; // a signature inside a comment or data; keep looking
        const bool needs64 = end.entryCount == 0xffff || end.directorySize == 0xffffffff
                             || end.directoryOffset == 0xffffffff;
        const qint64 locatorAt = at - 20;
        if (locatorAt >= 0) {
            ByteReader locator(file.data() + locatorAt, 20);
            if (locator.u32() == kZip64LocatorSignature) {
                locator.skip(4);
                const quint64 zip64EndAt = locator.u64();
                if (zip64EndAt > static_cast<quint64>(locatorAt) || locatorAt - static_cast<qint64>(zip64EndAt) < 56)
                    return zipError(file, QStringLiteral("ZIP64 end record offset %1 is out of range").arg(zip64EndAt));
                ByteReader record(file.data() + zip64EndAt, locatorAt - static_cast<qint64>(zip64EndAt));
                if (record.u32() != kZip64EndSignature)
                    return zipError(file, QStringLiteral("ZIP64 end record signature missing"));
                record.skip(8 + 2 + 2 + 4 + 4 + 8);
                const quint64 count = record.u64();
                const quint64 dirSize = record.u64();
                const quint64 dirOffset = record.u64();
                if (count > static_cast<quint64>(kMaxEntries) || dirSize > static_cast<quint64>(size)
                    || dirOffset > static_cast<quint64>(size))
                    return zipError(file, QStringLiteral("ZIP64 end record declares impossible sizes"));
                end.entryCount = static_cast<qint64>(count);
                end.directorySize = static_cast<qint64>(dirSize);
                end.directoryOffset = static_cast<qint64>(dirOffset);
                return end;
            }
        }
        if (needs64)
            return zipError(file, QStringLiteral("ZIP64 archive without a ZIP64 end record"));
        return end;
    }
    return zipError(file, QStringLiteral("no end-of-central-directory record"));
}

// Replaces 0xffffffff sizes/offset with the values of the ZIP64 extra field (id 0x0001).
bool applyZip64Extra(const uchar *extra, qint64 length, quint64 &uncompressed, quint64 &compressed, quint64 &offset)
{
    ByteReader reader(extra, length);
    while (reader.remaining() >= 4) {
        const quint16 id = reader.u16();
        const quint16 size = reader.u16();
        const uchar *body = reader.take(size);
        if (body == nullptr)
            return false;
        if (id != 0x0001)
            continue;
        ByteReader field(body, size);
        if (uncompressed == 0xffffffff)
            uncompressed = field.u64();
        if (compressed == 0xffffffff)
            compressed = field.u64();
        if (offset == 0xffffffff)
            offset = field.u64();
        return !field.failed();
    }
    return uncompressed != 0xffffffff && compressed != 0xffffffff && offset != 0xffffffff;
}

} // namespace

bool ZipArchive::looksLikeZip(const MappedFile &file)
{
    if (file.size() < 4)
        return false;
    ByteReader reader(file.data(), file.size());
    const quint32 signature = reader.u32();
    return signature == kLocalHeaderSignature || signature == kEndSignature;
}

Result<ZipArchive> ZipArchive::read(const MappedFilePtr &filePtr)
{
    const MappedFile &file = *filePtr;
    Result<EndRecord> end = findEndRecord(file);
    if (!end)
        return end.error();
    if (end->entryCount > kMaxEntries)
        return zipError(file, QStringLiteral("%1 entries (at most %2)").arg(end->entryCount).arg(kMaxEntries));
    if (!file.contains(end->directoryOffset, end->directorySize))
        return zipError(file, QStringLiteral("central directory (offset %1, %2 bytes) lies outside the %3-byte file")
                                  .arg(end->directoryOffset).arg(end->directorySize).arg(file.size()));
    // Each central entry takes at least 46 bytes: a count the directory can't hold is a lie.
    if (end->entryCount > end->directorySize / 46)
        return zipError(file, QStringLiteral("%1 entries cannot fit in a %2-byte central directory")
                                  .arg(end->entryCount).arg(end->directorySize));

    ZipArchive archive;
    archive.m_entries.reserve(static_cast<size_t>(end->entryCount));
    archive.m_index.reserve(static_cast<size_t>(end->entryCount));
    ByteReader reader(file.data() + end->directoryOffset, end->directorySize);
    for (qint64 i = 0; i < end->entryCount; ++i) {
        if (reader.u32() != kCentralSignature)
            return zipError(file, QStringLiteral("central directory entry %1 is corrupt").arg(i));
        reader.skip(4); // versions
        const quint16 flags = reader.u16();
        const quint16 method = reader.u16();
        reader.skip(4); // time, date
        const quint32 crc = reader.u32();
        quint64 compressed = reader.u32();
        quint64 uncompressed = reader.u32();
        const quint16 nameLength = reader.u16();
        const quint16 extraLength = reader.u16();
        const quint16 commentLength = reader.u16();
        reader.skip(8); // disk, internal/external attributes
        quint64 localOffset = reader.u32();
        const uchar *name = reader.take(nameLength);
        const uchar *extra = reader.take(extraLength);
        reader.skip(commentLength);
        if (reader.failed())
            return zipError(file, QStringLiteral("central directory entry %1 is truncated").arg(i));
        if (!applyZip64Extra(extra, extraLength, uncompressed, compressed, localOffset))
            return zipError(file, QStringLiteral("entry %1 has a broken ZIP64 extra field").arg(i));
        if (flags & 0x1)
            return zipError(file, QStringLiteral("entry %1 is encrypted").arg(i));

        ZipEntry entry;
        entry.name = QString::fromUtf8(reinterpret_cast<const char *>(name), nameLength);
        entry.method = method;
        entry.crc32 = crc;
        if (compressed > static_cast<quint64>(file.size()) || localOffset > static_cast<quint64>(file.size()))
            return zipError(file, QStringLiteral("entry '%1' declares sizes or offsets beyond the file").arg(entry.name));
        entry.compressedSize = static_cast<qint64>(compressed);
        if (uncompressed > static_cast<quint64>(std::numeric_limits<qint64>::max() / 2))
            return zipError(file, QStringLiteral("entry '%1' declares an impossible size").arg(entry.name));
        entry.uncompressedSize = static_cast<qint64>(uncompressed);
        if (method == 0 && entry.compressedSize != entry.uncompressedSize)
            return zipError(file, QStringLiteral("stored entry '%1' has different compressed and real sizes").arg(entry.name));
        if (method != 0 && method != 8)
            return zipError(file, QStringLiteral("entry '%1' uses compression method %2 (only stored and deflate are supported)")
                                      .arg(entry.name).arg(method));

        entry.dataOffset = static_cast<qint64>(localOffset); // the local header's, until read below
        archive.m_index.push_back({qHash(entry.name, QHashSeed::globalSeed()), static_cast<quint32>(i)});
        archive.m_entries.push_back(std::move(entry));
    }
    // The entries hold what they need (names are copied): the directory's pages are done with
    // (8 MB of a 100k-member archive that would otherwise count until the file closes).
    file.releasePages(end->directoryOffset, end->directorySize);

    // Where each member's data starts: after its local header, whose name and extra lengths
    // may differ from the central entry's, so every header is read. Through the map with a
    // cursor that gives the pages back as it goes (the kernel maps 16 pages a fault: a
    // 100k-member archive takes ~7k faults where a pread per header took 100k system calls);
    // each core reads a contiguous slice of the directory, which torch.save writes in file
    // order; what failed is reported below in directory order, as one loop would.
    enum class LocalHeader : uchar { Good, Unreadable, Missing, Truncated };
    std::vector<LocalHeader> headers(archive.m_entries.size(), LocalHeader::Good);
    const size_t count = archive.m_entries.size();
    const size_t slices = count < 4096 ? 1 : loopCores();
    parallelFor(
        slices,
        [&](size_t slice) {
            MappedFileCursor cursor(file);
            const size_t end = std::min(count, (slice + 1) * ((count + slices - 1) / slices));
            for (size_t i = slice * ((count + slices - 1) / slices); i < end; ++i) {
                ZipEntry &entry = archive.m_entries[i];
                const qint64 localOffset = entry.dataOffset;
                const qint64 headerBytes = std::min<qint64>(kLocalHeaderSize, file.size() - localOffset);
                const uchar *header = cursor.at(localOffset, headerBytes);
                if (header == nullptr) {
                    headers[i] = LocalHeader::Unreadable;
                    continue;
                }
                ByteReader local(header, headerBytes);
                if (local.u32() != kLocalHeaderSignature) {
                    headers[i] = LocalHeader::Missing;
                    continue;
                }
                local.skip(22);
                const quint16 localNameLength = local.u16();
                const quint16 localExtraLength = local.u16();
                entry.dataOffset = localOffset + kLocalHeaderSize + localNameLength + localExtraLength;
                if (local.failed() || entry.dataOffset > file.size()) {
                    entry.dataOffset = localOffset;
                    headers[i] = LocalHeader::Truncated;
                }
            }
        },
        1);
    // A name listed twice: which member a reader would take is a guess. The entries of equal
    // names are neighbours in the sorted hash table, the first listed first: every later one
    // is a duplicate (reported below in directory order, with the other checks).
    // (Names are compared only where hashes are equal; the hash is seeded per process, so a
    // file cannot make many names collide.)
    const std::vector<ZipEntry> &entries = archive.m_entries;
    std::sort(archive.m_index.begin(), archive.m_index.end(), [&entries](const NameHash &a, const NameHash &b) {
        if (a.hash != b.hash)
            return a.hash < b.hash;
        if (const int order = entries[a.entry].name.compare(entries[b.entry].name); order != 0)
            return order < 0;
        return a.entry < b.entry;
    });
    std::vector<bool> duplicate(count, false);
    for (size_t at = 1; at < archive.m_index.size(); ++at) {
        const NameHash &previous = archive.m_index[at - 1];
        const NameHash &current = archive.m_index[at];
        if (current.hash == previous.hash && entries[current.entry].name == entries[previous.entry].name)
            duplicate[current.entry] = true;
    }
    for (size_t i = 0; i < archive.m_entries.size(); ++i) {
        const ZipEntry &entry = archive.m_entries[i];
        switch (headers[i]) {
        case LocalHeader::Good: break;
        case LocalHeader::Unreadable: return zipError(file, QStringLiteral("entry '%1': cannot read its local header").arg(entry.name));
        case LocalHeader::Missing:
            return zipError(file, QStringLiteral("entry '%1': local header missing at offset %2").arg(entry.name).arg(entry.dataOffset));
        case LocalHeader::Truncated: return zipError(file, QStringLiteral("entry '%1': local header is truncated").arg(entry.name));
        }
        if (!file.contains(entry.dataOffset, entry.compressedSize))
            return zipError(file, QStringLiteral("entry '%1' (%2 bytes at offset %3) runs past the end of the %4-byte file")
                                      .arg(entry.name).arg(entry.compressedSize).arg(entry.dataOffset).arg(file.size()));
        if (duplicate[i])
            return zipError(file, QStringLiteral("duplicate entry '%1'").arg(entry.name));
    }
    return archive;
}

const ZipEntry *ZipArchive::find(const QString &name) const
{
    const size_t hash = qHash(name, QHashSeed::globalSeed());
    auto it = std::lower_bound(m_index.begin(), m_index.end(), hash, [](const NameHash &entry, size_t wanted) { return entry.hash < wanted; });
    for (; it != m_index.end() && it->hash == hash; ++it) {
        if (m_entries[it->entry].name == name)
            return &m_entries[it->entry];
    }
    return nullptr;
}

} // namespace graft
