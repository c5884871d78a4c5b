#pragma once
// Which memo entries a pickle ever reads back, found before it is run.

#include <QtGlobal>

#include <unordered_set>
#include <vector>

namespace graft {

/// The memo indexes a pickle reads (GET, BINGET, LONG_BINGET), from one pass over its opcodes
/// up to STOP. A value stored (PUT, BINPUT, LONG_BINPUT, MEMOIZE) under an index nothing reads
/// is never needed again through the memo, so the unpickler does not keep it there and its
/// collector reclaims it once nothing else holds it. Picklers memoize every container and
/// string they write: torch.save stores about 9 values per tensor and reads back a handful
/// per file, and keeping them all was most of opening a 100k-tensor checkpoint's memory.
/// CPython's pickletools.optimize drops the same stores.
///
/// The pass only skips arguments; it builds nothing. When it cannot reach STOP (an unknown
/// opcode, truncated data, more reads than it tracks), every index counts as read and the
/// unpickler keeps everything, as without the pass; the unpickler then reports the fault.
class PickleMemoReads {
public:
    static PickleMemoReads scan(const uchar *data, qint64 size);

    /// True when the pickle reads memo entry `index` (or when the pass could not tell).
    bool isRead(quint64 index) const
    {
        if (m_all)
            return true;
        if (index < m_bits.size() * 64)
            return (m_bits[static_cast<size_t>(index / 64)] >> (index % 64)) & 1;
        return m_far.count(index) != 0;
    }
    /// False when the pass could not tell (every index then counts as read).
    bool complete() const { return !m_all; }

private:
    void addRead(quint64 index);

    // Indexes below kBitmapIndexes go to a bitmap (at most 2 MB), the rare others to a set of at
    // most kMaxFarReads entries; past that the pass gives up (every index counts as read).
    static constexpr quint64 kBitmapIndexes = quint64(1) << 24;
    static constexpr size_t kMaxFarReads = size_t(1) << 16;
    bool m_all = true;
    std::vector<quint64> m_bits;
    std::unordered_set<quint64> m_far;
};

} // namespace graft
