#pragma once
// The records of an Equinox .eqx file (eqx.tree_serialise_leaves): one .npy record per saved
// leaf, back to back, with no names, no count and no file header (layout in npyheader.h).
// readEqx() (readers.h) turns them into tensors "[0]", "[1]", ...; the skeleton reader calls
// readEqxRecords() directly to match them with its leaves.

#include "base/dtype.h"
#include "base/mappedfile.h"
#include "checkpoint/formats/npyheader.h"

#include <optional>
#include <vector>

namespace graft {

/// One record of an .eqx file.
struct EqxRecord {
    NpyHeader header;
    qint64 offset = 0;      ///< first byte of the record in the file
    qint64 dataOffset = 0;  ///< first byte of its data in the file
    /// Read with `standInForVoid`: the descr is void ('<V2') and header.dtype only a stand-in of
    /// its itemsize; the caller names the dtype (resolveVoidRecord).
    bool voidDescr = false;
};

/// More records than this is taken as a corrupt file, not a model.
constexpr qint64 kMaxEqxRecords = 10'000'000;

/// Parses every record of `file`, which must end exactly after the last one's data (an empty
/// file has no records). `voidAs[i]` (when given) is the dtype record i's void descr stands for,
/// e.g. bfloat16 for '<V2' (see parseNpyHeader). Errors name the file, the record index and the
/// byte offset.
/// With `standInForVoid`, a void descr whose itemsize a void-spelled dtype has (bfloat16, float8)
/// is read as a stand-in of that size and marked voidDescr: the records can be walked before
/// anyone knows their dtypes (the skeleton reader parses its leaves meanwhile).
Result<std::vector<EqxRecord>> readEqxRecords(const MappedFile &file,
                                              const std::vector<std::optional<DType>> &voidAs = {},
                                              bool standInForVoid = false);

/// Gives a voidDescr record of `file` the dtype its leaf names, or the error readEqxRecords()
/// would have given with that dtype in `voidAs` (it names the file, record and byte).
Status resolveVoidRecord(const MappedFile &file, qint64 index, EqxRecord &record, DType named);

} // namespace graft
