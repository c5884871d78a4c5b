#include "checkpoint/deferredrecordchecks.h"

namespace graft {
namespace {

thread_local DeferredRecordChecks *t_current = nullptr;

} // namespace

DeferredRecordChecks::DeferredRecordChecks() : m_previous(t_current) { t_current = this; }

DeferredRecordChecks::~DeferredRecordChecks()
{
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
        m_abandon = true;
    }
    m_wake.notify_all();
    if (m_worker.joinable())
        m_worker.join();
    t_current = m_previous;
}

DeferredRecordChecks *DeferredRecordChecks::current() { return t_current; }

void DeferredRecordChecks::defer(const Checkpoint &checkpoint, int segment, const QString &key)
{
    const qint64 bytes = checkpoint.segments()[static_cast<size_t>(segment)].size;
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back({checkpoint, segment, key});
        m_queuedBytes += bytes;
        if (!m_worker.joinable())
            m_worker = std::thread([this] { run(); });
        // The worker sleeps until there is enough to do (or finish() is called): woken for each
        // small record, it checked it at once and slept again, and the futex wake per record was
        // a tenth of writing a 100k-tensor checkpoint (W6). A big record wakes it at once, so
        // its check overlaps its copy (W2).
        wake = m_idle && (m_queuedBytes >= kWakeBytes || m_queue.size() >= kWakeRecords);
    }
    if (wake)
        m_wake.notify_one();
}

void DeferredRecordChecks::run()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        while (!m_closing && m_queue.empty()) {
            m_idle = true;
            m_wake.wait(lock);
            m_idle = false;
        }
        if (m_abandon || (m_queue.empty() && m_closing))
            return;
        // Everything queued so far, taken at once: the writer then queues into an empty deque
        // without meeting the worker at the lock for every record.
        std::deque<Pending> batch;
        batch.swap(m_queue);
        m_queuedBytes = 0;
        if (m_failure)
            continue; // one corrupt record fails the write: the rest need not be read
        lock.unlock();
        std::optional<Error> failure;
        for (const Pending &pending : batch) {
            if (m_abandon.load(std::memory_order_relaxed))
                break;
            // Remembered per record: a record shared by several tensors is read once.
            if (Status checked = pending.checkpoint.verifySegment(pending.segment); !checked) {
                failure = Error{checked.error().file, QStringLiteral("tensor '%1': %2").arg(pending.key, checked.error().message)};
                break;
            }
        }
        lock.lock();
        if (failure && !m_failure)
            m_failure = std::move(failure);
    }
}

Status DeferredRecordChecks::finish()
{
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
    }
    m_wake.notify_all();
    if (m_worker.joinable())
        m_worker.join();
    std::lock_guard lock(m_mutex);
    if (m_failure)
        return *m_failure;
    return Status::success();
}

} // namespace graft
