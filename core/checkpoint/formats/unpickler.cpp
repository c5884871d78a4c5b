#include "checkpoint/formats/unpickler.h"

namespace graft {

Result<Unpickled> Unpickler::run()
{
    while (true) {
        m_opcodeStart = m_reader.position();
        if (m_arena->youngCount() >= kFirstCollection && !collect())
            return fail(QStringLiteral("more than %1 values in use").arg(kMaxLiveValues));
        if (m_reader.atEnd())
            return fail(QStringLiteral("data ends before STOP"));
        const uchar opcode = m_reader.u8();
        Step step = static_cast<const PickleValue *>(nullptr);

        switch (opcode) {
        // Framing: the protocol, frames (read through: the data is all in memory) and the end.
        case PROTO:
            if (m_reader.u8() > 5)
                return fail(QStringLiteral("unsupported pickle protocol"));
            break;
        case FRAME:
            m_reader.u64();
            break;
        case STOP: {
            const PickleValue *root = pop();
            if (root == nullptr || !m_marks.empty())
                return fail(QStringLiteral("STOP with an empty stack or an open MARK"));
            return Unpickled{std::move(m_arena), root, m_reader.position()};
        }
        case MARK:
        case POP:
        case POP_MARK:
        case DUP: step = stackOpcode(opcode); break;
        case PUT:
        case BINPUT:
        case LONG_BINPUT:
        case MEMOIZE:
        case GET:
        case BINGET:
        case LONG_BINGET: step = memoOpcode(opcode); break;
        case NONE:
        case NEWTRUE:
        case NEWFALSE:
        case INT:
        case BININT:
        case BININT1:
        case BININT2:
        case LONG:
        case LONG1:
        case LONG4:
        case FLOAT:
        case BINFLOAT: step = numberOpcode(opcode); break;
        case STRING:
        case UNICODE:
        case BINSTRING:
        case SHORT_BINSTRING:
        case BINUNICODE:
        case SHORT_BINUNICODE:
        case BINUNICODE8:
        case BINBYTES:
        case SHORT_BINBYTES:
        case BINBYTES8: step = textOpcode(opcode); break;
        case EMPTY_TUPLE:
        case EMPTY_LIST:
        case EMPTY_DICT:
        case EMPTY_SET:
        case TUPLE1:
        case TUPLE2:
        case TUPLE3:
        case TUPLE:
        case LIST:
        case DICT:
        case FROZENSET: step = containerOpcode(opcode); break;
        case APPEND:
        case APPENDS:
        case SETITEM:
        case SETITEMS:
        case ADDITEMS: step = addItemsOpcode(opcode); break;
        case GLOBAL:
        case STACK_GLOBAL:
        case REDUCE:
        case NEWOBJ:
        case NEWOBJ_EX:
        case OBJ:
        case INST:
        case BUILD:
        case PERSID:
        case BINPERSID: step = objectOpcode(opcode); break;
        default:
            return fail(QStringLiteral("unknown or unsupported opcode 0x%1").arg(opcode, 2, 16, QLatin1Char('0')));
        }

        if (!step)
            return step.error();
        if (m_reader.failed())
            return fail(QStringLiteral("data ends in the middle of an opcode"));
        if (*step != nullptr && !push(*step))
            return fail(QStringLiteral("stack grows beyond %1 entries").arg(kMaxStack));
    }
}

Unpickler::Step Unpickler::stackOpcode(uchar opcode)
{
    switch (opcode) {
    case MARK:
        if (m_marks.size() >= kMaxStack)
            return fail(QStringLiteral("more than %1 open MARKs").arg(kMaxStack));
        m_marks.push_back(m_stack.size());
        return nullptr;
    case POP:
        if (pop() == nullptr)
            return fail(QStringLiteral("POP on an empty stack"));
        return nullptr;
    case POP_MARK:
        if (!popToMark())
            return fail(QStringLiteral("POP_MARK without MARK"));
        return nullptr;
    default: // DUP
        if (m_stack.empty())
            return fail(QStringLiteral("DUP on an empty stack"));
        return m_stack.back();
    }
}

bool Unpickler::memoPut(quint64 index, const PickleValue *value)
{
    if (index < m_memoCount) {
        if (index < m_memo.size())
            m_memo[static_cast<size_t>(index)] = value;
        else if (value != nullptr)
            keepInMemo(index, value);
        return true;
    }
    const bool known = m_sparseMemo.count(index) != 0;
    if (memoSize() >= kMaxMemo && !known)
        return false;
    if (index == m_memoCount) {
        if (known)
            m_sparseMemo.erase(index);
        ++m_memoCount;
        if (value != nullptr)
            keepInMemo(index, value);
    } else {
        if (!known && m_sparseMemo.size() >= kMaxSparseMemo)
            return false;
        m_sparseMemo[index] = value;
    }
    return true;
}

bool Unpickler::collect()
{
    // Minor, unless the old values (those earlier collections kept, dropped ones included) have
    // doubled since the last major collection: dropped old values then never take more than the
    // live ones, as with a full collection each time.
    const bool major = m_arena->live() - m_arena->youngCount() >= m_nextMajorCollection;
    if (major)
        m_arena->demoteOld();
    std::vector<const PickleValue *> pending;
    const auto reach = [&pending](const PickleValue *value) {
        if (value != nullptr && PickleArena::mark(value))
            pending.push_back(value);
    };
    for (const PickleValue *value : m_stack)
        reach(value);
    for (const PickleValue *value : m_memo)
        reach(value);
    for (const auto &[index, value] : m_sparseMemo)
        reach(value);
    for (const auto &[number, value] : m_ints)
        reach(value);
    for (const PickleValue *value : {m_true, m_false, m_none, m_emptyTuple})
        reach(value);
    // Every pointer a value holds (picklevalue.h): items, entries, callable, args, state and a
    // tensor's storage id (or its numel). A field added there must be added here, and a value
    // given new pointers after it is made must be remembered first (PickleArena::remember).
    const auto reachChildren = [&reach](const PickleValue *value, size_t itemsFrom, size_t entriesFrom) {
        const std::span<const PickleValue *const> items = value->items();
        for (size_t i = itemsFrom; i < items.size(); ++i)
            reach(items[i]);
        const PickleEntries &entries = value->entries();
        for (size_t i = entriesFrom; i < entries.size(); ++i) {
            reach(entries[i].first);
            reach(entries[i].second);
        }
        reach(value->callable());
        reach(value->args());
        reach(value->state());
        if (const PickledTensor *tensor = value->tensor()) {
            reach(tensor->storage);
            if (tensor->storageId) {
                reach(tensor->storageId->storageClass);
                reach(tensor->storageId->key);
                reach(tensor->storageId->numel);
            }
        }
    };
    // A minor collection keeps every old value: only the new items of old containers lead
    // from them to young values.
    if (!major) {
        for (const PickleArena::Remembered &entry : m_arena->remembered())
            reachChildren(entry.container, entry.itemsFrom, entry.entriesFrom);
    }
    while (!pending.empty()) {
        const PickleValue *value = pending.back();
        pending.pop_back();
        reachChildren(value, 0, 0);
    }
    if (!major) {
        m_arena->sweepYoung();
        // Old garbage past the cap: a major collection tells what is really in use.
        return m_arena->live() <= kMaxLiveValues || collectMajor();
    }
    m_arena->sweep();
    const size_t live = m_arena->live();
    m_nextMajorCollection = std::max(kFirstCollection, 2 * live);
    return live <= kMaxLiveValues;
}

bool Unpickler::collectMajor()
{
    m_nextMajorCollection = 0;
    return collect();
}

Unpickler::Step Unpickler::memoOpcode(uchar opcode)
{
    const bool isPut = opcode == PUT || opcode == BINPUT || opcode == LONG_BINPUT || opcode == MEMOIZE;
    quint64 index = 0;
    if (opcode == BINPUT || opcode == BINGET) {
        index = m_reader.u8();
    } else if (opcode == LONG_BINPUT || opcode == LONG_BINGET) {
        index = m_reader.u32();
    } else if (opcode == MEMOIZE) {
        index = memoSize();
    } else { // PUT, GET: the index as a line of text
        std::optional<QByteArray> line = readLine();
        bool ok = false;
        index = line ? line->toULongLong(&ok) : 0;
        if (!ok)
            return fail(isPut ? QStringLiteral("invalid PUT index") : QStringLiteral("invalid GET index"));
    }
    if (isPut) {
        if (m_stack.empty())
            return fail(QStringLiteral("memo store on an empty stack"));
        if (!memoPut(index, m_memoReads.isRead(index) ? m_stack.back() : nullptr))
            return fail(QStringLiteral("more than %1 memo entries (or %2 out of sequence)").arg(kMaxMemo).arg(kMaxSparseMemo));
        return nullptr;
    }
    const PickleValue *value = memoGet(index);
    if (value == nullptr)
        return fail(QStringLiteral("memo entry %1 does not exist").arg(index));
    return value;
}

Result<Unpickled> unpickle(const uchar *data, qint64 size, qint64 baseOffset, const PickleReducer *reducer)
{
    Unpickler unpickler(data, size, baseOffset, reducer);
    return unpickler.run();
}

} // namespace graft
