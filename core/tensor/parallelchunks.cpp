#include "tensor/parallelchunks.h"

#include "base/parallelfor.h"

namespace graft {

int workersFor(qint64 count, int threads)
{
    const qint64 chunks = chunkCount(count);
    const int cores = threads > 0 ? threads : static_cast<int>(loopCores());
    return static_cast<int>(std::clamp<qint64>(threads > 0 ? chunks : chunks / 4, 1, cores));
}

Error cancelledError() { return Error{QString(), QStringLiteral("cancelled")}; }

} // namespace graft
