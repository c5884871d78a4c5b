#include "checkpoint/formats/torchobjects.h"

#include "checkpoint/formats/torchmodules.h"

#include <QSet>

#include <limits>
#include <unordered_map>

namespace graft {
namespace {

constexpr int kMaxWalkDepth = 1000;
// A pickle is a graph: the memo lets one container appear under many keys, and 40 levels of
// `x = [x, x]` take 1 KB yet flatten to 2^40 entries ("billion laughs"). Real checkpoints share
// a little (tied weights, `{'model': sd, 'ema': sd}`), so the walk may make this many steps per
// value the pickle holds, plus a floor for tiny pickles; past that the file is refused.
constexpr qint64 kWalkStepsPerValue = 8;
constexpr qint64 kMinWalkSteps = 4096;
// Keys are paths: 1000 nested dicts over a list of a million memo references is a 2 MB pickle
// whose flattened keys would take 4 GB. The keys the walk builds (stored or on the current path)
// may take this many characters per byte of pickle, plus a floor; real state dicts use < 1.
constexpr qint64 kKeyCharsPerPickleByte = 64;
constexpr qint64 kMinKeyChars = qint64(1) << 20;

class ObjectWalker {
public:
    ObjectWalker(const StorageResolver &resolve, Checkpoint &checkpoint, Unpickled &unpickled, ScriptClasses *script)
        : m_resolve(resolve), m_checkpoint(checkpoint), m_script(script),
          m_maxSteps(kMinWalkSteps + kWalkStepsPerValue * static_cast<qint64>(unpickled.arena->size())),
          m_maxKeyChars(kMinKeyChars + kKeyCharsPerPickleByte * unpickled.bytesConsumed)
    {
    }

    Status walk(const PickleValue *value, const QString &key, int depth);
    bool foundModule() const { return m_foundModule; }

private:
    /// Counts `steps` against the walk's budget (and the key against the key budget).
    Status countStep(const QString &key, qint64 steps = 1);
    Status walkObject(const PickleValue *value, const QString &key, int depth);
    Status walkModule(const PickleValue *module, const QString &key, int depth, const ScriptClass *definition);
    Status addTensor(const PickleValue *value, const QString &key);
    void addOther(const PickleValue *value, const QString &key)
    {
        m_checkpoint.addOther({key, pickleTypeName(value), pickleSummary(value)});
    }
    bool containsTensor(const PickleValue *value, int depth);

