// libFuzzer harness: a Flax msgpack (flax.serialization.to_bytes), through the reader alone.
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.msgpack"));
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file || (*file)->size() == 0)
        return 0;
    Result<Checkpoint> checkpoint = readFlaxMsgpack(*file);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
