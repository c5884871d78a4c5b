#include "checkpoint/formats/torchmodules.h"

#include <QSet>
#include <QStringList>

namespace graft {
namespace {

const PickleValue *stateEntry(const PickleValue *state, QLatin1String name)
{
    for (const auto &[k, v] : state->entries()) {
        if (k->kind == PickleKind::String && k->text() == name)
            return v;
    }
    return nullptr;
}

QString kindName(const PickleValue *value)
{
    const QString type = pickleTypeName(value);
    return type.isEmpty() ? QStringLiteral("a value") : type;
}

QString moduleKey(const QString &key) { return key.isEmpty() ? QStringLiteral("the model") : QStringLiteral("module '%1'").arg(key); }

QString joinKey(const QString &prefix, const QString &name) { return prefix.isEmpty() ? name : prefix + QLatin1Char('.') + name; }

// A parameter or buffer value: a tensor (kept), None (skipped), or a call Graft does not make.
Status checkTensorValue(const PickleValue *value, const QString &key, const char *what)
{
    if (value->kind == PickleKind::Tensor || value->kind == PickleKind::None)
        return Status::success();
    if (value->kind == PickleKind::Object)
        return Error{QString(), QStringLiteral("%1 '%2' needs code to be produced: it is the result of %3(…), which Graft "
                                               "never runs (load the model in Python and save its state_dict())")
                                    .arg(QLatin1String(what), key, qualifiedName(value))};
    return Error{QString(), QStringLiteral("%1 '%2' is %3, not a tensor").arg(QLatin1String(what), key, kindName(value))};
}

// An OrderedDict of a module's state: string keys only.
Result<const PickleValue *> namedDict(const PickleValue *state, QLatin1String name, const QString &key, bool required)
{
    const PickleValue *dict = stateEntry(state, name);
    if (dict == nullptr) {
        if (required)
            return Error{QString(), QStringLiteral("%1 has no %2").arg(moduleKey(key), name)};
        return dict;
    }
    if (dict->kind != PickleKind::Dict)
        return Error{QString(), QStringLiteral("%1: %2 is %3, not a dict").arg(moduleKey(key), name, kindName(dict))};
    for (const auto &[k, v] : dict->entries()) {
        if (k->kind != PickleKind::String)
            return Error{QString(), QStringLiteral("%1: %2 has a key that is not a string (%3)").arg(moduleKey(key), name, pickleSummary(k, 40))};
    }
    return dict;
}

// A tensor torch rebuilds with code Graft does not have (a quantized tensor, a packed
// ScriptObject, a tensor subclass of an unknown kind), anywhere in `value`: searched a few
// levels deep and within a budget, as module attributes are small.
const PickleValue *tensorNeedingCode(const PickleValue *value, int depth, int &budget)
{
    if (value == nullptr || depth > 6 || --budget < 0)
        return nullptr;
    if (value->kind == PickleKind::Object) {
        const QString name = qualifiedName(value);
        if (name.startsWith(QLatin1String("torch._utils._rebuild_")) || name.startsWith(QLatin1String("torch._tensor._rebuild_"))
            || name == QLatin1String("torch.ScriptObject"))
            return value;
        if (const PickleValue *found = tensorNeedingCode(value->args(), depth + 1, budget))
            return found;
        return tensorNeedingCode(value->state(), depth + 1, budget);
    }
    for (const PickleValue *item : value->items()) {
        if (const PickleValue *found = tensorNeedingCode(item, depth + 1, budget))
            return found;
    }
    for (const auto &[k, v] : value->entries()) {
        if (const PickleValue *found = tensorNeedingCode(v, depth + 1, budget))
            return found;
    }
    return nullptr;
}

} // namespace

bool isEagerModule(const PickleValue *value)
{
    if (value == nullptr || value->kind != PickleKind::Object || value->state() == nullptr || value->state()->kind != PickleKind::Dict)
        return false;
    return stateEntry(value->state(), QLatin1String("_parameters")) != nullptr && stateEntry(value->state(), QLatin1String("_modules")) != nullptr;
}

bool isScriptObject(const PickleValue *value)
{
    return value != nullptr && value->kind == PickleKind::Object && value->state() != nullptr && value->state()->kind == PickleKind::Dict
        && qualifiedName(value).startsWith(QLatin1String("__torch__."));
}

Result<ModuleParts> eagerModuleParts(const PickleValue *module, const QString &key)
{
    const PickleValue *state = module->state();
    Result<const PickleValue *> parameters = namedDict(state, QLatin1String("_parameters"), key, true);
    if (!parameters)
        return parameters.error();
    Result<const PickleValue *> buffers = namedDict(state, QLatin1String("_buffers"), key, false);
    if (!buffers)
        return buffers.error();
    Result<const PickleValue *> modules = namedDict(state, QLatin1String("_modules"), key, true);
    if (!modules)
        return modules.error();
    QSet<QString> nonPersistent;
    if (const PickleValue *set = stateEntry(state, QLatin1String("_non_persistent_buffers_set")); set != nullptr) {
        if (set->kind != PickleKind::Set)
            return Error{QString(), QStringLiteral("%1: _non_persistent_buffers_set is %2, not a set").arg(moduleKey(key), kindName(set))};
        for (const PickleValue *name : set->items()) {
            if (name->kind == PickleKind::String)
                nonPersistent.insert(name->text());
        }
    }

    ModuleParts parts;
    for (const auto &[k, v] : (*parameters)->entries()) {
        if (Status ok = checkTensorValue(v, joinKey(key, k->text()), "parameter"); !ok)
            return ok.error();
        if (v->kind == PickleKind::Tensor)
            parts.tensors.emplace_back(k->text(), v);
    }
    if (*buffers != nullptr) {
        for (const auto &[k, v] : (*buffers)->entries()) {
            if (nonPersistent.contains(k->text()))
                continue; // state_dict() leaves non-persistent buffers out
            if (Status ok = checkTensorValue(v, joinKey(key, k->text()), "buffer"); !ok)
                return ok.error();
            if (v->kind == PickleKind::Tensor)
                parts.tensors.emplace_back(k->text(), v);
        }
    }
    for (const auto &[k, v] : (*modules)->entries()) {
        if (v->kind != PickleKind::None)
            parts.children.emplace_back(k->text(), v);
    }
    int budget = 4096;
    for (const auto &[k, v] : state->entries()) {
        if (k->kind != PickleKind::String || v == *parameters || v == *buffers || v == *modules)
            continue;
        // Weights kept outside _parameters (a quantized module's packed params) reach
        // state_dict() through the class's own code: refused, naming what would make them.
        if (const PickleValue *call = tensorNeedingCode(v, 0, budget))
            return Error{QString(), QStringLiteral("%1 holds '%2', made by %3(…), which needs code to be produced (a quantized or "
                                                   "packed tensor); Graft never runs it (load the model in Python and save its "
                                                   "state_dict() with plain tensors)")
                                        .arg(moduleKey(key), k->text(), qualifiedName(call))};
        if (!k->text().startsWith(QLatin1Char('_')))
            parts.attributes.emplace_back(k->text(), v);
    }
    return parts;
}

Result<ModuleParts> scriptModuleParts(const PickleValue *module, const ScriptClass *definition, const QString &key)
{
    ModuleParts parts;
    std::vector<ModuleParts::Named> buffers;
    for (const auto &[k, v] : module->state()->entries()) {
        if (k->kind != PickleKind::String)
            return Error{QString(), QStringLiteral("%1 has an attribute name that is not a string (%2)").arg(moduleKey(key), pickleSummary(k, 40))};
        const QString &name = k->text();
        const bool parameter = definition != nullptr ? definition->parameters.contains(name) : v->kind == PickleKind::Tensor;
        const bool buffer = definition != nullptr && definition->buffers.contains(name);
        if (parameter || buffer) {
            if (Status ok = checkTensorValue(v, joinKey(key, name), parameter ? "parameter" : "buffer"); !ok)
                return ok.error();
            if (v->kind == PickleKind::Tensor)
                (parameter ? parts.tensors : buffers).emplace_back(name, v);
        } else if (isScriptObject(v)) {
            parts.children.emplace_back(name, v);
        } else if (!name.startsWith(QLatin1Char('_'))) {
            parts.attributes.emplace_back(name, v);
        }
    }
    parts.tensors.insert(parts.tensors.end(), buffers.begin(), buffers.end());
    return parts;
}

QString moduleSummary(const QString &className, const ModuleParts &parts, const ScriptClass *definition, int maxLength)
{
    QStringList shown;
    int length = 0;
    auto add = [&](const QString &text) {
        if (length > maxLength)
            return;
        shown << text;
        length += int(text.size()) + 2;
    };
    for (const auto &[name, value] : parts.attributes) {
        if (name != QLatin1String("training"))
            add(name + QLatin1Char('=') + pickleSummary(value, 48));
    }
    if (definition != nullptr) {
        for (const auto &[name, value] : definition->constants)
            add(name + QLatin1Char('=') + value.left(48));
    }
    QString text = className.section(QLatin1Char('.'), -1) + QLatin1Char('(') + shown.join(QStringLiteral(", ")) + QLatin1Char(')');
    if (text.size() > maxLength)
        text = text.left(maxLength - 2) + QStringLiteral("…)");
    return text;
}

} // namespace graft