    const StorageResolver &m_resolve;
    Checkpoint &m_checkpoint;
    ScriptClasses *m_script;
    bool m_foundModule = false;
    const qint64 m_maxSteps;
    const qint64 m_maxKeyChars;
    qint64 m_steps = 0;
    qint64 m_keyChars = 0;
    QSet<const PickleValue *> m_onPath; // cycle guard
    // containsTensor's answer per value, so shared containers are searched once. A value still
    // being searched counts as tensor-free: a cycle adds nothing its first visit does not find.
    std::unordered_map<const PickleValue *, bool> m_containsTensor;
};

QString join(const QString &prefix, const QString &name)
{
    return prefix.isEmpty() ? name : prefix + QLatin1Char('.') + name;
}

QString keyText(const PickleValue *key)
{
    switch (key->kind) {
    case PickleKind::String: return key->text();
    case PickleKind::Int: return key->integerOverflow ? key->text() : QString::number(key->integer);
    default: return pickleSummary(key, 60);
    }
}

bool ObjectWalker::containsTensor(const PickleValue *value, int depth)
{
    if (value == nullptr || depth > kMaxWalkDepth)
        return false;
    switch (value->kind) {
    case PickleKind::Tensor: return true;
    case PickleKind::Dict:
    case PickleKind::List:
    case PickleKind::Tuple:
    case PickleKind::Object: break;
    default: return false;
    }
    if (const auto known = m_containsTensor.find(value); known != m_containsTensor.end())
        return known->second;
    m_containsTensor[value] = false; // in progress
    bool found = false;
    if (value->kind == PickleKind::Dict) {
        for (size_t i = 0; i < value->entries().size() && !found; ++i)
            found = containsTensor(value->entries()[i].second, depth + 1);
    } else if (value->kind == PickleKind::Object) {
        found = containsTensor(value->state(), depth + 1);
    } else {
        for (size_t i = 0; i < value->items().size() && !found; ++i)
            found = containsTensor(value->items()[i], depth + 1);
    }
    m_containsTensor[value] = found;
    return found;
}

Status ObjectWalker::addTensor(const PickleValue *value, const QString &key)
{
    // The walk has the values to itself (collectTorchObjects takes the Unpickled, which owns
    // them): a tensor's shape and strides move into its index entry rather than being copied
    // (two small blocks per tensor, 200k for a 100k-tensor state dict, alive until the pickle
    // is freed). A tensor reached again (tied weights, {'model': sd, 'ema': sd}) copies the
    // entry its first visit made.
    PickledTensor &pickled = const_cast<PickledTensor &>(*value->tensor());
    if (pickled.emittedAs >= 0) {
        TensorEntry entry = m_checkpoint.tensors()[static_cast<size_t>(pickled.emittedAs)];
        entry.key = key;
        return m_checkpoint.addTensor(std::move(entry));
    }
    Result<ResolvedStorage> storage = m_resolve(pickled);
    if (!storage)
        return Error{storage.error().file, QStringLiteral("tensor '%1': %2").arg(key, storage.error().message)};
    TensorEntry entry;
    entry.key = key;
    entry.dtype = storage->untyped ? pickled.dtype.value_or(DType::UInt8) : storage->dtype;
    if (pickled.dtype && !storage->untyped && *pickled.dtype != storage->dtype)
        entry.dtype = *pickled.dtype; // v3 states the dtype; a typed storage of bytes is reinterpreted
    entry.segment = storage->segment;
    entry.bigEndian = storage->bigEndian && dtypeSize(entry.dtype) > 1;
    if (pickled.storageOffset < 0 || pickled.storageOffset > (std::numeric_limits<qint64>::max() / 16))
        return Error{m_checkpoint.path(), QStringLiteral("tensor '%1': invalid storage offset %2").arg(key).arg(pickled.storageOffset)};
    entry.byteOffset = pickled.storageOffset * dtypeSize(entry.dtype);
    entry.shape = std::move(pickled.shape);
    entry.strides = std::move(pickled.strides);
    const qint64 index = static_cast<qint64>(m_checkpoint.tensors().size());
    Status added = m_checkpoint.addTensor(std::move(entry));
    if (added)
        pickled.emittedAs = index; // (a failure ends the read: the moved shape is never looked at)
    return added;
}

Status ObjectWalker::countStep(const QString &key, qint64 steps)
{
    m_steps += steps;
    if (m_steps > m_maxSteps)
        return Error{m_checkpoint.path(),
                     QStringLiteral("objects in the pickle are shared so often that they would flatten to more than %1 entries "
                                    "(a \"billion laughs\" pickle); stopped at '%2'")
                         .arg(m_maxSteps)
                         .arg(key.left(200))};
    m_keyChars += key.size();
    if (m_keyChars > m_maxKeyChars)
        return Error{m_checkpoint.path(),
                     QStringLiteral("the flattened keys would take more than %1 characters (%2 per byte of pickle); "
                                    "stopped at '%3…' (%4 characters)")
                         .arg(m_maxKeyChars)
                         .arg(kKeyCharsPerPickleByte)
                         .arg(key.left(200))
                         .arg(key.size())};
    return Status::success();
}

Status ObjectWalker::walk(const PickleValue *value, const QString &key, int depth)
{
    if (depth > kMaxWalkDepth)
        return Error{m_checkpoint.path(), QStringLiteral("objects nested deeper than %1 levels at '%2'").arg(kMaxWalkDepth).arg(key.left(200))};
    if (Status counted = countStep(key); !counted)
        return counted;
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
            for (const auto &[k, v] : value->entries()) {
                status = walk(v, join(key, keyText(k)), depth + 1);
                if (!status)
                    break;
            }
        } else {
            for (size_t i = 0; i < value->items().size() && status; ++i)
                status = walk(value->items()[i], join(key, QString::number(i)), depth + 1);
        }
        m_onPath.remove(value);
        return status;
    }
    case PickleKind::Object:
        return walkObject(value, key, depth);
    default:
        addOther(value, key);
        return Status::success();
    }
}

