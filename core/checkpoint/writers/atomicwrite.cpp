// The machinery every output format shares: the sink, the leaf stream, the checks made before
// any file exists, and the atomic QSaveFile wrapper. See formatwriters.h.

#include "checkpoint/writers/formatwriters.h"

#include "base/firstrepeat.h"
#include "checkpoint/deferredrecordchecks.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>


#include <cstring>
#include <limits>

#ifdef Q_OS_UNIX
#include <sys/stat.h>
#endif
#ifdef Q_OS_LINUX
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#endif

namespace graft::writers {
namespace {

// The file QSaveFile will replace: it follows symlinks (also dangling ones) to their target.
QFileInfo replacedFile(const QString &path)
{
    QFileInfo info(path);
    for (int depth = 0; depth < 128 && info.isSymLink(); ++depth)
        info.setFile(info.symLinkTarget());
    return info;
}

bool sameInode(const QString &a, const QString &b)
{
#ifdef Q_OS_UNIX
    struct stat first {};
    struct stat second {};
    if (::stat(QFile::encodeName(a).constData(), &first) != 0 || ::stat(QFile::encodeName(b).constData(), &second) != 0)
        return false;
    return first.st_dev == second.st_dev && first.st_ino == second.st_ino;
#else
    Q_UNUSED(a);
    Q_UNUSED(b);
    return false;
#endif
}

} // namespace

Status OutputSink::writeThrough(const char *data, qint64 size, const WriteSubject &what)
{
    // A large write goes in writeback steps, each handed to the kernel as soon as it is written
    // (startWriteback): the disk writes one while the next is copied.
    qint64 done = 0;
    while (done < size) {
        const qint64 written = m_device.write(data + done, std::min(size - done, kWritebackStep));
        if (written <= 0)
            return Error{m_path, QStringLiteral("cannot write %1 at byte %2: %3")
                                     .arg(what.text()).arg(m_position - m_buffered + done).arg(m_device.errorString())};
        done += written;
        startWriteback(m_position - m_buffered + done);
    }
    return Status::success();
}

void OutputSink::startWriteback(qint64 written)
{
#ifdef Q_OS_LINUX
    // The commit's fdatasync waits for every dirty page of the output. Handing the kernel each
    // 8 MiB as it is written (SYNC_FILE_RANGE_WRITE starts the writeback; it waits only while
    // the disk's queue is full) lets the disk work while the next leaves are read and copied,
    // so that little is left to wait for at the end (VGG19 -> .eqx: fdatasync 34 ms; W2 0.67 ->
    // 0.61 s). The fdatasync before the rename stays: this only starts early what it would do
    // anyway. Errors are ignored (a file system without it: tmpfs).
    if (written - m_writebackFrom >= kWritebackStep && m_device.handle() >= 0) {
        ::sync_file_range(m_device.handle(), m_writebackFrom, written - m_writebackFrom, SYNC_FILE_RANGE_WRITE);
        m_writebackFrom = written;
    }
#else
    Q_UNUSED(written);
#endif
}

Status OutputSink::flush()
{
    if (m_buffered == 0)
        return Status::success();
    const qint64 size = m_buffered;
    m_buffered = 0;
    m_position -= size; // writeThrough reports errors at the file's position, before the buffer
    Status written = writeThrough(m_buffer.data(), size, QStringLiteral("the output"));
    m_position += size;
    return written;
}

Status OutputSink::write(const char *data, qint64 size, const WriteSubject &what)
{
    if (size == 0)
        return Status::success(); // an empty tensor's data may be a null pointer (memcpy must not see it)
    if (size >= kBufferBytes) {
        if (Status flushed = flush(); !flushed)
            return flushed;
        if (Status written = writeThrough(data, size, what); !written)
            return written;
        m_position += size;
        return Status::success();
    }
    if (m_buffered + size > kBufferBytes) {
        if (Status flushed = flush(); !flushed)
            return flushed;
    }
    if (m_buffer.empty())
        m_buffer.resize(static_cast<size_t>(kBufferBytes));
    std::memcpy(m_buffer.data() + m_buffered, data, static_cast<size_t>(size));
    m_buffered += size;
    m_position += size;
    return Status::success();
}

Status OutputSink::write(const TensorBytes &bytes, const WriteSubject &what)
{
#ifdef Q_OS_LINUX
    // Small tensors aren't worth the flush and the extra system calls.
    constexpr qint64 kFileCopyMinimum = 64 * 1024;
    const MappedFile *file = bytes.mappedFile();
    qint64 done = 0;
    if (file != nullptr && m_fileCopy && bytes.size() >= kFileCopyMinimum && m_device.handle() >= 0) {
        if (Status flushed = flush(); !flushed)
            return flushed;
        if (!m_device.flush())
            return Error{m_path, QStringLiteral("cannot write %1 at byte %2: %3").arg(what.text()).arg(m_position).arg(m_device.errorString())};
        loff_t offset = bytes.fileOffset();
        // In writeback steps: a 411 MB tensor copied whole and then handed to writeback blocked
        // on the disk's queue for 180 ms with nothing left to overlap (W2).
        while (done < bytes.size()) {
            const ssize_t copied = ::copy_file_range(file->handle(), &offset, m_device.handle(), nullptr,
                                                     static_cast<size_t>(std::min(bytes.size() - done, kWritebackStep)), 0);
            if (copied > 0) {
                done += copied;
                startWriteback(m_position + done);
                continue;
            }
            if (copied < 0 && errno == EINTR)
                continue;
            if (copied < 0 && done == 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL || errno == EBADF)) {
                m_fileCopy = false; // not here: write from the map instead, from now on
                break;
            }
            if (copied == 0)
                break; // the input shrank under us: write() from the map reports what is left
            return Error{m_path, QStringLiteral("cannot write %1 at byte %2: %3")
                                     .arg(what.text()).arg(m_position + done).arg(QString::fromLocal8Bit(std::strerror(errno)))};
        }
        m_position += done;
        // The descriptor moved past what QFileDevice knows: tell it where the file ends.
        if (done > 0 && !m_device.seek(m_position))
            return Error{m_path, QStringLiteral("cannot write %1 at byte %2: %3").arg(what.text()).arg(m_position).arg(m_device.errorString())};
    }
    if (file != nullptr && done == 0 && bytes.size() > 0 && bytes.size() < kFileCopyMinimum) {
        if (m_buffered + bytes.size() > kBufferBytes) {
            if (Status flushed = flush(); !flushed)
                return flushed;
        }
        if (m_buffer.empty())
            m_buffer.resize(static_cast<size_t>(kBufferBytes));
        copyFromMap(bytes.sharedMappedFile(), bytes.data(), bytes.size());
        return Status::success();
    }
    return write(reinterpret_cast<const char *>(bytes.data()) + done, bytes.size() - done, what);
#else
    return write(reinterpret_cast<const char *>(bytes.data()), bytes.size(), what);
#endif
}

