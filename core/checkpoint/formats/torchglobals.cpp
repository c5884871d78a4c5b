#include "checkpoint/formats/torchglobals.h"

#include <memory>
#include <optional>
#include <utility>

namespace graft {
namespace {

std::optional<DType> dtypeOfTorchGlobal(const QString &name)
{
    static const std::pair<const char *, DType> kNames[] = {
        {"torch.float32", DType::Float32}, {"torch.float", DType::Float32},
        {"torch.float64", DType::Float64}, {"torch.double", DType::Float64},
        {"torch.float16", DType::Float16}, {"torch.half", DType::Float16},
        {"torch.bfloat16", DType::BFloat16}, {"torch.int64", DType::Int64},
        {"torch.long", DType::Int64}, {"torch.int32", DType::Int32}, {"torch.int", DType::Int32},
        {"torch.int16", DType::Int16}, {"torch.short", DType::Int16}, {"torch.int8", DType::Int8},
        {"torch.uint8", DType::UInt8}, {"torch.bool", DType::Bool},
        {"torch.complex64", DType::Complex64}, {"torch.cfloat", DType::Complex64},
        {"torch.complex128", DType::Complex128}, {"torch.cdouble", DType::Complex128},
        {"torch.float8_e4m3fn", DType::Float8E4M3}, {"torch.float8_e5m2", DType::Float8E5M2},
        {"torch.uint16", DType::UInt16}, {"torch.uint32", DType::UInt32}, {"torch.uint64", DType::UInt64},
    };
    for (const auto &[text, dtype] : kNames) {
        if (name == QLatin1String(text))
            return dtype;
    }
    return std::nullopt;
}

Error failure(const QString &what) { return Error{QString(), what}; }

bool isSequence(const PickleValue *value) { return value->kind == PickleKind::Tuple || value->kind == PickleKind::List; }

} // namespace

std::optional<PickledStorageId> torchStorageId(const PickleValue *id)
{
    if (id == nullptr || id->kind != PickleKind::Tuple)
        return std::nullopt;
    const auto parts = id->items();
    if (parts.size() < 5 || parts[0]->kind != PickleKind::String || parts[0]->text() != QLatin1String("storage")
        || parts[1]->kind != PickleKind::Global || parts[2]->kind != PickleKind::String)
        return std::nullopt;
    PickledStorageId storage{parts[1], storageKeyNumber(parts[2]->text()), nullptr, parts[4],
                             parts.size() >= 6 && parts[5]->kind == PickleKind::Tuple};
    if (storage.number < 0)
        storage.key = parts[2];
    return storage;
}

namespace {

Result<const PickleValue *> rebuildTensor(const QString &name, const PickleValue *args, PickleArena &arena)
{
    // _rebuild_tensor(storage, offset, size, stride)
    // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
    // _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
    const auto &a = args->items();
    if (a.size() < 4 || a[0]->kind != PickleKind::PersistentId || a[0]->state() == nullptr || a[1]->kind != PickleKind::Int
        || !isSequence(a[2]) || !isSequence(a[3]))
        return failure(QStringLiteral("%1 called with unexpected arguments").arg(name));
    PickleValue *tensor = arena.make(PickleKind::Tensor);
    PickledTensor &pickled = tensor->setTensor(std::make_unique<PickledTensor>());
    pickled.storageId = torchStorageId(a[0]->state());
    if (!pickled.storageId)
        pickled.storage = a[0]->state(); // refused by the reader, which shows it
    pickled.storageOffset = a[1]->integer;
    pickled.shape.reserve(a[2]->items().size());
    pickled.strides.reserve(a[3]->items().size());
    for (const PickleValue *dim : a[2]->items()) {
        if (dim->kind != PickleKind::Int || dim->integerOverflow)
            return failure(QStringLiteral("%1: a size is not an integer").arg(name));
        pickled.shape.push_back(dim->integer);
    }
    for (const PickleValue *stride : a[3]->items()) {
        if (stride->kind != PickleKind::Int || stride->integerOverflow)
            return failure(QStringLiteral("%1: a stride is not an integer").arg(name));
        pickled.strides.push_back(stride->integer);
    }
    if (name.endsWith(QLatin1String("_v3"))) {
        if (a.size() < 7 || a[6]->kind != PickleKind::Global)
            return failure(QStringLiteral("%1 without a dtype").arg(name));
        pickled.dtype = dtypeOfTorchGlobal(a[6]->text());
        if (!pickled.dtype)
            return failure(QStringLiteral("%1 with unsupported dtype %2").arg(name, a[6]->text()));
    }
    return tensor;
}

Result<const PickleValue *> rebuildParameter(const QString &name, const PickleValue *args, PickleArena &arena)
{
    if (args->items().empty() || args->items()[0]->kind != PickleKind::Tensor)
        return failure(QStringLiteral("%1 without a tensor").arg(name));
    PickleValue *parameter = arena.make(PickleKind::Tensor);
    parameter->setTensor(std::make_unique<PickledTensor>(*args->items()[0]->tensor())).isParameter = true;
    return parameter;
}

bool isTensorRebuild(const QString &name)
{
    return name == QLatin1String("torch._utils._rebuild_tensor") || name == QLatin1String("torch._utils._rebuild_tensor_v2")
        || name == QLatin1String("torch._utils._rebuild_tensor_v3");
}

bool isParameterRebuild(const QString &name)
{
    return name == QLatin1String("torch._utils._rebuild_parameter") || name == QLatin1String("torch._utils._rebuild_parameter_with_state");
}

// Calls that only rebuild plain data, never run user code.
Result<const PickleValue *> rebuildData(const QString &name, const PickleValue *args, PickleArena &arena)
{
    const auto &a = args->items();
    // Python 2 names protocol 2 keeps for sets: set(list).
    if (name == QLatin1String("__builtin__.set") || name == QLatin1String("__builtin__.frozenset")) {
        PickleValue *set = arena.make(PickleKind::Set);
        if (!a.empty() && (a[0]->kind == PickleKind::List || a[0]->kind == PickleKind::Tuple))
            set->setItems(a[0]->items());
        return set;
    }
    // TorchScript's typed lists: build_intlist(list) and friends are the list.
    if (name.startsWith(QLatin1String("torch.jit._pickle.build_")) && name.endsWith(QLatin1String("list")) && a.size() == 1
        && a[0]->kind == PickleKind::List)
        return a[0];
    // restore_type_tag(value, type string) is the value.
    if (name == QLatin1String("torch.jit._pickle.restore_type_tag") && a.size() == 2)
        return a[0];
    return static_cast<const PickleValue *>(nullptr);
}

} // namespace

Result<const PickleValue *> TorchGlobals::persistentLoad(const PickleValue *id, PickleArena &arena) const
{
    Q_UNUSED(arena);
    // torch.save's legacy format replaces an nn.Module subclass by ('module', class, source
    // file, source); torch.load gives back the class. Here it is the class name, never imported.
    if (id->kind == PickleKind::Tuple && id->items().size() >= 2 && id->items()[0]->kind == PickleKind::String
        && id->items()[0]->text() == QLatin1String("module") && id->items()[1]->kind == PickleKind::Global)
        return id->items()[1];
    return static_cast<const PickleValue *>(nullptr);
}

Result<const PickleValue *> TorchGlobals::reduce(const QString &name, const PickleValue *args, PickleArena &arena) const
{
    if (isTensorRebuild(name))
        return rebuildTensor(name, args, arena);
    if (isParameterRebuild(name))
        return rebuildParameter(name, args, arena);
    // _rebuild_from_type_v2(func, type, args, state): a tensor subclass (or a tensor with
    // attributes) around a plain rebuild; the bytes are the plain tensor's.
    if (name == QLatin1String("torch._tensor._rebuild_from_type_v2") && args->items().size() >= 3
        && args->items()[0]->kind == PickleKind::Global && args->items()[2]->kind == PickleKind::Tuple) {
        const QString inner = args->items()[0]->text();
        if (isTensorRebuild(inner))
            return rebuildTensor(inner, args->items()[2], arena);
        if (isParameterRebuild(inner))
            return rebuildParameter(inner, args->items()[2], arena);
    }
    if (Result<const PickleValue *> data = rebuildData(name, args, arena); !data || *data != nullptr)
        return data;
    // torch.Size(tuple) is the tuple.
    if (name == QLatin1String("torch.Size") && !args->items().empty() && args->items()[0]->kind == PickleKind::Tuple)
        return args->items()[0];
    return static_cast<const PickleValue *>(nullptr);
}

Result<Unpickled> unpickleTorch(const uchar *data, qint64 size, qint64 baseOffset)
{
    static const TorchGlobals kTorchGlobals;
    return unpickle(data, size, baseOffset, &kTorchGlobals);
}

} // namespace graft
