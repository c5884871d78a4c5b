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

DeferredRecordChecks::Adoption::Adoption(DeferredRecordChecks *scope) : m_previous(t_current) { t_current = scope; }

DeferredRecordChecks::Adoption::~Adoption() { t_current = m_previous; }

size_t DeferredRecordChecks::smallRecordRun(const std::deque<Pending> &batch, size_t from)
{
    const auto stored = [](const Segment &segment) {
        return segment.hasCrc32 && !segment.deflated && segment.pieces.empty() && segment.size <= kSmallRecord;
    };
    const Pending &first = batch[from];
    const Segment &start = first.checkpoint.segments()[static_cast<size_t>(first.segment)];
    if (!stored(start))
        return from + 1;
    const MappedFile *file = first.checkpoint.files()[static_cast<size_t>(start.file)].get();
    qint64 end = start.offset + start.size;
    size_t next = from + 1;
    for (; next < batch.size(); ++next) {
        const Pending &pending = batch[next];
        const Segment &segment = pending.checkpoint.segments()[static_cast<size_t>(pending.segment)];
        // In file order, close to the one before (a zip header apart), within one read's size.
        if (!stored(segment) || pending.checkpoint.files()[static_cast<size_t>(segment.file)].get() != file || segment.offset < end
            || segment.offset - end > kSmallRecord || segment.offset + segment.size - start.offset > kSpanBytes)
            break;
        end = segment.offset + segment.size;
    }
    return next;
}

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
        for (size_t i = 0; i < batch.size() && !failure;) {
            if (m_abandon.load(std::memory_order_relaxed))
                break;
            // Small stored records that follow each other in one file are read with one pread
            // (a 100k-tensor checkpoint: ~450 reads instead of 100k); any other record alone.
            const size_t end = smallRecordRun(batch, i);
            const Pending &first = batch[i];
            const std::vector<Segment> &segments = first.checkpoint.segments();
            const qint64 begin = segments[static_cast<size_t>(first.segment)].offset;
            const Segment &last = batch[end - 1].checkpoint.segments()[static_cast<size_t>(batch[end - 1].segment)];
            const qint64 spanBytes = last.offset + last.size - begin;
            const MappedFile &file = *first.checkpoint.files()[static_cast<size_t>(segments[static_cast<size_t>(first.segment)].file)];
            bool spanRead = false; // a failed read falls back to checking the records one by one
            if (end - i > 1) {
                m_span.resize(static_cast<size_t>(spanBytes));
                spanRead = file.readAt(begin, m_span.data(), spanBytes);
            }
            for (size_t k = i; k < end; ++k) {
                const Pending &pending = batch[k];
                const qint64 offset = pending.checkpoint.segments()[static_cast<size_t>(pending.segment)].offset;
                // Remembered per record: a record shared by several tensors is read once.
                Status checked = spanRead ? pending.checkpoint.verifySegment(pending.segment, m_span.data() + (offset - begin))
                                          : pending.checkpoint.verifySegment(pending.segment);
                if (!checked) {
                    failure = Error{checked.error().file, QStringLiteral("tensor '%1': %2").arg(pending.key, checked.error().message)};
                    break;
                }
            }
            i = end;
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
