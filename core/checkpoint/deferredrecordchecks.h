#pragma once
// A writer's deferred record checks. While a DeferredRecordChecks is alive on a thread,
// Checkpoint::read() on that thread returns the bytes of a stored zip record not yet known good
// at once and hands the record's CRC-32 check to this object, which runs it on a thread of its
// own while the writer copies. finish() waits for every check and returns the first failure.
// A writer commits its output only after finish() succeeded, so a corrupt record still never
// reaches a destination; the check overlaps the copy instead of preceding it (W2: the copy is the
// kernel's, copy_file_range, and the check the only pass over the bytes in this process).

#include "checkpoint/checkpoint.h"

#include <atomic>
#include <condition_variable>
#include <optional>
#include <deque>
#include <mutex>
#include <thread>

namespace graft {

class DeferredRecordChecks {
public:
    /// Becomes this thread's current scope (the one before comes back when this one dies).
    DeferredRecordChecks();
    /// Stops checking what is still queued, waits for the check running, and steps down.
    ~DeferredRecordChecks();
    DeferredRecordChecks(const DeferredRecordChecks &) = delete;
    DeferredRecordChecks &operator=(const DeferredRecordChecks &) = delete;

    /// This thread's scope, or nullptr: Checkpoint::read() checks at once without one.
    static DeferredRecordChecks *current();

    /// Makes `scope` (may be nullptr) the current one of the thread that builds it, for as long as
    /// it lives: a writer's helper thread that reads leaves defers their checks to the writer's
    /// scope, which must outlive the Adoption.
    class Adoption {
    public:
        explicit Adoption(DeferredRecordChecks *scope);
        ~Adoption();
        Adoption(const Adoption &) = delete;
        Adoption &operator=(const Adoption &) = delete;

    private:
        DeferredRecordChecks *m_previous;
    };

    /// Queues the check of `checkpoint`'s segment `segment`, read for tensor `key`.
    void defer(const Checkpoint &checkpoint, int segment, const QString &key);
    /// Waits for every queued check; the first failure (naming the file, tensor and record).
    Status finish();

private:
    struct Pending {
        Checkpoint checkpoint; // a copy shares the index: cheap, and keeps it alive
        int segment = -1;
        QString key;
    };
    void run();
    /// The end of the run of small stored records of one file, in file order and near each other,
    /// that starts at batch[from] (from + 1 when that record is not one).
    static size_t smallRecordRun(const std::deque<Pending> &batch, size_t from);
    static constexpr qint64 kSmallRecord = qint64(64) << 10;
    static constexpr qint64 kSpanBytes = qint64(1) << 20;
    std::vector<uchar> m_span; ///< the worker's buffer for a run of small records

    DeferredRecordChecks *m_previous = nullptr;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Pending> m_queue;
    static constexpr qint64 kWakeBytes = qint64(1) << 20;
    static constexpr size_t kWakeRecords = 256;
    qint64 m_queuedBytes = 0; ///< bytes of the records queued since the worker last took them
    bool m_idle = false;     ///< the worker waits for work (defer() must wake it)
    bool m_closing = false;  ///< no more work will come: drain the queue and stop
    std::atomic<bool> m_abandon = false; ///< stop without checking what is queued (the write failed)
    std::optional<Error> m_failure;
    std::thread m_worker;    ///< started by the first defer()
};

} // namespace graft
