#include "base/mappedfilecursor.h"

#include <algorithm>

namespace graft {
namespace {

// The kernel maps the 64 KiB-aligned block around a fault (fault_around_bytes): whole blocks
// are released.
constexpr qint64 kBlock = qint64(64) << 10;
constexpr qint64 kSpan = qint64(4) << 20;

} // namespace

const uchar *MappedFileCursor::at(qint64 offset, qint64 length)
{
    if (!m_file->contains(offset, length))
        return nullptr;
    if (m_begin < 0 || offset < m_begin || offset > m_end + kBlock) {
        release();
        m_begin = offset;
        m_end = offset;
    }
    m_end = std::max(m_end, offset + length);
    if (m_end - m_begin >= kSpan)
        releaseBefore(offset); // (a released page read again faults in the same bytes)
    return m_file->data() + offset;
}

void MappedFileCursor::releaseBefore(qint64 keepFrom)
{
    const qint64 begin = m_begin / kBlock * kBlock;
    const qint64 end = keepFrom / kBlock * kBlock;
    if (end > begin)
        m_file->releasePages(begin, end - begin);
    m_begin = std::max(m_begin, end);
}

void MappedFileCursor::release()
{
    if (m_begin < 0)
        return;
    const qint64 begin = m_begin / kBlock * kBlock;
    const qint64 end = std::min(m_file->size(), (m_end + kBlock - 1) / kBlock * kBlock);
    if (end > begin)
        m_file->releasePages(begin, end - begin);
    m_begin = -1;
    m_end = -1;
}

} // namespace graft
