#include "tensor/bytesource.h"

#include "checkpoint/formats/recordchecksum.h"

#include <algorithm>
#include <cstring>

namespace graft {

const uchar *ByteSource::bytes(const TensorData &tensor, qint64 offset, qint64 length)
{
    const uchar *mapped = tensor.data + offset;
    if (tensor.file == nullptr)
        return mapped;
    if (m_capacity < length) {
        m_buffer = std::make_unique_for_overwrite<uchar[]>(static_cast<size_t>(length));
        m_capacity = length;
    }
    return tensor.file->readAt(mapped - tensor.file->data(), m_buffer.get(), length) ? m_buffer.get() : mapped;
}

bool sameBytes(const TensorData &a, const TensorData &b, qint64 bytes, quint32 *crcA, quint32 *crcB)
{
    constexpr qint64 kStep = qint64(1) << 22;
    ByteSource left, right;
    quint32 sumA = 0, sumB = 0;
    for (qint64 offset = 0; offset < bytes; offset += kStep) {
        const qint64 length = std::min(kStep, bytes - offset);
        const uchar *x = left.bytes(a, offset, length);
        const uchar *y = right.bytes(b, offset, length);
        if (std::memcmp(x, y, static_cast<size_t>(length)) != 0)
            return false;
        if (crcA != nullptr)
            sumA = crc32Update(sumA, x, length);
        if (crcB != nullptr)
            sumB = crc32Update(sumB, y, length);
    }
    if (crcA != nullptr)
        *crcA = sumA;
    if (crcB != nullptr)
        *crcB = sumB;
    return true;
}

} // namespace graft
