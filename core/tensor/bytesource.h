#pragma once
// Internal to the statistics (tensorstats.h): a tensor's raw bytes, a range at a time.

#include "tensor/tensorstats.h"

#include <memory>

namespace graft {

/// A tensor's raw bytes, a range at a time. From a mapped file they are copied with pread
/// into a buffer this reader reuses, not read through the map: on this VM, streaming 1.15 GB
/// through the map cost about 3x a copy (a TLB miss per 4 KB page, each a two-level walk under
/// virtualisation, plus a fault per 64 KB) and left all of it in the process's RSS; the
/// kernel's copy uses its own huge-page mapping, like `cat`. If pread fails the map is used.
class ByteSource {
public:
    /// `length` bytes of `tensor` from byte `offset`; valid until the next call.
    const uchar *bytes(const TensorData &tensor, qint64 offset, qint64 length);

private:
    std::unique_ptr<uchar[]> m_buffer; // not zeroed: pread fills what is used
    qint64 m_capacity = 0;
};

/// Whether the first `bytes` bytes of `a` and `b` are the same (memcmp, a few MB at a time).
/// When they are and `crcA`/`crcB` are given, also the CRC-32 of those bytes of each.
bool sameBytes(const TensorData &a, const TensorData &b, qint64 bytes, quint32 *crcA = nullptr, quint32 *crcB = nullptr);

} // namespace graft
