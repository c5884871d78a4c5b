#include "base/mappedfile.h"

#include <QFileInfo>

#include <cerrno>
#include <cstring>

#ifdef Q_OS_UNIX
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace graft {

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        return Error{path, QStringLiteral("no such file")};
    if (info.isDir())
        return Error{path, QStringLiteral("is a directory, not a checkpoint file")};

    std::shared_ptr<MappedFile> mapped(new MappedFile);
    mapped->m_path = path;
    mapped->m_file.setFileName(path);
    if (!mapped->m_file.open(QIODevice::ReadOnly))
        return Error{path, QStringLiteral("cannot open: %1").arg(mapped->m_file.errorString())};
    mapped->m_size = mapped->m_file.size();
    if (mapped->m_size > 0) {
        mapped->m_data = mapped->m_file.map(0, mapped->m_size);
        if (mapped->m_data == nullptr)
            return Error{path, QStringLiteral("cannot memory-map: %1").arg(mapped->m_file.errorString())};
    }
    return std::shared_ptr<const MappedFile>(std::move(mapped));
}

void MappedFile::releasePages(qint64 offset, qint64 length) const
{
#ifdef Q_OS_UNIX
    if (!contains(offset, length) || m_data == nullptr)
        return;
    const quintptr page = static_cast<quintptr>(sysconf(_SC_PAGESIZE));
    const quintptr start = reinterpret_cast<quintptr>(m_data + offset);
    const quintptr begin = (start + page - 1) / page * page;
    const quintptr end = (start + static_cast<quintptr>(length)) / page * page;
    if (end > begin)
        madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
#else
    Q_UNUSED(offset);
    Q_UNUSED(length);
#endif
}

bool MappedFile::readAt(qint64 offset, uchar *out, qint64 length) const
{
    if (!contains(offset, length))
        return false;
#ifdef Q_OS_UNIX
    qint64 done = 0;
    while (done < length) {
        const ssize_t n = ::pread(m_file.handle(), out + done, static_cast<size_t>(length - done), static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
#else
    std::memcpy(out, m_data + offset, static_cast<size_t>(length));
    return true;
#endif
}

MappedFile::~MappedFile()
{
    if (m_data != nullptr)
        m_file.unmap(const_cast<uchar *>(m_data));
}

} // namespace graft
