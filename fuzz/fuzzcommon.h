#pragma once
// Shared helpers of the libFuzzer harnesses: readers take a memory-mapped file, so each input is
// written to a file in a per-process folder under /dev/shm (tmpfs: no disk I/O) and opened the
// way a user's file is. Companion files (skeleton leaves, safetensors shards) are copied there
// once from GRAFT_FUZZ_FIXTURES.

#include "checkpoint/checkpoint.h"
#include "checkpoint/formats/readers.h"
#include "checkpoint/formats/ziparchive.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

namespace graft::fuzz {

/// The harness's own scratch folder, created on first use.
inline const QString &scratchDir()
{
    static const QString dir = [] {
        const QString path = QStringLiteral("/dev/shm/graft-fuzz-%1").arg(::getpid());
        QDir().mkpath(path);
        return path;
    }();
    return dir;
}

/// Copies fixture `relativePath` (under GRAFT_FUZZ_FIXTURES) into the scratch folder once.
inline void copyFixture(const QString &relativePath)
{
    const QString source = QStringLiteral(GRAFT_FUZZ_FIXTURES "/") + relativePath;
    const QString target = scratchDir() + QLatin1Char('/') + relativePath.section(QLatin1Char('/'), -1);
    if (!QFile::exists(target) && !QFile::copy(source, target))
        abort(); // a missing companion would make every input fail the same way: stop early
}

/// Writes the input to scratchDir()/name and returns the path.
inline QString writeInput(const uint8_t *data, size_t size, const QString &name)
{
    const QString path = scratchDir() + QLatin1Char('/') + name;
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        abort();
    if (size > 0 && file.write(reinterpret_cast<const char *>(data), static_cast<qint64>(size)) != static_cast<qint64>(size))
        abort();
    return path;
}

/// Reads every tensor the index accepted (bounded), touching first and last byte, so that a
/// bad offset the index let through shows up as an ASan report here.
/// The bound is 64 tensors and 16 MiB of materialised bytes per input in all. (It was 16 MiB
/// per tensor until round 3: torchpickle inputs with dozens of expanded, stride-0 tensors then
/// made one execution allocate up to 1 GiB, peak RSS passed half of -rss_limit_mb, and libFuzzer
/// purged ASan's allocator every second -- 36% of the run in `perf`, and 600 exec/s.)
inline void exercise(const Checkpoint &checkpoint)
{
    volatile uchar sink = 0;
    int count = 0;
    qint64 budget = qint64(16) << 20;
    for (size_t i = 0; i < checkpoint.tensors().size() && count < 64; ++i) {
        const qint64 nbytes = checkpoint.tensors()[i].nbytes();
        if (nbytes > budget)
            continue;
        budget -= nbytes;
        ++count;
        Result<TensorBytes> bytes = checkpoint.read(static_cast<int>(i));
        if (bytes && bytes->size() > 0)
            sink = sink + bytes->data()[0] + bytes->data()[bytes->size() - 1];
    }
    for (const OtherEntry &other : checkpoint.others())
        sink = sink + static_cast<uchar>(other.summary.size());
}

/// A stored (uncompressed) zip of these members, CRCs right: the torch container template.
inline QByteArray storedZip(const std::vector<std::pair<QByteArray, QByteArray>> &members)
{
    auto u16 = [](QByteArray &out, quint32 v) { out.append(char(v & 0xff)).append(char((v >> 8) & 0xff)); };
    auto u32 = [&](QByteArray &out, quint32 v) { u16(out, v & 0xffff); u16(out, v >> 16); };
    QByteArray out, central;
    for (const auto &[name, bytes] : members) {
        const quint32 crc = static_cast<quint32>(::crc32(0, reinterpret_cast<const Bytef *>(bytes.constData()), static_cast<uInt>(bytes.size())));
        const quint32 offset = static_cast<quint32>(out.size());
        u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, 0); u16(out, 0); u16(out, 0x21);
        u32(out, crc); u32(out, bytes.size()); u32(out, bytes.size()); u16(out, name.size()); u16(out, 0);
        out += name;
        out += bytes;
        u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0); u16(central, 0);
        u16(central, 0); u16(central, 0x21); u32(central, crc); u32(central, bytes.size()); u32(central, bytes.size());
        u16(central, name.size()); u16(central, 0); u16(central, 0); u16(central, 0); u16(central, 0);
        u32(central, 0); u32(central, offset);
        central += name;
    }
    const quint32 centralOffset = static_cast<quint32>(out.size());
    out += central;
    u32(out, 0x06054b50); u16(out, 0); u16(out, 0); u16(out, members.size()); u16(out, members.size());
    u32(out, central.size()); u32(out, centralOffset); u16(out, 0);
    return out;
}

/// Writes `zip`, a template container holding the input (storedZip), and reads it as a torch zip.
/// The template must always open as a zip: anything else is the harness's own bug (abort).
inline void readTemplatedTorchZip(const QByteArray &zip, const QString &name)
{
    const QString path = writeInput(reinterpret_cast<const uint8_t *>(zip.constData()), static_cast<size_t>(zip.size()), name);
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file)
        return;
    Result<ZipArchive> archive = ZipArchive::read(*file);
    if (!archive)
        abort();
    Result<Checkpoint> checkpoint = readTorchZip(*file, *archive);
    if (checkpoint)
        exercise(*checkpoint);
}

} // namespace graft::fuzz
