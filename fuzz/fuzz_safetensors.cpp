// libFuzzer harness: a .safetensors file (header length, JSON header, offsets vs data).
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.safetensors"));
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file)
        return 0;
    Result<Checkpoint> checkpoint = readSafetensors(*file);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