Status ObjectWalker::walkObject(const PickleValue *value, const QString &key, int depth)
{
    // Looking at an object's state costs a step per attribute: one huge state dict shared by
    // many objects (the memo) must not make the walk quadratic.
    if (value->state() != nullptr && value->state()->kind == PickleKind::Dict) {
        if (Status counted = countStep(key, static_cast<qint64>(value->state()->entries().size())); !counted)
            return counted;
    }
    if (m_script != nullptr && isScriptObject(value)) {
        Result<const ScriptClass *> definition = m_script->find(qualifiedName(value));
        if (!definition)
            return Error{m_checkpoint.path(), definition.error().message};
        if (*definition == nullptr || (*definition)->isModule)
            return walkModule(value, key, depth, *definition);
    } else if (m_script == nullptr && isEagerModule(value)) {
        return walkModule(value, key, depth, nullptr);
    }
    // An object whose attributes hold tensors (an EMA wrapper, a TorchScript class):
    // descend into its state so the tensors are found. Otherwise one opaque entry.
    if (value->state() != nullptr && value->state()->kind == PickleKind::Dict && containsTensor(value->state(), 0)) {
        m_onPath.insert(value);
        Status status = walk(value->state(), key, depth + 1);
        m_onPath.remove(value);
        return status;
    }
    addOther(value, key);
    return Status::success();
}

Status ObjectWalker::walkModule(const PickleValue *module, const QString &key, int depth, const ScriptClass *definition)
{
    m_foundModule = true;
    Result<ModuleParts> parts = m_script != nullptr ? scriptModuleParts(module, definition, key) : eagerModuleParts(module, key);
    if (!parts)
        return Error{m_checkpoint.path(), parts.error().message};
    const QString className = m_script != nullptr ? scriptClassDisplayName(qualifiedName(module)) : qualifiedName(module);
    m_checkpoint.addOther({key.isEmpty() ? QStringLiteral("(root)") : key, className, moduleSummary(className, *parts, definition)});
    m_onPath.insert(module);
    Status status;
    for (size_t i = 0; i < parts->tensors.size() && status; ++i) {
        const QString tensorKey = join(key, parts->tensors[i].first);
        status = countStep(tensorKey);
        if (status)
            status = addTensor(parts->tensors[i].second, tensorKey);
    }
    for (size_t i = 0; i < parts->children.size() && status; ++i) {
        const auto &[name, child] = parts->children[i];
        const QString childKey = join(key, name);
        if (m_onPath.contains(child))
            status = Error{m_checkpoint.path(), QStringLiteral("module '%1' contains itself (a cycle of module references)").arg(childKey.left(200))};
        else
            status = walk(child, childKey, depth + 1);
    }
    m_onPath.remove(module);
    return status;
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
    const QStringView name = QStringView(qualifiedName).mid(6); // a view: called once per storage
    for (const auto &[className, dtype] : kClasses) {
        if (name == QLatin1String(className))
            return dtype;
    }
    return std::nullopt;
}

Status collectTorchObjects(Unpickled &unpickled, const StorageResolver &resolve, Checkpoint &checkpoint, ScriptClasses *script)
{
    ObjectWalker walker(resolve, checkpoint, unpickled, script);
    Status status = walker.walk(unpickled.root, QString(), 0);
    if (status && walker.foundModule() && script == nullptr)
        checkpoint.setFormat(CheckpointFormat::PyTorchModule);
    return status;
}

} // namespace graft
