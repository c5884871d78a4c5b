// The LibTorch adapter: the only translation unit that includes torch headers. Inputs are
// wrapped zero-copy with torch::from_blob; results are copied out as contiguous bytes.

#include "tensor/tensorengine.h"

#include <torch/torch.h>


namespace graft {
namespace {

std::optional<at::ScalarType> scalarType(DType dtype)
{
    switch (dtype) {
    case DType::Bool: return at::kBool;
    case DType::UInt8: return at::kByte;
    case DType::Int8: return at::kChar;
    case DType::Int16: return at::kShort;
    case DType::Int32: return at::kInt;
    case DType::Int64: return at::kLong;
    case DType::Float16: return at::kHalf;
    case DType::BFloat16: return at::kBFloat16;
    case DType::Float32: return at::kFloat;
    case DType::Float64: return at::kDouble;
    case DType::Complex64: return at::kComplexFloat;
    case DType::Complex128: return at::kComplexDouble;
    default: return std::nullopt; // LibTorch 1.13 has no uint16/32/64 or float8
    }
}

Result<at::Tensor> wrap(const TensorInput &input)
{
    const std::optional<at::ScalarType> type = scalarType(input.spec.dtype);
    if (!type)
        return Error{QString(), QStringLiteral("LibTorch 1.13 cannot compute on %1 tensors").arg(dtypeName(input.spec.dtype))};
    std::vector<int64_t> sizes(input.spec.shape.begin(), input.spec.shape.end());
    // from_blob does not take ownership; the const_cast is safe because nothing writes to it.
    return torch::from_blob(const_cast<uchar *>(input.data), sizes, torch::TensorOptions().dtype(*type));
}

class TorchEngine final : public TensorEngine {
public:
    QString description() const override { return QStringLiteral("LibTorch " TORCH_VERSION); }

    Result<TensorOutput> apply(const std::vector<TensorInput> &inputs, const TransformChain &chain) override
    {
        std::vector<TensorSpec> specs;
        for (const TensorInput &input : inputs)
            specs.push_back(input.spec);
        Result<TensorSpec> expected = inferTransforms(specs, chain);
        if (!expected)
            return expected.error();
        try {
            std::vector<at::Tensor> tensors;
            for (const TensorInput &input : inputs) {
                Result<at::Tensor> tensor = wrap(input);
                if (!tensor)
                    return tensor.error();
                tensors.push_back(*tensor);
            }
            size_t next = 0;
            at::Tensor current = tensors.front();
            if (!chain.empty() && chain.front().combinesSources()) {
                const Transform &t = chain.front();
                if (t.op == TransformOp::Concat)
                    current = torch::cat(tensors, t.axis);
                else if (t.op == TransformOp::Stack)
                    current = torch::stack(tensors, t.axis);
                else {
                    current = tensors.front().clone();
                    for (size_t i = 1; i < tensors.size(); ++i)
                        current.add_(tensors[i]);
                }
                next = 1;
            }
            for (; next < chain.size(); ++next) {
                const Transform &t = chain[next];
                switch (t.op) {
                case TransformOp::Reshape:
                    current = current.reshape(std::vector<int64_t>(t.shape.begin(), t.shape.end()));
                    break;
                case TransformOp::Transpose:
                    current = current.permute(std::vector<int64_t>(t.axes.begin(), t.axes.end()));
                    break;
                case TransformOp::Flip:
                    current = current.flip(std::vector<int64_t>(t.axes.begin(), t.axes.end()));
                    break;
                case TransformOp::Cast: {
                    const std::optional<at::ScalarType> type = scalarType(t.dtype);
                    if (!type)
                        return Error{QString(), QStringLiteral("LibTorch 1.13 cannot cast to %1").arg(dtypeName(t.dtype))};
                    current = current.to(*type);
                    break;
                }
                case TransformOp::Slice:
                    current = current.slice(t.axis, t.start, t.stop);
                    break;
                default:
                    return Error{QString(), QStringLiteral("%1 must come first in a chain").arg(transformOpName(t.op))};
                }
            }
            current = current.contiguous();
            TensorOutput output;
            output.spec = *expected;
            const size_t nbytes = current.numel() * current.element_size();
            output.bytes.resize(nbytes);
            if (nbytes > 0)
                std::memcpy(output.bytes.data(), current.data_ptr(), nbytes);
            return output;
        } catch (const c10::Error &error) {
            return Error{QString(), QStringLiteral("LibTorch: %1").arg(QString::fromUtf8(error.what_without_backtrace()))};
        } catch (const std::bad_alloc &) {
            return Error{QString(), QStringLiteral("not enough memory for the transform")};
        }
    }
};

} // namespace
} // namespace graft

extern "C" Q_DECL_EXPORT graft::TensorEngine *graftCreateTensorEngine()
{
    return new graft::TorchEngine;
}
