#include "mappedfile.h"

#include <QFileInfo>

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

MappedFile::~MappedFile()
{
    if (m_data != nullptr)
        m_file.unmap(const_cast<uchar *>(m_data));
}

} // namespace graft
