#include "torchobjects.h"

#include <QSet>

#include <limits>

namespace graft {
namespace {

constexpr int kMaxWalkDepth = 1000;

class ObjectWalker {
public:
    ObjectWalker(const StorageResolver &resolve, Checkpoint &checkpoint) : m_resolve(resolve), m_checkpoint(checkpoint) {}

    Status walk(const PickleValue *value, const QString &key, int depth);

private:
    Status addTensor(const PickleValue *value, const QString &key);
    void addOther(const PickleValue *value, const QString &key)
    {
        m_checkpoint.addOther({key, pickleTypeName(value), pickleSummary(value)});
    }
    static bool containsTensor(const PickleValue *value, int depth);

    const StorageResolver &m_resolve;
    Checkpoint &m_checkpoint;
    QSet<const PickleValue *> m_onPath; // cycle guard
};

QString join(const QString &prefix, const QString &name)
{
    return prefix.isEmpty() ? name : prefix + QLatin1Char('.') + name;
}

QString keyText(const PickleValue *key)
{
    switch (key->kind) {
    case PickleKind::String: return key->text;
    case PickleKind::Int: return key->integerOverflow ? key->text : QString::number(key->integer);
    default: return pickleSummary(key, 60);
    }
}

bool ObjectWalker::containsTensor(const PickleValue *value, int depth)
{
    if (value == nullptr || depth > 32)
        return false;
    switch (value->kind) {
    case PickleKind::Tensor: return true;
    case PickleKind::Dict:
        for (const auto &entry : value->entries) {
            if (containsTensor(entry.second, depth + 1))
                return true;
        }
        return false;
    case PickleKind::List:
    case PickleKind::Tuple:
        for (const PickleValue *item : value->items) {
            if (containsTensor(item, depth + 1))
                return true;
        }
        return false;
    case PickleKind::Object: return containsTensor(value->state, depth + 1);
    default: return false;
    }
}

Status ObjectWalker::addTensor(const PickleValue *value, const QString &key)
{
    const PickledTensor &pickled = *value->tensor;
    const PickleValue *id = pickled.storage->state;
    Result<ResolvedStorage> storage = m_resolve(id);
    if (!storage)
        return Error{storage.error().file, QStringLiteral("tensor '%1': %2").arg(key, storage.error().message)};
    TensorEntry entry;
    entry.key = key;
    entry.dtype = storage->untyped ? pickled.dtype.value_or(DType::UInt8) : storage->dtype;
    if (pickled.dtype && !storage->untyped && *pickled.dtype != storage->dtype)
        entry.dtype = *pickled.dtype; // v3 states the dtype; a typed storage of bytes is reinterpreted
    entry.shape = pickled.shape;
    entry.strides = pickled.strides;
    entry.segment = storage->segment;
    entry.bigEndian = storage->bigEndian && dtypeSize(entry.dtype) > 1;
    if (pickled.storageOffset < 0 || pickled.storageOffset > (std::numeric_limits<qint64>::max() / 16))
        return Error{m_checkpoint.path(), QStringLiteral("tensor '%1': invalid storage offset %2").arg(key).arg(pickled.storageOffset)};
    entry.byteOffset = pickled.storageOffset * dtypeSize(entry.dtype);
    return m_checkpoint.addTensor(std::move(entry));
}

Status ObjectWalker::walk(const PickleValue *value, const QString &key, int depth)
{
    if (depth > kMaxWalkDepth)
        return Error{m_checkpoint.path(), QStringLiteral("objects nested deeper than %1 levels at '%2'").arg(kMaxWalkDepth).arg(key)};
    if (m_onPath.contains(value)) {
        addOther(value, key); // a container that contains itself: shown, not followed
        return Status::success();
    }
    switch (value->kind) {
    case PickleKind::Tensor:
        return addTensor(value, key.isEmpty() ? QStringLiteral("tensor") : key);
    case PickleKind::Dict:
    case PickleKind::List:
    case PickleKind::Tuple: {
        m_onPath.insert(value);
        Status status;
        if (value->kind == PickleKind::Dict) {
            for (const auto &[k, v] : value->entries) {
                status = walk(v, join(key, keyText(k)), depth + 1);
                if (!status)
                    break;
            }
        } else {
            for (size_t i = 0; i < value->items.size() && status; ++i)
                status = walk(value->items[i], join(key, QString::number(i)), depth + 1);
        }
        m_onPath.remove(value);
        return status;
    }
    case PickleKind::Object:
        // An object whose attributes hold tensors (a TorchScript module, an EMA wrapper):
        // descend into its state so the tensors are found. Otherwise one opaque entry.
        if (value->state != nullptr && value->state->kind == PickleKind::Dict && containsTensor(value->state, 0)) {
            m_onPath.insert(value);
            Status status = walk(value->state, key, depth + 1);
            m_onPath.remove(value);
            return status;
        }
        addOther(value, key);
        return Status::success();
    default:
        addOther(value, key);
        return Status::success();
    }
}

} // namespace

std::optional<DType> dtypeOfStorageClass(const QString &qualifiedName)
{
    static const std::pair<const char *, DType> kClasses[] = {
        {"FloatStorage", DType::Float32}, {"DoubleStorage", DType::Float64},
        {"HalfStorage", DType::Float16}, {"BFloat16Storage", DType::BFloat16},
        {"LongStorage", DType::Int64}, {"IntStorage", DType::Int32},
        {"ShortStorage", DType::Int16}, {"CharStorage", DType::Int8},
        {"ByteStorage", DType::UInt8}, {"BoolStorage", DType::Bool},
        {"ComplexFloatStorage", DType::Complex64}, {"ComplexDoubleStorage", DType::Complex128},
        {"UntypedStorage", DType::UInt8},
    };
    if (!qualifiedName.startsWith(QLatin1String("torch.")))
        return std::nullopt;
    const QString name = qualifiedName.mid(6);
    for (const auto &[className, dtype] : kClasses) {
        if (name == QLatin1String(className))
            return dtype;
    }
    return std::nullopt;
}

Status collectTorchObjects(const PickleValue *root, const StorageResolver &resolve, Checkpoint &checkpoint)
{
    ObjectWalker walker(resolve, checkpoint);
    return walker.walk(root, QString(), 0);
}

} // namespace graft
