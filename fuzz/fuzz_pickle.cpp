// libFuzzer harness: the allowlist unpickler with the torch globals on raw bytes (no container).
#include "fuzzcommon.h"
#include "checkpoint/formats/torchglobals.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Result<Unpickled> result = unpickleTorch(data, static_cast<qint64>(size));
    if (result && result->root) {
        (void)pickleSummary(result->root);
        (void)pickleTypeName(result->root);
    }
    return 0;
}
