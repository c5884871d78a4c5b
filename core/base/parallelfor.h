#pragma once
// A loop over independent slots on the machine's cores (std::thread: the core has no Qt
// Concurrent; a handful of threads for one loop, joined before it returns).

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace graft {

/// The cores loops may use (1 to 8), asked once: std::thread::hardware_concurrency() reads
/// /sys/devices/system/cpu/online on every call, and a loop per zip record (100k records when
/// converting a 100k-tensor checkpoint) spent a sixth of the conversion there.
inline size_t loopCores()
{
    static const size_t cores = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
    return cores;
}

/// Calls `fn(i)` for every i in [0, n), in contiguous slices on up to 8 threads (the calling
/// thread takes the first); `fn` must only write what belongs to i. Loops of fewer than
/// `minPerThread` items per thread stay on the calling thread. The result does not depend on the
/// thread count as long as `fn(i)` depends on i alone.
template <typename Fn>
void parallelFor(size_t n, Fn fn, size_t minPerThread = 2048)
{
    const size_t threads = std::clamp<size_t>(n / std::max<size_t>(minPerThread, 1), 1, loopCores());
    if (threads <= 1) {
        for (size_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    const size_t slice = (n + threads - 1) / threads;
    auto run = [&](size_t begin) {
        const size_t end = std::min(n, begin + slice);
        for (size_t i = begin; i < end; ++i)
            fn(i);
    };
    std::vector<std::thread> workers;
    workers.reserve(threads - 1);
    for (size_t t = 1; t < threads; ++t)
        workers.emplace_back(run, t * slice);
    run(0);
    for (std::thread &worker : workers)
        worker.join();
}

} // namespace graft
