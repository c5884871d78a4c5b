#pragma once
// Internal to the statistics (tensorstats.h): a chunk of a tensor's values, decoded to double
// a block at a time.

#include "tensor/bytesource.h"
#include "tensor/tensorvalues.h"

namespace graft {

/// One chunk of a tensor's values: fetch() gets its bytes, decode() turns a block of them into
/// doubles. Blocks are small (kBlockValues) so the decoded values stay in the core's cache
/// through the several passes the figures make over them. Complex tensors are read as their
/// float components.
class ChunkDecoder {
public:
    /// Gets the bytes of `count` values from value `first` on.
    void fetch(const TensorData &tensor, qint64 first, qint64 count)
    {
        m_type = valueType(tensor.dtype);
        m_raw = m_source.bytes(tensor, first * dtypeSize(m_type), count * dtypeSize(m_type));
    }
    /// Decodes `count` values of the fetched chunk from value `offset` on into `out`.
    void decode(qint64 offset, qint64 count, double *out) const { decodeToDouble(m_raw + offset * dtypeSize(m_type), m_type, count, out); }

private:
    static DType valueType(DType dtype)
    {
        if (dtype == DType::Complex64)
            return DType::Float32;
        if (dtype == DType::Complex128)
            return DType::Float64;
        return dtype;
    }

    ByteSource m_source;
    DType m_type = DType::Float32;
    const uchar *m_raw = nullptr;
};

} // namespace graft
