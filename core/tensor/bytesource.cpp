#include "tensor/bytesource.h"

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

bool sameBytes(const TensorData &a, const TensorData &b, qint64 bytes)
{
    constexpr qint64 kStep = qint64(1) << 22;
    ByteSource left, right;
    for (qint64 offset = 0; offset < bytes; offset += kStep) {
        const qint64 length = std::min(kStep, bytes - offset);
        if (std::memcmp(left.bytes(a, offset, length), right.bytes(b, offset, length), static_cast<size_t>(length)) != 0)
            return false;
    }
    return true;
}

} // namespace graft
