// libFuzzer harness: a Graft skeleton JSON next to the fixtures' real leaves files.
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bool leaves = [] {
        fuzz::copyFixture(QStringLiteral("tiny_vgg.eqx"));
        fuzz::copyFixture(QStringLiteral("bf16_skeleton.eqx"));
        return true;
    }();
    (void)leaves;
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.skeleton.json"));
    Result<Checkpoint> checkpoint = readSkeleton(path);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
