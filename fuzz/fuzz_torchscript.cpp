// libFuzzer harness: data.pkl of a TorchScript archive. The input is the pickle, put in place of
// data.pkl inside the fixture script_custom.pt (its real code/ class sources, constants.pkl,
// constants/ and data/ records), so mutations reach the TorchScript module walk: class lookups
// in code/, parameters and buffers against the declarations, module summaries, constants.
#include "fuzzcommon.h"
#include "checkpoint/formats/inflate.h"
#include "checkpoint/formats/readers.h"

using namespace graft;

namespace {

// The fixture's members other than data.pkl, read once.
const std::vector<std::pair<QByteArray, QByteArray>> &templateMembers()
{
    static const std::vector<std::pair<QByteArray, QByteArray>> members = [] {
        std::vector<std::pair<QByteArray, QByteArray>> list;
        Result<MappedFilePtr> file = MappedFile::open(QStringLiteral(GRAFT_FUZZ_FIXTURES "/script_custom.pt"));
        if (!file)
            abort(); // the template is missing: every input would fail the same way
        Result<ZipArchive> archive = ZipArchive::read(*file);
        if (!archive)
            abort();
        for (const ZipEntry &entry : archive->entries()) {
            if (entry.name == QLatin1String("script_custom/data.pkl"))
                continue;
            const uchar *data = (*file)->data() + entry.dataOffset;
            QByteArray bytes(reinterpret_cast<const char *>(data), static_cast<qsizetype>(entry.compressedSize));
            if (entry.method == 8) { // torch.jit.save deflates the code/ sources: stored here, so mutations stay cheap
                Result<std::vector<uchar>> inflated = inflateRaw(data, entry.compressedSize, entry.uncompressedSize);
                if (!inflated)
                    abort();
                bytes = QByteArray(reinterpret_cast<const char *>(inflated->data()), static_cast<qsizetype>(inflated->size()));
            }
            list.emplace_back(entry.name.toUtf8(), bytes);
        }
        return list;
    }();
    return members;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::vector<std::pair<QByteArray, QByteArray>> members = templateMembers();
    members.insert(members.begin(), {QByteArray("script_custom/data.pkl"), QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size))});
    const QByteArray zip = fuzz::storedZip(members);
    fuzz::readTemplatedTorchZip(zip, QStringLiteral("input.pt"));
    return 0;
}
