#include "checkpoint/checkpointverifier.h"

#include <new>

namespace graft {

Result<VerifyReport> verifyCheckpoint(const Checkpoint &checkpoint)
{
    VerifyReport report;
    const std::vector<TensorEntry> &tensors = checkpoint.tensors();
    std::vector<bool> segmentSeen(checkpoint.segments().size(), false);
    try {
        for (size_t i = 0; i < tensors.size(); ++i) {
            Result<TensorBytes> bytes = checkpoint.read(static_cast<int>(i));
            if (!bytes)
                return bytes.error();
            ++report.tensors;
            report.bytes += bytes->size();
            const size_t segment = static_cast<size_t>(tensors[i].segment);
            if (!segmentSeen[segment] && checkpoint.segments()[segment].hasCrc32)
                ++report.checkedRecords;
            segmentSeen[segment] = true;
        }
    } catch (const std::bad_alloc &) {
        return Error{checkpoint.path(), QStringLiteral("not enough memory to read tensor #%1").arg(report.tensors)};
    }
    return report;
}

} // namespace graft
