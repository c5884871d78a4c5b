// LeafStream: the leaves of a write in order, the small ones produced ahead on a thread of their
// own while this one writes (see formatwriters.h for the promises on memory and order).

#include "checkpoint/writers/formatwriters.h"

#include "checkpoint/deferredrecordchecks.h"

#include <QScopeGuard>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace graft::writers {
namespace {

/// One leaf as the producing thread hands it over.
struct ProducedLeaf {
    std::optional<Result<TensorBytes>> bytes;
    std::exception_ptr thrown; ///< produce() threw (std::bad_alloc): rethrown on the writing thread
    qint64 budget = 0;         ///< bytes it holds of kAheadBytes (0 for a large leaf)
};

/// What the two threads share, under `mutex`. Each side sleeps only when it must and is woken
/// only when it sleeps (a wake-up is a system call: 100k leaves). A producer stopped by the
/// budget resumes once half of it is free again, not after every leaf written.
struct Handover {
    std::mutex mutex;
    std::condition_variable produced;  ///< the writer waits on it for a leaf
    std::condition_variable released;  ///< the producer waits on it for room (or the stop)
    std::deque<ProducedLeaf> ready;    ///< produced, in order, not yet taken by the writer
    qint64 heldBytes = 0;              ///< budget of the leaves produced and not yet written and reported
    size_t heldLeaves = 0;
    bool writerWaits = false;
    bool producerWaits = false;
    bool stop = false;                 ///< the writer stopped (an error, a cancel): produce no more

    bool roomFor(bool small, qint64 bytes, qint64 maxBytes, size_t maxLeaves) const
    {
        return heldLeaves == 0 || (small && heldBytes + bytes <= maxBytes && heldLeaves < maxLeaves);
    }
};

} // namespace

Result<TensorBytes> LeafStream::produce(size_t index) const
{
    const OutputLeaf &leaf = m_leaves[index];
    if (!leaf.produce)
        return Error{m_path, QStringLiteral("leaf '%1' has no data source").arg(leaf.key)};
    Result<TensorBytes> bytes = leaf.produce();
    if (!bytes)
        return Error{m_path, QStringLiteral("cannot produce leaf '%1': %2").arg(leaf.key, bytes.error().toString())};
    const qint64 expected = leafBytes(leaf);
    if (bytes->size() != expected)
        return Error{m_path, QStringLiteral("leaf '%1' produced %2 bytes, but %3 %4 needs %5")
                                 .arg(leaf.key).arg(bytes->size())
                                 .arg(dtypeName(leaf.spec.dtype), shapeToString(leaf.spec.shape)).arg(expected)};
    if (expected > 0 && bytes->data() == nullptr)
        return Error{m_path, QStringLiteral("leaf '%1' produced no data").arg(leaf.key)};
    return bytes;
}

Status LeafStream::finished(size_t index) const
{
    if (m_progress && !m_progress(static_cast<qint64>(index) + 1, static_cast<qint64>(m_leaves.size())))
        return Error{m_path, QStringLiteral("writing cancelled after %1 of %2 leaves; nothing was written")
                                 .arg(index + 1).arg(m_leaves.size())};
    return Status::success();
}

Status LeafStream::writeEach(const LeafWriter &write) const
{
    // Written one after the other, a 100k-leaf model spends as long producing its leaves (reads,
    // bf16 -> float32 casts) as writing them (W6); on two threads the two overlap. The source
    // records' deferred checks (DeferredRecordChecks) stay the writer's: the producer adopts them.
    Handover handover;
    std::thread producer([this, &handover, checks = DeferredRecordChecks::current()] {
        const DeferredRecordChecks::Adoption adoption(checks);
        for (size_t i = 0; i < m_leaves.size(); ++i) {
            const qint64 bytes = leafBytes(m_leaves[i]);
            const bool small = bytes >= 0 && bytes < kAheadLeafBytes;
            ProducedLeaf leaf;
            leaf.budget = small ? bytes : 0;
            {
                // A large leaf waits until every leaf before it is written and reported.
                std::unique_lock lock(handover.mutex);
                if (!handover.stop && !handover.roomFor(small, bytes, kAheadBytes, kAheadLeaves)) {
                    handover.producerWaits = true;
                    handover.released.wait(lock, [&] {
                        return handover.stop || handover.roomFor(small, bytes, kAheadBytes / 2, kAheadLeaves / 2);
                    });
                    handover.producerWaits = false;
                }
                if (handover.stop)
                    return;
                handover.heldBytes += leaf.budget;
                ++handover.heldLeaves;
            }
            try {
                leaf.bytes = produce(i);
            } catch (...) {
                leaf.thrown = std::current_exception();
            }
            const bool failed = leaf.thrown || !*leaf.bytes;
            bool wake = false;
            {
                std::lock_guard lock(handover.mutex);
                handover.ready.push_back(std::move(leaf));
                wake = handover.writerWaits;
            }
            if (wake)
                handover.produced.notify_one();
            if (failed)
                return; // the writer stops at this leaf
        }
    });
    const auto joinProducer = qScopeGuard([&handover, &producer] {
        {
            std::lock_guard lock(handover.mutex);
            handover.stop = true;
        }
        handover.released.notify_one();
        producer.join();
    });

    for (size_t i = 0; i < m_leaves.size(); ++i) {
        ProducedLeaf leaf;
        {
            std::unique_lock lock(handover.mutex);
            if (handover.ready.empty()) {
                handover.writerWaits = true;
                handover.produced.wait(lock, [&handover] { return !handover.ready.empty(); });
                handover.writerWaits = false;
            }
            leaf = std::move(handover.ready.front());
            handover.ready.pop_front();
        }
        if (leaf.thrown)
            std::rethrow_exception(leaf.thrown);
        if (!*leaf.bytes)
            return leaf.bytes->error();
        Status status = write(i, m_leaves[i], **leaf.bytes, WriteSubject::leaf(m_leaves[i].key));
        leaf.bytes.reset(); // this leaf's bytes are dropped before it is reported
        if (status)
            status = finished(i);
        bool wake = false;
        {
            std::lock_guard lock(handover.mutex);
            handover.heldBytes -= leaf.budget;
            --handover.heldLeaves;
            handover.stop = handover.stop || !status;
            wake = handover.producerWaits
                   && (handover.stop || handover.heldLeaves == 0
                       || (handover.heldBytes <= kAheadBytes / 2 && handover.heldLeaves <= kAheadLeaves / 2));
        }
        if (wake)
            handover.released.notify_one();
        if (!status)
            return status;
    }
    return Status::success();
}

} // namespace graft::writers
