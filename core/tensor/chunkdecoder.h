#pragma once
// Internal to the statistics (tensorstats.h): a chunk of a tensor's values, a block at a time,
// as float32 lanes (float32, bfloat16, float16, complex64) or float64 lanes (everything else).

#include "tensor/blockkernels.h"
#include "tensor/bytesource.h"
#include "tensor/parallelchunks.h"
#include "tensor/tensorvalues.h"

#include <cstdint>
#include <cstring>
#include <memory>

namespace graft {

/// One chunk of a tensor's values: fetch() gets its bytes; floats() or doubles() give a block of
/// them, in place when the bytes already are aligned float32/float64, else widened into the
/// decoder's own block (so each is valid until the next call). Blocks are small (kBlockValues) so they stay in the core's cache
/// through the passes the figures make over them. Complex tensors are read as their float
/// components.
class ChunkDecoder {
public:
    /// Whether `dtype`'s values are read as float32 lanes (exact: every value fits a float).
    static bool floatLanes(DType dtype)
    {
        const DType type = valueType(dtype);
        return type == DType::Float32 || type == DType::BFloat16 || type == DType::Float16;
    }

    /// Gets the bytes of `count` values from value `first` on.
    void fetch(const TensorData &tensor, qint64 first, qint64 count)
    {
        m_type = valueType(tensor.dtype);
        m_rawSize = count * dtypeSize(m_type);
        m_raw = m_source.bytes(tensor, first * dtypeSize(m_type), m_rawSize);
    }

    /// The fetched chunk's bytes, as they are in the file.
    const uchar *raw() const { return m_raw; }
    qint64 rawSize() const { return m_rawSize; }

    /// `count` (≤ kBlockValues) values of the fetched chunk from value `offset` on as float32
    /// (floatLanes only).
    const float *floats(qint64 offset, qint64 count)
    {
        if (!m_floats)
            m_floats = std::make_unique_for_overwrite<float[]>(kBlockValues);
        float *scratch = m_floats.get();
        const uchar *bytes = m_raw + offset * dtypeSize(m_type);
        if (m_type == DType::BFloat16)
            widenBfloat16(bytes, count, scratch);
        else if (m_type == DType::Float16)
            widenFloat16(bytes, count, scratch);
        else if (reinterpret_cast<std::uintptr_t>(bytes) % alignof(float) == 0)
            return reinterpret_cast<const float *>(bytes);
        else
            std::memcpy(scratch, bytes, static_cast<size_t>(count) * sizeof(float));
        return scratch;
    }

    /// `count` (≤ kBlockValues) values of the fetched chunk from value `offset` on as float64.
    const double *doubles(qint64 offset, qint64 count)
    {
        if (!m_doubles)
            m_doubles = std::make_unique_for_overwrite<double[]>(kBlockValues);
        double *scratch = m_doubles.get();
        const uchar *bytes = m_raw + offset * dtypeSize(m_type);
        if (m_type == DType::Float64 && reinterpret_cast<std::uintptr_t>(bytes) % alignof(double) == 0)
            return reinterpret_cast<const double *>(bytes);
        decodeToDouble(bytes, m_type, count, scratch);
        return scratch;
    }

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
    qint64 m_rawSize = 0;
    std::unique_ptr<float[]> m_floats;   // not zeroed: widening fills what is used
    std::unique_ptr<double[]> m_doubles;
};

} // namespace graft
