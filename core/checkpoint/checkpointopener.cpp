#include "checkpoint/checkpointopener.h"

#include "checkpoint/formats/earlypickle.h"
#include "checkpoint/formats/readers.h"

#include <QFileInfo>

#include <cstring>
#include <new>

namespace graft {
namespace {

bool startsWith(const MappedFile &file, const char *magic, qint64 length)
{
    return file.size() >= length && std::memcmp(file.data(), magic, static_cast<size_t>(length)) == 0;
}

// safetensors: u64 header length, then a JSON object.
bool looksLikeSafetensors(const MappedFile &file)
{
    if (file.size() < 10)
        return false;
    quint64 headerSize = 0;
    std::memcpy(&headerSize, file.data(), 8);
    return headerSize >= 2 && headerSize <= static_cast<quint64>(file.size() - 8) && file.data()[8] == '{';
}

// Legacy torch files start with a protocol-2 pickle of the magic number (PROTO 2, LONG1).
bool looksLikeLegacyTorch(const MappedFile &file) { return startsWith(file, "\x80\x02\x8a\x0a", 4); }

// Flax msgpack: a map (fixmap, map16, map32) whose first key is a str, or an empty fixmap alone.
// (A pickle starts 0x80 too, followed by its protocol number, never a str header.)
bool looksLikeMsgpackMap(const MappedFile &file)
{
    const uchar *data = file.data();
    qint64 header = 0;
    if (data[0] >= 0x80 && data[0] <= 0x8f)
        header = 1;
    else if (data[0] == 0xde)
        header = 3;
    else if (data[0] == 0xdf)
        header = 5;
    else
        return false;
    if (data[0] == 0x80)
        return file.size() == 1;
    if (file.size() <= header)
        return false;
    const uchar key = data[header];
    return (key >= 0xa0 && key <= 0xbf) || key == 0xd9 || key == 0xda || key == 0xdb;
}

} // namespace

static Result<Checkpoint> openCheckpointUnguarded(const QString &path)
{
    const QString name = QFileInfo(path).fileName();
    if (name.endsWith(QLatin1String(".json"), Qt::CaseInsensitive)) {
        if (name.endsWith(QLatin1String(".index.json"), Qt::CaseInsensitive))
            return readSafetensorsIndex(path);
        return readSkeleton(path);
    }

    Result<MappedFilePtr> mapped = MappedFile::open(path);
    if (!mapped)
        return mapped.error();
    const MappedFilePtr &file = *mapped;
    if (file->size() == 0)
        return Error{path, QStringLiteral("the file is empty")};

    if (ZipArchive::looksLikeZip(*file)) {
        // torch.save's data.pkl comes first: unpickled while another core reads the directory.
        std::optional<EarlyPickle> early;
        Result<ZipArchive> archive = readZipUnpicklingFirst(file, early);
        if (!archive)
            return archive.error();
        for (const ZipEntry &entry : archive->entries()) {
            if (entry.name == QLatin1String("data.pkl") || entry.name.endsWith(QLatin1String("/data.pkl")) || isTorchScriptMember(entry.name))
                return readTorchZip(file, *archive, early ? &*early : nullptr);
        }
        return readNpz(file, *archive);
    }
    if (startsWith(*file, "\x93NUMPY", 6)) {
        if (name.endsWith(QLatin1String(".npy"), Qt::CaseInsensitive))
            return readNpy(file);
        return readEqx(file);
    }
    if (looksLikeLegacyTorch(*file))
        return readTorchLegacy(file);
    if (looksLikeSafetensors(*file))
        return readSafetensors(file);
    if (looksLikeMsgpackMap(*file) || name.endsWith(QLatin1String(".msgpack"), Qt::CaseInsensitive))
        return readFlaxMsgpack(file);
    if (file->data()[0] == '{')
        return readSkeleton(path);
    return Error{path, QStringLiteral("not a recognised checkpoint (expected a PyTorch, safetensors, "
                                      "npy/npz, .eqx, Flax msgpack or Graft skeleton file)")};
}

Result<Checkpoint> openCheckpoint(const QString &path)
{
    // Readers cap what a file may make them allocate, but a file within the caps can still ask
    // for more than this machine has: that is an error about the file, never a crash.
    try {
        return openCheckpointUnguarded(path);
    } catch (const std::bad_alloc &) {
        return Error{path, QStringLiteral("not enough memory to open it")};
    }
}

} // namespace graft
