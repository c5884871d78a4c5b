// ZipWriter: see zipwriter.h for the layout.

#include "checkpoint/writers/zipwriter.h"

#include "checkpoint/formats/recordchecksum.h"

namespace graft::writers {
namespace {

constexpr quint32 kLocalSignature = 0x04034b50;
constexpr quint32 kCentralSignature = 0x02014b50;
constexpr quint32 kZip64EndSignature = 0x06064b50;
constexpr quint32 kZip64LocatorSignature = 0x07064b50;
constexpr quint32 kEndSignature = 0x06054b50;
constexpr quint16 kZip64ExtraId = 0x0001;
constexpr quint16 kPaddingExtraId = 0x4246; // "FB", as PyTorchStreamWriter names it
constexpr quint64 kMax32 = 0xffffffff;
constexpr quint64 kMaxEntries16 = 0xffff;
constexpr quint16 kUtf8NameFlag = 0x0800;
constexpr quint16 kDosDate1980 = (0 << 9) | (1 << 5) | 1; // 1980-01-01
constexpr quint32 kRegularFileAttributes = 0100644u << 16;  // unix -rw-r--r--
constexpr qint64 kLocalHeaderSize = 30;
constexpr qint64 kCrcOffsetInLocalHeader = 14;
constexpr qint64 kChunk = 4 << 20;

class LittleEndian {
public:
    LittleEndian() { m_bytes.reserve(64); } // a local header and its name, usually
    LittleEndian &u16(quint64 value) { return put(value, 2); }
    LittleEndian &u32(quint64 value) { return put(value, 4); }
    LittleEndian &u64(quint64 value) { return put(value, 8); }
    LittleEndian &bytes(const QByteArray &value)
    {
        m_bytes += value;
        return *this;
    }
    const QByteArray &data() const { return m_bytes; }

private:
    LittleEndian &put(quint64 value, int size)
    {
        char bytes[8];
        for (int i = 0; i < size; ++i, value >>= 8)
            bytes[i] = static_cast<char>(value & 0xff);
        m_bytes.append(bytes, size);
        return *this;
    }
    QByteArray m_bytes;
};

bool isAscii(const QByteArray &text)
{
    for (char c : text) {
        if (static_cast<uchar>(c) >= 0x80)
            return false;
    }
    return true;
}

} // namespace

Status ZipWriter::beginMember(const QByteArray &name, qint64 size) { return openMember(name, size, 0); }

Status ZipWriter::openMember(const QByteArray &name, qint64 size, quint32 headerCrc)
{
    Member member;
    member.name = name;
    member.flags = isAscii(name) ? 0 : kUtf8NameFlag;
    member.size = static_cast<quint64>(size);
    member.offset = static_cast<quint64>(m_sink.position());
    member.zip64Sizes = m_options.forceZip64 || member.size >= kMax32;

    LittleEndian extra;
    if (member.zip64Sizes)
        extra.u16(kZip64ExtraId).u16(16).u64(member.size).u64(member.size);
    if (m_options.alignment > 1) {
        const qint64 unpadded = m_sink.position() + kLocalHeaderSize + name.size() + extra.data().size() + 4;
        const qint64 padding = (m_options.alignment - unpadded % m_options.alignment) % m_options.alignment;
        extra.u16(kPaddingExtraId).u16(padding).bytes(QByteArray(padding, 'Z'));
    }
    LittleEndian local;
    local.u32(kLocalSignature).u16(member.zip64Sizes ? 45 : 20).u16(member.flags).u16(0) // stored
        .u16(0).u16(kDosDate1980).u32(headerCrc)                                         // 0: patched
        .u32(member.zip64Sizes ? kMax32 : member.size).u32(member.zip64Sizes ? kMax32 : member.size)
        .u16(name.size()).u16(extra.data().size())
        .bytes(name).bytes(extra.data());
    const QByteArray &header = local.data();
    if (Status status = m_sink.writeDescribed(header.constData(), header.size(),
                                              [&name] { return QStringLiteral("the zip header of '%1'").arg(QString::fromUtf8(name)); });
        !status)
        return status;
    member.crc = headerCrc; // 0 for a streamed member: write() accumulates it, endMember() patches it
    m_members.push_back(std::move(member));
    m_open = true;
    m_written = 0;
    return Status::success();
}

Status ZipWriter::write(const char *data, qint64 size, const WriteSubject &what)
{
    Member &member = m_members.back();
    for (qint64 done = 0; done < size; done += kChunk) {
        const qint64 chunk = std::min(kChunk, size - done);
        member.crc = crc32Update(member.crc, reinterpret_cast<const uchar *>(data + done), chunk);
        if (Status status = m_sink.write(data + done, chunk, what); !status)
            return status;
    }
    m_written += static_cast<quint64>(size);
    return Status::success();
}

Status ZipWriter::endMember()
{
    const Member &member = m_members.back();
    m_open = false;
    const QString name = QString::fromUtf8(member.name);
    if (m_written != member.size)
        return Error{m_sink.path(), QStringLiteral("zip member '%1' got %2 bytes, %3 were declared").arg(name).arg(m_written).arg(member.size)};
    return m_sink.patch(static_cast<qint64>(member.offset) + kCrcOffsetInLocalHeader, LittleEndian().u32(member.crc).data(),
                        QStringLiteral("the CRC of '%1'").arg(name));
}

Status ZipWriter::addMember(const QByteArray &name, const char *data, qint64 size, const WriteSubject &what)
{
    if (size > kChunk) { // one pass over the bytes: CRC while writing, then patched
        if (Status status = beginMember(name, size); !status)
            return status;
        if (Status status = write(data, size, what); !status)
            return status;
        return endMember();
    }
    if (Status status = openMember(name, size, recordCrc32(reinterpret_cast<const uchar *>(data), size)); !status)
        return status;
    if (Status status = m_sink.write(data, size, what); !status)
        return status;
    return closeWholeMember(size);
}

Status ZipWriter::closeWholeMember(qint64 size)
{
    m_written = static_cast<quint64>(size);
    m_open = false;
    return Status::success();
}

Status ZipWriter::addMember(const QByteArray &name, const QByteArray &bytes)
{
    return addMember(name, bytes.constData(), bytes.size(), QStringLiteral("'%1'").arg(QString::fromUtf8(name)));
}

Status ZipWriter::addMember(const QByteArray &name, const QByteArray &header, const TensorBytes &bytes, const WriteSubject &what)
{
    const char *data = reinterpret_cast<const char *>(bytes.data());
    const qint64 size = bytes.size();
    if (const std::optional<quint32> recordCrc = bytes.recordCrc32()) {
        const quint32 crc = header.isEmpty() ? *recordCrc
                                             : crc32Combine(recordCrc32(reinterpret_cast<const uchar *>(header.constData()), header.size()), *recordCrc, size);
        if (Status status = openMember(name, header.size() + size, crc); !status)
            return status;
        if (!header.isEmpty()) {
            if (Status status = m_sink.write(header, what); !status)
                return status;
        }
        if (Status status = m_sink.write(bytes, what); !status)
            return status;
        return closeWholeMember(header.size() + size);
    }
    if (header.isEmpty()) // the whole member in one buffer: its CRC goes into the header at once
        return addMember(name, data, size, what);
    if (Status status = beginMember(name, header.size() + size); !status)
        return status;
    if (!header.isEmpty()) {
        if (Status status = write(header, what); !status)
            return status;
    }
    if (Status status = write(data, size, what); !status)
        return status;
    return endMember();
}

Status ZipWriter::finish()
{
    if (m_open)
        return Error{m_sink.path(), QStringLiteral("zip member '%1' was not finished").arg(QString::fromUtf8(m_members.back().name))};
    const QString what = QStringLiteral("the zip central directory");
    const quint64 directoryOffset = static_cast<quint64>(m_sink.position());
    QByteArray directory;
    for (const Member &member : m_members) {
        const bool sizes64 = m_options.forceZip64 || member.zip64Sizes;
        const bool offset64 = m_options.forceZip64 || member.offset >= kMax32;
        LittleEndian extra;
        if (sizes64 || offset64) {
            LittleEndian fields; // only the fields that overflow, in this order
            if (sizes64)
                fields.u64(member.size).u64(member.size); // uncompressed, compressed
            if (offset64)
                fields.u64(member.offset);
            extra.u16(kZip64ExtraId).u16(fields.data().size()).bytes(fields.data());
        }
        const quint16 version = extra.data().isEmpty() ? 20 : 45;
        LittleEndian entry;
        entry.u32(kCentralSignature).u16((3 << 8) | version).u16(version).u16(member.flags).u16(0)
            .u16(0).u16(kDosDate1980).u32(member.crc)
            .u32(sizes64 ? kMax32 : member.size).u32(sizes64 ? kMax32 : member.size)
            .u16(member.name.size()).u16(extra.data().size()).u16(0) // no comment
            .u16(0).u16(0).u32(kRegularFileAttributes)                // disk, internal attributes
            .u32(offset64 ? kMax32 : member.offset)
            .bytes(member.name).bytes(extra.data());
        directory += entry.data();
        // Written in pieces: a 1,000,000-member directory need not sit in memory whole.
        if (directory.size() >= kChunk) {
            if (Status status = m_sink.write(directory, what); !status)
                return status;
            directory.clear();
        }
    }
    if (Status status = m_sink.write(directory, what); !status)
        return status;
    const quint64 directorySize = static_cast<quint64>(m_sink.position()) - directoryOffset;
    const quint64 count = m_members.size();

    LittleEndian end;
    if (m_options.forceZip64 || count >= kMaxEntries16 || directorySize >= kMax32 || directoryOffset >= kMax32) {
        const quint64 zip64EndOffset = static_cast<quint64>(m_sink.position());
        end.u32(kZip64EndSignature).u64(44).u16((3 << 8) | 45).u16(45).u32(0).u32(0)
            .u64(count).u64(count).u64(directorySize).u64(directoryOffset);
        end.u32(kZip64LocatorSignature).u32(0).u64(zip64EndOffset).u32(1);
    }
    end.u32(kEndSignature).u16(0).u16(0)
        .u16(std::min(count, kMaxEntries16)).u16(std::min(count, kMaxEntries16))
        .u32(std::min(directorySize, kMax32)).u32(std::min(directoryOffset, kMax32)).u16(0);
    return m_sink.write(end.data(), QStringLiteral("the zip end records"));
}

} // namespace graft::writers
