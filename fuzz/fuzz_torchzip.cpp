// libFuzzer harness: a whole torch.save zip (container + data.pkl + storages), read as
// openCheckpoint() reads it, and checked against reading data.pkl after the directory.
#include "fuzzcommon.h"
#include "checkpoint/formats/earlypickle.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.pth"));
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file)
        return 0;
    // As openCheckpoint() reads it (data.pkl unpickled while the directory is read), at any size.
    std::optional<EarlyPickle> early;
    Result<ZipArchive> archive = readZipUnpicklingFirst(*file, early, 0);
    if (!archive)
        return 0;
    Result<Checkpoint> checkpoint = readTorchZip(*file, *archive, early ? &*early : nullptr);
    // The early result, used or dropped, changes nothing: the same checkpoint or error as in turn.
    if (early) {
        Result<Checkpoint> inTurn = readTorchZip(*file, *archive);
        if (checkpoint.ok() != inTurn.ok())
            abort();
        if (checkpoint ? checkpoint->tensors().size() != inTurn->tensors().size() : checkpoint.error().message != inTurn.error().message)
            abort();
    }
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
