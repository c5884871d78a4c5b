// libFuzzer harness: a legacy (< 1.6) torch.save file: the pickle chain and the raw storages after it.
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.pth"));
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file)
        return 0;
    Result<Checkpoint> checkpoint = readTorchLegacy(*file);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
