#pragma once
// The header of a numpy .npy record (numpy/lib/_format_impl.py), parsed from untrusted bytes.
//
// Layout:
//   "\x93NUMPY" major minor                 8 bytes
//   header length: u16 (v1.0) or u32 (v2.0, v3.0), little-endian
//   header: a Python dict literal, latin-1 (v1, v2) or UTF-8 (v3), e.g.
//     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//   padded with spaces and a final '\n' so the data starts on a multiple of 64 (16 before 1.14)
//   data: numel * itemsize bytes, C or Fortran order
// The dict is read by a small strict parser for exactly that literal, never evaluated.

#include "checkpoint/checkpoint.h"
#include "base/dtype.h"
#include "base/result.h"

#include <QByteArray>

#include <optional>

namespace graft {

struct NpyHeader {
    DType dtype = DType::Float32;
    bool bigEndian = false;
    bool fortranOrder = false;
    Shape shape;
    qint64 dataOffset = 0;   ///< bytes from the record's first byte to its data
    int majorVersion = 1;
    int minorVersion = 0;

    qint64 numel() const;
    qint64 nbytes() const;
    /// Element strides: C order, or reversed for fortran_order.
    Shape strides() const;
};

/// Longest header accepted. numpy's own np.load refuses more than 10,000 bytes by default.
constexpr qint64 kMaxNpyHeaderLength = 1 << 20;

/// Reads only the magic, version and header length at `data` and returns the data offset
/// (bytes from `data` to the array data). Needs at least 12 bytes. Used to learn how many
/// bytes of a compressed member to inflate before parsing its header.
/// Errors carry no file name; callers add it.
Result<qint64> npyDataOffset(const uchar *data, qint64 size);

/// Parses the record header at `data`; `size` is every byte available from there on (the
/// header must lie inside it; the array data need not). A void descr is how np.save spells the
/// dtypes numpy lacks ('<V2' for an ml_dtypes bfloat16 array): when `voidAs` is such a dtype
/// (bfloat16, float8) of the same itemsize, the record is read as `voidAs`; otherwise a void
/// descr is an error. Object arrays ('|O') are refused: they are pickles.
/// The shape's byte size is checked for overflow, not against the data available.
/// Errors carry no file name; callers add it.
Result<NpyHeader> parseNpyHeader(const uchar *data, qint64 size, std::optional<DType> voidAs = std::nullopt);

/// numpy's descr for a dtype as np.save writes it ("<f4", "|b1", "<V2" for bfloat16...).
QByteArray npyDescr(DType dtype);

/// The exact header bytes numpy 1.24's np.save writes for a C-order array of this dtype and
/// shape (version 1.0; the data follows directly). At most 64 dimensions.
QByteArray formatNpyHeader(DType dtype, const Shape &shape);

} // namespace graft
