#include "tensor/parallelchunks.h"

namespace graft {

std::unique_ptr<double[]> scratchValues(qint64 count)
{
    return std::make_unique_for_overwrite<double[]>(static_cast<size_t>(std::max<qint64>(1, std::min(count, kBlockValues))));
}

int workersFor(qint64 count, int threads)
{
    const qint64 chunks = chunkCount(count);
    const int cores = threads > 0 ? threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    return static_cast<int>(std::clamp<qint64>(threads > 0 ? chunks : chunks / 4, 1, cores));
}

Error cancelledError() { return Error{QString(), QStringLiteral("cancelled")}; }

} // namespace graft
