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
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back({checkpoint, segment, key});
        if (!m_worker.joinable())
            m_worker = std::thread([this] { run(); });
    }
    m_wake.notify_one();
}

void DeferredRecordChecks::run()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_closing || !m_queue.empty(); });
        if (m_abandon || (m_queue.empty() && m_closing))
            return;
        Pending pending = std::move(m_queue.front());
        m_queue.pop_front();
        if (m_failure)
            continue; // one corrupt record fails the write: the rest need not be read
        lock.unlock();
        // Remembered per record: a record shared by several tensors is read once.
        Status checked = pending.checkpoint.verifySegment(pending.segment);
        lock.lock();
        if (!checked && !m_failure)
            m_failure = Error{checked.error().file,
                              QStringLiteral("tensor '%1': %2").arg(pending.key, checked.error().message)};
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
