#include "base/dtype.h"

#include <array>

namespace graft {
namespace {

struct DTypeInfo {
    DType dtype;
    const char *name;
    int size;
};

constexpr std::array<DTypeInfo, 17> kDTypes{{
    {DType::Bool, "bool", 1},
    {DType::UInt8, "uint8", 1},
    {DType::Int8, "int8", 1},
    {DType::Int16, "int16", 2},
    {DType::UInt16, "uint16", 2},
    {DType::Int32, "int32", 4},
    {DType::UInt32, "uint32", 4},
    {DType::Int64, "int64", 8},
    {DType::UInt64, "uint64", 8},
    {DType::Float16, "float16", 2},
    {DType::BFloat16, "bfloat16", 2},
    {DType::Float32, "float32", 4},
    {DType::Float64, "float64", 8},
    {DType::Complex64, "complex64", 8},
    {DType::Complex128, "complex128", 16},
    {DType::Float8E4M3, "float8_e4m3fn", 1},
    {DType::Float8E5M2, "float8_e5m2", 1},
}};

const DTypeInfo &info(DType dtype) { return kDTypes[static_cast<size_t>(dtype)]; }

} // namespace

QString dtypeName(DType dtype) { return QString::fromLatin1(info(dtype).name); }

std::optional<DType> dtypeFromName(const QString &name)
{
    for (const DTypeInfo &entry : kDTypes) {
        if (name == QLatin1String(entry.name))
            return entry.dtype;
    }
    return std::nullopt;
}

int dtypeSize(DType dtype) { return info(dtype).size; }

bool isFloatingPoint(DType dtype)
{
    switch (dtype) {
    case DType::Float16:
    case DType::BFloat16:
    case DType::Float32:
    case DType::Float64:
    case DType::Float8E4M3:
    case DType::Float8E5M2:
        return true;
    default:
        return false;
    }
}

bool isComplex(DType dtype) { return dtype == DType::Complex64 || dtype == DType::Complex128; }

} // namespace graft
