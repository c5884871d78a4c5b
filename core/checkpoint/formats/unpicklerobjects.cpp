// The unpickler's object opcodes: globals (names only, never imported), calls (REDUCE,
// NEWOBJ, OBJ, INST: plain Python containers, what the reducer recognises, else inert
// Objects), BUILD and persistent ids.
#include "checkpoint/formats/unpickler.h"

namespace graft {
namespace {

bool isDictClass(const QString &name) { return name == QLatin1String("collections.OrderedDict") || name == QLatin1String("builtins.dict"); }

} // namespace

Unpickler::Step Unpickler::reduce(const PickleValue *callable, const PickleValue *args)
{
    if (args->kind != PickleKind::Tuple)
        return fail(QStringLiteral("REDUCE arguments are not a tuple"));
    const QString name = qualifiedName(callable);
    if (isDictClass(name)) {
        if (!args->items().empty())
            return fail(QStringLiteral("%1 called with arguments").arg(name));
        return make(PickleKind::Dict);
    }
    if (name == QLatin1String("_codecs.encode")) {
        // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1'): latin1 of text is the bytes.
        if (args->items().empty() || args->items()[0]->kind != PickleKind::String)
            return fail(QStringLiteral("_codecs.encode with unexpected arguments"));
        PickleValue *bytes = make(PickleKind::Bytes);
        bytes->setBytes(args->items()[0]->text().toLatin1());
        return bytes;
    }
    if (name == QLatin1String("builtins.set") || name == QLatin1String("builtins.frozenset")) {
        PickleValue *set = make(PickleKind::Set);
        if (!args->items().empty() && !args->items()[0]->items().empty())
            set->setItems(args->items()[0]->items());
        return set;
    }
    if (m_reducer != nullptr) {
        Step reduced = m_reducer->reduce(name, args, *m_arena);
        if (!reduced)
            return fail(reduced.error().message);
        if (*reduced != nullptr)
            return reduced;
    }
    // Anything else stays an inert description of the call.
    return makeObject(callable, args);
}

Unpickler::Step Unpickler::objectOpcode(uchar opcode)
{
    switch (opcode) {
    case GLOBAL: {
        std::optional<QString> name = readQualifiedName();
        if (!name)
            return fail(QStringLiteral("unterminated GLOBAL"));
        return makeString(*name, PickleKind::Global);
    }
    case STACK_GLOBAL: {
        const PickleValue *name = pop();
        const PickleValue *module = pop();
        if (module == nullptr || name == nullptr || module->kind != PickleKind::String || name->kind != PickleKind::String)
            return fail(QStringLiteral("STACK_GLOBAL needs two strings"));
        return makeString(module->text() + QLatin1Char('.') + name->text(), PickleKind::Global);
    }
    case REDUCE: {
        const PickleValue *args = pop();
        const PickleValue *callable = pop();
        if (args == nullptr || callable == nullptr)
            return fail(QStringLiteral("REDUCE on a short stack"));
        if (callable->kind != PickleKind::Global)
            return fail(QStringLiteral("REDUCE on a value that is not a class or function"));
        return reduce(callable, args);
    }
    case NEWOBJ:
    case NEWOBJ_EX: {
        const PickleValue *kwargs = opcode == NEWOBJ_EX ? pop() : nullptr;
        const PickleValue *args = pop();
        const PickleValue *cls = pop();
        if (args == nullptr || cls == nullptr || (opcode == NEWOBJ_EX && kwargs == nullptr))
            return fail(QStringLiteral("NEWOBJ on a short stack"));
        if (cls->kind != PickleKind::Global)
            return fail(QStringLiteral("NEWOBJ on a value that is not a class"));
        if (args->kind != PickleKind::Tuple)
            return fail(QStringLiteral("NEWOBJ arguments are not a tuple"));
        // cls.__new__(cls, *args): only plain containers are allowed to become values.
        if (isDictClass(qualifiedName(cls)))
            return make(PickleKind::Dict);
        return makeObject(cls, args);
    }
    case OBJ:
    case INST: {
        const PickleValue *cls = nullptr;
        std::optional<std::vector<const PickleValue *>> items = popToMark();
        if (!items)
            return fail(QStringLiteral("OBJ/INST without MARK"));
        if (opcode == INST) {
            std::optional<QString> name = readQualifiedName();
            if (!name)
                return fail(QStringLiteral("unterminated INST"));
            cls = makeString(*name, PickleKind::Global);
        } else {
            if (items->empty() || (*items)[0]->kind != PickleKind::Global)
                return fail(QStringLiteral("OBJ without a class"));
            cls = (*items)[0];
            items->erase(items->begin());
        }
        PickleValue *object = make(PickleKind::Object);
        PickleCall &call = object->callToFill();
        call.callable = cls;
        call.args = makeSequence(PickleKind::Tuple, std::move(*items));
        return object;
    }
    case BUILD: {
        const PickleValue *state = pop();
        if (state == nullptr || !hasTop())
            return fail(QStringLiteral("BUILD on a short stack"));
        PickleValue *target = const_cast<PickleValue *>(m_stack.back());
        // Objects keep their state for display; containers and tensors ignore it
        // (an OrderedDict's _metadata, a tensor's hooks) — nothing is ever called.
        if (target->kind == PickleKind::Object) {
            m_arena->remember(target); // its new state may be young
            if (!nest(target, state))
                return tooDeep();
            target->callToFill().state = state;
        }
        return nullptr;
    }
    default: { // PERSID, BINPERSID
        const PickleValue *id = nullptr;
        if (opcode == BINPERSID) {
            id = pop();
        } else {
            std::optional<QByteArray> line = readLine();
            if (line)
                id = makeString(QString::fromUtf8(*line));
        }
        if (id == nullptr)
            return fail(QStringLiteral("persistent id missing"));
        if (m_reducer != nullptr) {
            Step loaded = m_reducer->persistentLoad(id, *m_arena);
            if (!loaded)
                return fail(loaded.error().message);
            if (*loaded != nullptr)
                return loaded;
        }
        PickleValue *persistent = make(PickleKind::PersistentId);
        persistent->setPersistentId(id);
        return persistent;
    }
    }
}

} // namespace graft
