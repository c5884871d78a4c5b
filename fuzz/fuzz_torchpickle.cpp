// libFuzzer harness: data.pkl of a torch.save zip: the input is the pickle, wrapped in a valid
// container whose storages data/0..data/3 exist (4 KiB each), so mutations reach the tensor
// rebuild checks (offsets, strides, sizes against the storage) instead of the zip checks.
#include "fuzzcommon.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray storage(4096, char(0x3f));
    const QByteArray zip = fuzz::storedZip({
        {"archive/data.pkl", QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size))},
        {"archive/data/0", storage}, {"archive/data/1", storage}, {"archive/data/2", storage},
        {"archive/data/3", storage}, {"archive/version", "3\n"}});
    fuzz::readTemplatedTorchZip(zip, QStringLiteral("input.pth"));
    return 0;
}
