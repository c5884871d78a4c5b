// libFuzzer harness: a whole torch.save zip (container + data.pkl + storages).
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.pth"));
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file)
        return 0;
    Result<ZipArchive> archive = ZipArchive::read(*file);
    if (!archive)
        return 0;
    Result<Checkpoint> checkpoint = readTorchZip(*file, *archive);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
