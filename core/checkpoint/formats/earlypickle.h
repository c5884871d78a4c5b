#pragma once
// data.pkl unpickled while the zip directory is being read.
//
// torch.save writes <root>/data.pkl as the archive's first member, and opening a 100k-key file
// is mostly two serial jobs: reading the 100k-entry central directory (at the end of the file)
// and unpickling data.pkl (at its start). The first local header and the member's data
// descriptor (or the header's own sizes) tell where data.pkl lies without the directory, so
// the directory is read on a second core meanwhile. The early result is only used when the
// directory lists the very same member (name, data offset, sizes, method, CRC-32): it is then
// what unpickleZipMember() of the directory's entry gives, bit for bit, errors included.
// Anything else (another first member, a small pickle, a file that is not torch.save's) reads
// the directory alone, as before, and a guess the directory contradicts is dropped.
//
// The unpickling stays on the calling thread: its ~2M short-lived values come from the main
// heap arena, where what the collector frees is reused (on a second thread they took an arena
// of their own: +2 MB at the peak of a 100k-key inspect).

#include "checkpoint/formats/torchobjects.h"
#include "checkpoint/formats/ziparchive.h"

#include <optional>

namespace graft {

struct EarlyPickle {
    ZipEntry member; ///< data.pkl as the local header and data descriptor describe it
    Result<Unpickled> unpickled;

    /// The early result when `entry` is the member it was made of; nullopt otherwise.
    std::optional<Result<Unpickled>> take(const ZipEntry &entry);
};

/// ZipArchive::read(file); when the first member is a stored data.pkl of at least
/// `minimumBytes` whose extent the file states, `early` gets it unpickled meanwhile.
Result<ZipArchive> readZipUnpicklingFirst(const MappedFilePtr &file, std::optional<EarlyPickle> &early,
                                          qint64 minimumBytes = qint64(1) << 20);

} // namespace graft
