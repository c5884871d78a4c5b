#pragma once
// A read-only memory map of a whole input file. Readers index it without copying; tensor data
// is read on demand straight from the map, so opening a 20 GB checkpoint costs no I/O beyond
// its headers.

#include "base/result.h"

#include <QFile>
#include <QString>

#include <memory>

namespace graft {

class MappedFile {
public:
    /// Maps `path` read-only. Errors (missing, a directory, unreadable, mmap failure) name the
    /// file. An empty file maps to a valid object of size 0.
    static Result<std::shared_ptr<const MappedFile>> open(const QString &path);

    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const QString &path() const { return m_path; }
    qint64 size() const { return m_size; }
    const uchar *data() const { return m_data; }
    /// The open file descriptor behind the map (writers copy byte ranges file to file with it).
    int handle() const { return m_file.handle(); }

    /// Copies `length` bytes at `offset` into `out` with pread, without touching the map (for a
    /// read out of order; readers that hop forward from header to header use a
    /// MappedFileCursor, which gives back the pages it passed).
    /// False when the range is not inside the file or the read fails.
    bool readAt(qint64 offset, uchar *out, qint64 length) const;

    /// Gives the whole pages of [offset, offset + length) back to the page cache: the process
    /// stops counting them, and a later read through the map faults them in again (same bytes).
    /// For a range read once and done with (a record checked, a pickle unpickled). A no-op
    /// where the system cannot do it, or for a range outside the file.
    void releasePages(qint64 offset, qint64 length) const;

    /// True when [offset, offset + length) lies inside the file (overflow-safe).
    bool contains(qint64 offset, qint64 length) const
    {
        return offset >= 0 && length >= 0 && offset <= m_size && length <= m_size - offset;
    }

private:
    MappedFile() = default;

    QString m_path;
    QFile m_file;
    const uchar *m_data = nullptr;
    qint64 m_size = 0;
};

using MappedFilePtr = std::shared_ptr<const MappedFile>;

} // namespace graft
