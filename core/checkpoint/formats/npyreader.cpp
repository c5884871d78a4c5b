// readNpy: one .npy file (layout in npyheader.h) as a one-tensor checkpoint keyed by its stem.

#include "checkpoint/formats/npyheader.h"
#include "checkpoint/formats/readers.h"

#include <QFileInfo>

namespace graft {

Result<Checkpoint> readNpy(const MappedFilePtr &file)
{
    const QString &path = file->path();
    Result<NpyHeader> header = parseNpyHeader(file->data(), file->size());
    if (!header)
        return Error{path, header.error().message};
    // Data shorter than the shape claims is an error; trailing bytes are allowed, as np.load does.
    const qint64 nbytes = header->nbytes();
    if (nbytes > file->size() - header->dataOffset)
        return Error{path, QStringLiteral("shape %1 of %2 needs %3 bytes of data after the %4-byte header, "
                                          "but the file holds %5")
                               .arg(shapeToString(header->shape), dtypeName(header->dtype))
                               .arg(nbytes).arg(header->dataOffset).arg(file->size() - header->dataOffset)};

    QString key = QFileInfo(path).fileName();
    if (key.endsWith(QLatin1String(".npy"), Qt::CaseInsensitive))
        key.chop(4);

    Checkpoint checkpoint(path, CheckpointFormat::Npy);
    Segment segment;
    segment.file = checkpoint.addFile(file);
    segment.offset = header->dataOffset;
    segment.size = nbytes;
    TensorEntry entry;
    entry.key = key;
    entry.dtype = header->dtype;
    entry.shape = header->shape;
    entry.strides = header->strides();
    entry.segment = checkpoint.addSegment(segment);
    entry.bigEndian = header->bigEndian;
    if (Status status = checkpoint.addTensor(std::move(entry)); !status)
        return status.error();
    return checkpoint;
}

} // namespace graft
