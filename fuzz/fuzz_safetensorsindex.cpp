// libFuzzer harness: a model.safetensors.index.json next to the two real shards of the fixture.
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bool shards = [] {
        fuzz::copyFixture(QStringLiteral("sharded/model-00001-of-00002.safetensors"));
        fuzz::copyFixture(QStringLiteral("sharded/model-00002-of-00002.safetensors"));
        return true;
    }();
    (void)shards;
    const QString path = fuzz::writeInput(data, size, QStringLiteral("model.safetensors.index.json"));
    Result<Checkpoint> checkpoint = readSafetensorsIndex(path);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
