// libFuzzer harness: the allowlist unpickler on raw bytes (no container).
#include "fuzzcommon.h"
#include "checkpoint/formats/pickle.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Result<Unpickled> result = unpickle(data, static_cast<qint64>(size));
    if (result && result->root) {
        (void)pickleSummary(result->root);
        (void)pickleTypeName(result->root);
    }
    return 0;
}
