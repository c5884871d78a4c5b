// readNpz: a zip of .npy members (np.savez stores them, np.savez_compressed deflates them).
// Member "NAME.npy" becomes tensor "NAME", in archive order (numpy's NpzFile.files order).
// Stored members are indexed straight in the map; deflated ones become deflated segments whose
// header is read by inflating only its first bytes.
//
// Members that are not .npy arrays (other names, or no \x93NUMPY magic) become OtherEntries:
// numpy's NpzFile hands those out as raw bytes rather than failing, so a stray README in an
// archive is no reason to refuse its arrays.

#include "checkpoint/formats/inflate.h"
#include "checkpoint/formats/npyheader.h"
#include "checkpoint/formats/readers.h"

#include <algorithm>
#include <cstring>

namespace graft {
namespace {

// Deflate cannot expand better than about 1032:1; a larger declared size is a lie that would
// make Checkpoint::read() allocate for nothing.
constexpr qint64 kMaxDeflateRatio = 1032;
// Enough for any header numpy writes; longer headers are re-inflated to their declared length.
constexpr qint64 kHeaderProbe = 4096;

bool hasNpyMagic(const uchar *data, qint64 size) { return size >= 6 && std::memcmp(data, "\x93NUMPY", 6) == 0; }

OtherEntry otherMember(const ZipEntry &member, const QString &why)
{
    return OtherEntry{member.name, QStringLiteral("file"),
                      QStringLiteral("%1 bytes, %2").arg(member.uncompressedSize).arg(why)};
}

// The first bytes of a deflated member: at least its whole npy header when it has one.
Result<std::vector<uchar>> inflateHeader(const MappedFile &file, const ZipEntry &member)
{
    const uchar *data = file.data() + member.dataOffset;
    Result<std::vector<uchar>> prefix =
        inflateRawPrefix(data, member.compressedSize, std::min(member.uncompressedSize, kHeaderProbe));
    if (!prefix || !hasNpyMagic(prefix->data(), static_cast<qint64>(prefix->size())))
        return prefix;
    Result<qint64> dataOffset = npyDataOffset(prefix->data(), static_cast<qint64>(prefix->size()));
    if (!dataOffset || *dataOffset <= static_cast<qint64>(prefix->size()))
        return prefix;
    if (*dataOffset > member.uncompressedSize)
        return Error{QString(), QStringLiteral(".npy header ends at byte %1, past the end of the member (%2 bytes)")
                                    .arg(*dataOffset).arg(member.uncompressedSize)};
    return inflateRawPrefix(data, member.compressedSize, *dataOffset);
}

} // namespace

Result<Checkpoint> readNpz(const MappedFilePtr &file, const ZipArchive &archive)
{
    const QString &path = file->path();
    if (archive.entries().empty())
        return Error{path, QStringLiteral("the .npz archive holds no members")};

    Checkpoint checkpoint(path, CheckpointFormat::Npz);
    const int fileIndex = checkpoint.addFile(file);
    for (const ZipEntry &member : archive.entries()) {
        const QString where = QStringLiteral("member '%1': ").arg(member.name);
        if (!member.name.endsWith(QLatin1String(".npy"))) {
            checkpoint.addOther(otherMember(member, QStringLiteral("not an .npy member")));
            continue;
        }
        const bool deflated = member.method == 8;
        const qint64 size = member.uncompressedSize;
        if (deflated && size > member.compressedSize * kMaxDeflateRatio + kHeaderProbe)
            return Error{path, where + QStringLiteral("declares %1 bytes, more than deflate can produce from %2")
                                           .arg(size).arg(member.compressedSize)};

        // The bytes the header is parsed from: the member itself, or its inflated start.
        std::vector<uchar> inflated;
        const uchar *headerBytes = file->data() + member.dataOffset;
        qint64 headerBytesSize = member.compressedSize;
        if (deflated) {
            Result<std::vector<uchar>> prefix = inflateHeader(*file, member);
            if (!prefix)
                return Error{path, where + prefix.error().message};
            inflated = std::move(prefix).value();
            headerBytes = inflated.data();
            headerBytesSize = static_cast<qint64>(inflated.size());
        }
        if (!hasNpyMagic(headerBytes, headerBytesSize)) {
            checkpoint.addOther(otherMember(member, QStringLiteral("no .npy magic")));
            continue;
        }
        Result<NpyHeader> header = parseNpyHeader(headerBytes, headerBytesSize);
        if (!header)
            return Error{path, where + header.error().message};
        const qint64 nbytes = header->nbytes();
        if (nbytes > size - header->dataOffset)
            return Error{path, where + QStringLiteral("shape %1 of %2 needs %3 bytes after the %4-byte header, "
                                                      "but the member holds %5")
                                           .arg(shapeToString(header->shape), dtypeName(header->dtype))
                                           .arg(nbytes).arg(header->dataOffset).arg(size - header->dataOffset)};

        Segment segment;
        segment.file = fileIndex;
        segment.offset = member.dataOffset;
        segment.size = member.compressedSize;
        segment.deflated = deflated;
        segment.inflatedSize = deflated ? size : 0;
        segment.hasCrc32 = true;
        segment.crc32 = member.crc32;
        segment.record = member.name;
        TensorEntry entry;
        entry.key = member.name.chopped(4);
        entry.dtype = header->dtype;
        entry.shape = header->shape;
        entry.strides = header->strides();
        entry.segment = checkpoint.addSegment(segment);
        entry.byteOffset = header->dataOffset;
        entry.bigEndian = header->bigEndian;
        if (Status status = checkpoint.addTensor(std::move(entry)); !status)
            return status.error();
    }
    if (checkpoint.tensors().empty())
        return Error{path, QStringLiteral("the zip archive holds no .npy arrays and no data.pkl: not a numpy or PyTorch file")};
    return checkpoint;
}

} // namespace graft
