// The unpickler's container opcodes: tuples, lists, dicts and sets, made whole or filled
// item by item (APPEND, SETITEMS, ...).
#include "checkpoint/formats/unpickler.h"

namespace graft {

Unpickler::Step Unpickler::containerOpcode(uchar opcode)
{
    switch (opcode) {
    case EMPTY_TUPLE:
        // Immutable, so one value serves them all (torch writes one per tensor).
        if (m_emptyTuple == nullptr)
            m_emptyTuple = makeSequence(PickleKind::Tuple, {});
        return m_emptyTuple;
    case EMPTY_LIST: return make(PickleKind::List);
    case EMPTY_DICT: return make(PickleKind::Dict);
    case EMPTY_SET: return make(PickleKind::Set);
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
        const size_t count = opcode - TUPLE1 + 1;
        const PickleValue *items[3] = {};
        for (size_t i = count; i-- > 0;) {
            items[i] = pop();
            if (items[i] == nullptr)
                return fail(QStringLiteral("TUPLE%1 on a short stack").arg(count));
        }
        PickleValue *tuple = make(PickleKind::Tuple);
        const std::span<const PickleValue *const> taken(items, count);
        if (!nestAll(tuple, taken))
            return tooDeep();
        tuple->setItems(taken);
        return tuple;
    }
    case DICT: {
        std::optional<std::vector<const PickleValue *>> items = popToMark();
        if (!items || items->size() % 2 != 0)
            return fail(QStringLiteral("DICT without MARK or with an odd item count"));
        PickleValue *dict = make(PickleKind::Dict);
        for (size_t i = 0; i < items->size(); i += 2) {
            if (!nest(dict, (*items)[i + 1]))
                return tooDeep();
            dict->entriesToFill().emplace_back((*items)[i], (*items)[i + 1]);
        }
        return dict;
    }
    default: { // TUPLE, LIST, FROZENSET
        std::optional<std::vector<const PickleValue *>> items = popToMark();
        if (!items)
            return fail(QStringLiteral("TUPLE/LIST without MARK"));
        PickleValue *sequence = make(opcode == TUPLE ? PickleKind::Tuple : opcode == LIST ? PickleKind::List : PickleKind::Set);
        if (!nestAll(sequence, *items))
            return tooDeep();
        sequence->setItems(std::move(*items));
        return sequence;
    }
    }
}

Unpickler::Step Unpickler::addItemsOpcode(uchar opcode)
{
    std::vector<const PickleValue *> items;
    if (opcode == APPEND) {
        const PickleValue *item = pop();
        if (item == nullptr)
            return fail(QStringLiteral("APPEND on an empty stack"));
        items.push_back(item);
    } else if (opcode == SETITEM) {
        const PickleValue *v = pop();
        const PickleValue *k = pop();
        if (k == nullptr || v == nullptr)
            return fail(QStringLiteral("SETITEM on a short stack"));
        items = {k, v};
    } else {
        std::optional<std::vector<const PickleValue *>> marked = popToMark();
        if (!marked)
            return fail(QStringLiteral("APPENDS/SETITEMS without MARK"));
        items = std::move(*marked);
    }
    if (!hasTop())
        return fail(QStringLiteral("no container to add items to"));
    // Only values made by this unpickler are on the stack; the arena owns them mutably.
    PickleValue *container = const_cast<PickleValue *>(m_stack.back());
    m_arena->remember(container); // an old container's new items are young values' roots
    if (opcode == SETITEM || opcode == SETITEMS) {
        if (items.size() % 2 != 0)
            return fail(QStringLiteral("SETITEMS with an odd item count"));
        if (container->kind != PickleKind::Dict && container->kind != PickleKind::Object)
            return fail(QStringLiteral("SETITEMS on a value that is not a dict"));
        for (size_t i = 0; i < items.size(); i += 2) {
            if (!nest(container, items[i + 1]))
                return tooDeep();
            container->entriesToFill().emplace_back(items[i], items[i + 1]);
        }
        return nullptr;
    }
    const bool fits = container->kind == PickleKind::List || container->kind == PickleKind::Set || container->kind == PickleKind::Object;
    if (!fits)
        return fail(QStringLiteral("APPEND on a value that is not a list"));
    if (!nestAll(container, items))
        return tooDeep();
    PickleItems &filled = container->itemsToFill();
    filled.insert(filled.end(), items.begin(), items.end());
    return nullptr;
}

} // namespace graft
