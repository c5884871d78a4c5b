#pragma once
// Small pieces of a mapped file read through the map by a reader that moves forward through it
// (zip local headers, .eqx record headers, a writer's small tensors), with the pages it passed
// given back as it goes.

#include "base/mappedfile.h"

namespace graft {

/// Through the map, a fault maps the 16 pages around it (the kernel's fault-around): a reader
/// that hops over 100k records of a file takes ~7k faults where pread took 100k system calls.
/// Left alone, those pages would make the process look as big as the file; the cursor gives
/// them back every 4 MiB of progress, on a jump (back, or more than 64 KiB ahead) and when it
/// dies, so it never holds more than a few MiB of the file. Not thread-safe: one per thread.
/// The file must outlive the cursor.
class MappedFileCursor {
public:
    explicit MappedFileCursor(const MappedFile &file) : m_file(&file) {}
    ~MappedFileCursor() { release(); }
    MappedFileCursor(const MappedFileCursor &) = delete;
    MappedFileCursor &operator=(const MappedFileCursor &) = delete;

    /// The bytes [offset, offset + length) in the map; nullptr when they are not inside the file.
    const uchar *at(qint64 offset, qint64 length);
    /// Gives back every page read so far.
    void release();

private:
    /// Gives back the blocks before the one `keepFrom` lies in.
    void releaseBefore(qint64 keepFrom);

    const MappedFile *m_file;
    qint64 m_begin = -1; ///< the span read since the last release (file offsets); -1: none
    qint64 m_end = -1;
};

} // namespace graft
