// The transforms done without the tensor library (tensorengine.h, applyExactWidening): reshapes
// around one exact widening cast, bfloat16 or float16 to float32 (a shift of bits or a scale).
#include "tensor/blockkernels.h"
#include "tensor/tensorengine.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace graft {

namespace {

// The output spec when `chain` is reshapes around one exact widening cast of `input`.
std::optional<TensorSpec> wideningSpec(const TensorInput &input, const TransformChain &chain)
{
    const DType from = input.spec.dtype;
    if (from != DType::BFloat16 && from != DType::Float16)
        return std::nullopt;
    const auto isCast = [](const Transform &t) { return t.op == TransformOp::Cast; };
    const auto isReshape = [](const Transform &t) { return t.op == TransformOp::Reshape; };
    if (std::count_if(chain.begin(), chain.end(), isCast) != 1
        || !std::all_of(chain.begin(), chain.end(), [&](const Transform &t) { return isCast(t) || isReshape(t); }))
        return std::nullopt;
    const Transform &cast = *std::find_if(chain.begin(), chain.end(), isCast);
    if (cast.dtype != DType::Float32)
        return std::nullopt;
    // What inferTransforms() gives for reshapes and a cast, without copying the input's spec into
    // a list (100k leaves): the last reshape's shape, each keeping the element count.
    const qint64 count = checkedNumel(input.spec.shape, std::numeric_limits<qint64>::max() / 4);
    if (count < 0)
        return std::nullopt; // the engine reports what is wrong
    const Shape *shape = &input.spec.shape;
    for (const Transform &t : chain) {
        if (!isReshape(t))
            continue;
        if (checkedNumel(t.shape, std::numeric_limits<qint64>::max() / 4) != count)
            return std::nullopt;
        shape = &t.shape;
    }
    return TensorSpec{DType::Float32, *shape};
}

// Widens every element of `input` into `out` (numel floats).
void widen(const TensorInput &input, float *out)
{
    const qint64 count = checkedNumel(input.spec.shape, std::numeric_limits<qint64>::max() / 4);
    if (input.spec.dtype == DType::BFloat16) {
        widenBfloat16(input.data, count, out); // LibTorch shifts the bits too: NaNs stay as they are
        return;
    }
    widenFloat16(input.data, count, out);
    // LibTorch's float16 cast quiets a signalling NaN (0x7c01 becomes 0x7fc02000, as the F16C
    // instruction does); the widening keeps it signalling. Set the quiet bit, as LibTorch does.
    for (qint64 i = 0; i < count; ++i) {
        quint32 bits;
        std::memcpy(&bits, out + i, 4);
        if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0) {
            bits |= 0x00400000u;
            std::memcpy(out + i, &bits, 4);
        }
    }
}

} // namespace

std::optional<WidenedTensor> applyExactWidening(const TensorInput &input, const TransformChain &chain)
{
    std::optional<TensorSpec> spec = wideningSpec(input, chain);
    if (!spec)
        return std::nullopt;
    const qint64 size = checkedNumel(spec->shape, std::numeric_limits<qint64>::max() / 4) * 4;
    // new uchar[]: not zeroed first (a vector's resize zeroed 842 MB the cast then overwrote: 40 %
    // of casting a 100k-leaf bf16 model onto a float32 skeleton).
    std::unique_ptr<uchar[]> buffer(new uchar[static_cast<size_t>(std::max<qint64>(size, 1))]);
    widen(input, reinterpret_cast<float *>(buffer.get()));
    return WidenedTensor{*spec, TensorBytes::owned(std::move(buffer), size)};
}

} // namespace graft