void OutputSink::copyFromMap(const MappedFilePtr &file, const uchar *data, qint64 size)
{
    if (m_cursorFile != file) {
        m_cursor.reset(); // gives back what the last file's cursor read
        m_cursorFile = file;
        m_cursor.emplace(*file);
    }
    const uchar *bytes = m_cursor->at(data - file->data(), size);
    std::memcpy(m_buffer.data() + m_buffered, bytes != nullptr ? bytes : data, static_cast<size_t>(size));
    m_buffered += size;
    m_position += size;
}

Status OutputSink::patch(qint64 position, const QByteArray &bytes, const WriteSubject &what)
{
    if (Status flushed = flush(); !flushed)
        return flushed;
    if (!m_device.seek(position) || m_device.write(bytes) != bytes.size() || !m_device.seek(m_position))
        return Error{m_path, QStringLiteral("cannot update %1 at byte %2: %3").arg(what.text()).arg(position).arg(m_device.errorString())};
    return Status::success();
}

qint64 leafBytes(const OutputLeaf &leaf)
{
    return checkedNumel(leaf.spec.shape, std::numeric_limits<qint64>::max()) * dtypeSize(leaf.spec.dtype);
}

Status checkLeafSpecs(const QString &path, const std::vector<OutputLeaf> &leaves, int maxRank)
{
    for (const OutputLeaf &leaf : leaves) {
        if (static_cast<int>(leaf.spec.shape.size()) > maxRank)
            return Error{path, QStringLiteral("leaf '%1' has %2 dimensions; this format allows at most %3")
                                   .arg(leaf.key).arg(leaf.spec.shape.size()).arg(maxRank)};
        const qint64 limit = std::numeric_limits<qint64>::max() / dtypeSize(leaf.spec.dtype);
        if (checkedNumel(leaf.spec.shape, limit) < 0)
            return Error{path, QStringLiteral("leaf '%1' has an impossible shape %2")
                                   .arg(leaf.key, shapeToString(leaf.spec.shape))};
    }
    return Status::success();
}

Status checkUniqueKeys(const QString &path, const std::vector<OutputLeaf> &leaves)
{
    const size_t repeat = firstRepeatedName(leaves.size(), [&leaves](size_t i) -> const QString & { return leaves[i].key; });
    if (repeat < leaves.size())
        return Error{path, QStringLiteral("two leaves are named '%1'; this format stores names, which must be unique")
                               .arg(leaves[repeat].key)};
    return Status::success();
}

Status checkNotProtected(const QString &path, const QStringList &protectedPaths)
{
    const QFileInfo target = replacedFile(path);
    const QString targetPath = target.exists() ? target.canonicalFilePath() : QDir::cleanPath(target.absoluteFilePath());
    for (const QString &protectedPath : protectedPaths) {
        const QFileInfo input(protectedPath);
        const QString inputPath = input.exists() ? input.canonicalFilePath() : QDir::cleanPath(input.absoluteFilePath());
        // Same canonical path, or the same file under another name (a hard link).
        if (targetPath == inputPath || (target.exists() && input.exists() && sameInode(targetPath, inputPath)))
            return Error{path, QStringLiteral("refusing to overwrite input file %1").arg(protectedPath)};
    }
    return Status::success();
}

Result<WriteSummary> writeAtomically(const QString &path, qint64 leafCount, const std::function<Status(OutputSink &)> &body)
{
    if (QFileInfo(path).isDir())
        return Error{path, QStringLiteral("cannot write the output: it is a folder")};
    // QSaveFile writes to a temporary beside `path` (unnamed where the OS allows) and renames it
    // over `path` in commit(); with direct-write fallback off (the default) it never writes
    // into an existing file in place.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Error{path, QStringLiteral("cannot create the output file: %1").arg(file.errorString())};
    OutputSink sink(file, path);
    // The CRC-32 checks of the source records this write reads run beside it; nothing is
    // committed before they all passed.
    DeferredRecordChecks recordChecks;
    Status written = body(sink);
    if (written)
        written = sink.flush();
    if (written) {
        if (Status checked = recordChecks.finish(); !checked)
            written = Error{path, QStringLiteral("not written: a source is corrupt: %1").arg(checked.error().toString())};
    }
    if (!written) {
        file.cancelWriting();
        return written.error(); // the QSaveFile destructor removes the temporary
    }
    if (!file.commit())
        return Error{path, QStringLiteral("cannot finish writing the output file: %1").arg(file.errorString())};
    WriteSummary summary;
    summary.leaves = leafCount;
    summary.bytes = sink.position();
    return summary;
}

} // namespace graft::writers
