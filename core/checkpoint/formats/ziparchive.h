#pragma once
// A bounded reader of a zip file's central directory (torch.save's container and .npz).
//
// Layout read here (APPNOTE 6.3.x):
//   [local header 30 B + name + extra][data] ...   [central directory entries]
//   [ZIP64 end record][ZIP64 locator] (optional)   [end of central directory 22 B + comment]
// We locate the end record in the last 65,557 bytes, follow the ZIP64 locator when present,
// read each central entry (46 B + name + extra + comment) with its ZIP64 extra field, then read
// the member's local header only to learn where its data starts. Every offset and size is
// checked against the real file size; entry count and name length are capped.
//
// Why our own: Debian's minizip would work, but we need only the directory and data offsets
// of stored members, with hostile-input checks minizip does not make (sizes vs file size).

#include "base/mappedfile.h"
#include "base/result.h"

#include <QHash>
#include <QString>

#include <vector>

namespace graft {

struct ZipEntry {
    QString name;
    qint64 compressedSize = 0;
    qint64 uncompressedSize = 0;
    qint64 dataOffset = 0;       ///< absolute offset of the member's data in the file
    quint32 crc32 = 0;
    quint16 method = 0;          ///< 0 stored, 8 deflated
};

class ZipArchive {
public:
    /// Reads the directory of `file`. Fails with a message naming the file for anything
    /// that is not a well-formed zip (or lies about sizes/offsets).
    static Result<ZipArchive> read(const MappedFilePtr &file);

    /// Quick check of the first bytes ("PK\3\4", or an empty archive "PK\5\6").
    static bool looksLikeZip(const MappedFile &file);

    const std::vector<ZipEntry> &entries() const { return m_entries; }
    /// Entry with exactly this name, or nullptr. O(log n) in a sorted table of the names'
    /// hashes: a torch.save file of a 100k-key model has 100k entries, whose QHash index took
    /// 4 MB in 3k blocks (the table: 1.6 MB in one).
    const ZipEntry *find(const QString &name) const;

private:
    struct NameHash {
        size_t hash;
        quint32 entry; ///< position in m_entries (at most kMaxEntries)
    };
    std::vector<ZipEntry> m_entries;
    std::vector<NameHash> m_index; ///< every entry's name hash, sorted by hash, then name, then position
};

} // namespace graft
