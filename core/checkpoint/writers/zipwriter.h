#pragma once
// A streaming writer of stored (uncompressed) zip archives, for .npz and torch .pt output.
//
//   per member:  local header (30 B) | name | extra | data
//   at the end:  central directory (46 B + name + extra per member)
//                [ZIP64 end record (56 B) + ZIP64 locator (20 B)] | end record (22 B)
//
// A member's size is declared up front, so its local header carries the real sizes and no
// data descriptor follows the data. The CRC-32 is computed while the data streams (in chunks,
// while each is hot in cache) and patched into the local header when the member ends (a small
// member given whole gets its CRC in the header at once). ZIP64
// records appear where needed (a member or an offset at 4 GiB, 65535 members or more), or
// everywhere with forceZip64 (for tests). With an alignment, the local header gets an "FB"
// extra field of padding so the member's data starts on a multiple of it (torch.save aligns
// storages on 64 bytes so they can be memory-mapped). Times are fixed at 1980-01-01 00:00,
// so the same members always give the same bytes.

#include "checkpoint/writers/formatwriters.h"

namespace graft::writers {

class ZipWriter {
public:
    struct Options {
        bool forceZip64 = false;
        int alignment = 0; ///< data start alignment in bytes; 0 or 1 = none
    };

    ZipWriter(OutputSink &sink, Options options) : m_sink(sink), m_options(options) {}

    /// Writes the local header of a member of exactly `size` bytes (UTF-8 `name`).
    Status beginMember(const QByteArray &name, qint64 size);
    /// Appends data to the open member; `what` names it in errors.
    Status write(const char *data, qint64 size, const WriteSubject &what);
    Status write(const QByteArray &bytes, const WriteSubject &what) { return write(bytes.constData(), bytes.size(), what); }
    /// Closes the member: checks the declared size was written, patches the CRC.
    Status endMember();
    /// A whole member at once; `what` names it in errors. When it is small (≤ 4 MiB) its CRC is
    /// computed first and written with the local header: nothing to patch (for 100k small
    /// tensors, a patch's seek back and forth costs more than the bytes). The bytes written are
    /// the same as beginMember/write/endMember's.
    Status addMember(const QByteArray &name, const char *data, qint64 size, const WriteSubject &what);
    Status addMember(const QByteArray &name, const QByteArray &bytes);
    /// A whole member of `header` (may be empty) followed by a tensor's bytes. When the bytes are
    /// a whole zip record of the source (TensorBytes::recordCrc32) the member's CRC comes from
    /// the record's and the header's, the bytes are never read here, and a big record is copied
    /// file to file by the kernel (OutputSink::write): a .pth re-saved reads nothing twice.
    Status addMember(const QByteArray &name, const QByteArray &header, const TensorBytes &bytes, const WriteSubject &what);
    /// Writes the central directory and end records. No member may be open.
    Status finish();

private:
    Status openMember(const QByteArray &name, qint64 size, quint32 headerCrc);
    /// Closes a member opened with its CRC known (in its local header) and written whole.
    Status closeWholeMember(qint64 size);

    struct Member {
        QByteArray name;
        quint16 flags = 0;
        quint32 crc = 0;
        quint64 size = 0;
        quint64 offset = 0;
        bool zip64Sizes = false;
    };

    OutputSink &m_sink;
    Options m_options;
    std::vector<Member> m_members;
    bool m_open = false;
    quint64 m_written = 0;
};

} // namespace graft::writers
