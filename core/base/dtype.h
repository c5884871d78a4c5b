#pragma once
// Element types of tensors, with the names Graft prints (numpy's spelling) and their sizes.

#include <QString>

#include <optional>

namespace graft {

enum class DType : quint8 {
    Bool,
    UInt8,
    Int8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    BFloat16,
    Float32,
    Float64,
    Complex64,
    Complex128,
    Float8E4M3,
    Float8E5M2,
};

/// "float32", "bfloat16", "float8_e4m3fn", ... as in the CLI contract.
QString dtypeName(DType dtype);
/// Inverse of dtypeName(); std::nullopt for unknown names.
std::optional<DType> dtypeFromName(const QString &name);
/// Bytes per element.
int dtypeSize(DType dtype);
bool isFloatingPoint(DType dtype);
bool isComplex(DType dtype);

} // namespace graft
