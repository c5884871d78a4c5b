// libFuzzer harness: the .npy header parser on raw bytes, plain and with a void dtype expected.
#include "fuzzcommon.h"
#include "checkpoint/formats/npyheader.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const qint64 length = static_cast<qint64>(size);
    (void)parseNpyHeader(data, length);
    (void)parseNpyHeader(data, length, DType::BFloat16);
    if (length >= 12)
        (void)npyDataOffset(data, length);
    return 0;
}
