#pragma once
// Internal to the statistics (tensorstats.h): how a tensor's values are cut into chunks
// (a thread task and a progress report each) and blocks (decoded at a time), and the threads
// that take the chunks.

#include "base/progress.h"
#include "base/result.h"

#include <QtGlobal>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace graft {

inline constexpr qint64 kChunkValues = qint64(1) << 16; // per thread task and progress report
inline constexpr qint64 kBlockValues = qint64(1) << 12;  // decoded at a time: 32 KB of doubles

/// Chunks of `count` values.
inline qint64 chunkCount(qint64 count) { return (count + kChunkValues - 1) / kChunkValues; }

/// Calls `block(offset, m)` for consecutive blocks of at most kBlockValues of a chunk of n values.
template <typename Block>
void forEachBlock(qint64 n, Block block)
{
    for (qint64 offset = 0; offset < n; offset += kBlockValues)
        block(offset, std::min(kBlockValues, n - offset));
}

/// Reports (done, total) and answers whether to go on.
class ChunkProgress {
public:
    ChunkProgress(const ProgressCallback &callback, qint64 total) : m_callback(callback), m_total(total) {}
    bool advance(qint64 values)
    {
        m_done += values;
        return !m_callback || m_callback(m_done, m_total);
    }

private:
    const ProgressCallback &m_callback;
    qint64 m_total;
    qint64 m_done = 0;
};

/// Threads for one tensor: the statistics are bound by arithmetic, not by the disk (the bytes
/// are mapped and usually cached), so each core takes chunks. Small tensors stay on one thread.
int workersFor(qint64 count, int threads);

/// The error of a cancelled computation.
Error cancelledError();

/// Calls `work(worker, chunk, first, n)` for every chunk of `count` values, on `workers`
/// threads (the calling thread is worker 0 and the only one that reports progress). Each
/// chunk's figures go to their own slot, so the caller merges them in chunk order and gets,
/// bit for bit, what one thread would. False when the progress callback cancelled.
template <typename Work>
bool forEachChunk(qint64 count, int workers, ChunkProgress &progress, Work work)
{
    const qint64 chunks = chunkCount(count);
    std::atomic<qint64> next{0};
    std::atomic<qint64> done{0};
    std::atomic<bool> cancelled{false};
    auto run = [&](int worker) {
        qint64 reported = 0;
        for (qint64 chunk = next++; chunk < chunks && !cancelled; chunk = next++) {
            const qint64 first = chunk * kChunkValues;
            const qint64 n = std::min(kChunkValues, count - first);
            work(worker, chunk, first, n);
            done += n;
            if (worker == 0) {
                const qint64 now = done;
                if (!progress.advance(now - reported))
                    cancelled = true;
                reported = now;
            }
        }
        return reported;
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(workers - 1));
    for (int worker = 1; worker < workers; ++worker)
        threads.emplace_back(run, worker);
    const qint64 reported = run(0);
    for (std::thread &thread : threads)
        thread.join();
    if (cancelled)
        return false;
    // Chunks other threads finished after worker 0's last report.
    return done == reported || progress.advance(done - reported);
}

} // namespace graft
