#pragma once
// Internal to the unpickler (pickle.h is its interface): the pickle machine's state and one
// function per family of opcodes. unpickler.cpp runs the loop and holds the stack and memo
// opcodes; unpicklerscalars.cpp, unpicklercontainers.cpp and unpicklerobjects.cpp the others.

#include "checkpoint/formats/bytereader.h"
#include "checkpoint/formats/pickle.h"
#include "checkpoint/formats/picklememoreads.h"
#include "checkpoint/formats/pickleopcodes.h"

#include <QByteArray>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace graft {

class Unpickler {
public:
    Unpickler(const uchar *data, qint64 size, qint64 baseOffset, const PickleReducer *reducer)
        : m_reader(data, size), m_baseOffset(baseOffset), m_reducer(reducer), m_arena(std::make_unique<PickleArena>()),
          m_memoReads(PickleMemoReads::scan(data, size))
    {
    }

    Result<Unpickled> run();

private:
    static constexpr size_t kMaxStack = 10'000'000;
    static constexpr size_t kMaxMemo = 10'000'000;
    // Memo indexes out of sequence cost a hash node each (~50 bytes): Python's picklers never
    // write them, so a million is plenty.
    static constexpr size_t kMaxSparseMemo = size_t(1) << 20;
    // The collector (collect()) runs each time kFirstCollection values were made (64k values
    // are 3 MB, plus what they hold): a minor collection of those, or a major one of all when
    // the old values (kept by earlier collections) reach twice what the last major one kept (at
    // least kFirstCollection), so dropped values never take more than the live ones. Values still in use after a
    // collection are capped: 8M values are 400 MB and more (a 100k-tensor state_dict keeps ~200k).
#ifdef GRAFT_PICKLE_FIRST_COLLECTION // the fuzzers collect after a few values, to exercise it
    static constexpr size_t kFirstCollection = GRAFT_PICKLE_FIRST_COLLECTION;
#else
    static constexpr size_t kFirstCollection = size_t(1) << 16;
#endif
    static constexpr size_t kMaxLiveValues = size_t(1) << 23;
    static constexpr qint64 kMaxLineLength = 1 << 20;
    static constexpr size_t kMaxSharedInts = 1 << 16;
    static constexpr int kMaxNesting = 1000;
    static constexpr qint64 kMaxLongDisplayBytes = 32; // a wider LONG shows its low 32 bytes

    // Opcodes by name (pickleopcodes.h).
    using enum pickleop::Opcode;

    /// What one opcode did: the value to push (nullptr: nothing to push) or what failed.
    using Step = Result<const PickleValue *>;

    // One function per family of opcodes, each called with an opcode of its family.
    Step stackOpcode(uchar opcode);     // MARK POP POP_MARK DUP
    Step memoOpcode(uchar opcode);      // PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET
    Step numberOpcode(uchar opcode);    // NONE NEWTRUE NEWFALSE INT BININT* LONG LONG1 LONG4 FLOAT BINFLOAT
    Step textOpcode(uchar opcode);      // STRING UNICODE and the length-prefixed strings and bytes
    Step containerOpcode(uchar opcode); // EMPTY_* TUPLE* LIST DICT FROZENSET
    Step addItemsOpcode(uchar opcode);  // APPEND APPENDS SETITEM SETITEMS ADDITEMS
    Step objectOpcode(uchar opcode);    // GLOBAL STACK_GLOBAL REDUCE NEWOBJ NEWOBJ_EX OBJ INST BUILD PERSID BINPERSID

    Error fail(const QString &what) const
    {
        return Error{QString(), QStringLiteral("pickle: %1 (at byte %2)").arg(what).arg(m_baseOffset + m_opcodeStart)};
    }
    /// Marks what the machine still reaches (stack, memo, shared values) and lets the arena
    /// reclaim the rest. Runs between opcodes only: no value is then held anywhere else.
    /// Minor (the values made since the last collection) or major (all values): picklearena.h.
    /// False when more than kMaxLiveValues values remain in use.
    bool collect();
    bool collectMajor();

    Error tooDeep() const { return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting)); }

    bool push(const PickleValue *value)
    {
        if (m_stack.size() >= kMaxStack)
            return false;
        m_stack.push_back(value);
        return true;
    }
    // True when the stack holds a value above the last MARK.
    bool hasTop() const { return !m_stack.empty() && m_stack.size() > (m_marks.empty() ? 0 : m_marks.back()); }
    const PickleValue *pop()
    {
        if (!hasTop())
            return nullptr;
        const PickleValue *value = m_stack.back();
        m_stack.pop_back();
        return value;
    }
    // Items pushed since the last MARK, which is removed.
    std::optional<std::vector<const PickleValue *>> popToMark()
    {
        if (m_marks.empty())
            return std::nullopt;
        const size_t mark = m_marks.back();
        m_marks.pop_back();
        std::vector<const PickleValue *> items(m_stack.begin() + static_cast<qint64>(mark), m_stack.end());
        m_stack.resize(mark);
        return items;
    }
    std::optional<QByteArray> readLine()
    {
        const uchar *start = m_reader.current();
        const qint64 limit = std::min(m_reader.remaining(), kMaxLineLength);
        const void *newline = std::memchr(start, '\n', static_cast<size_t>(limit));
        if (newline == nullptr)
            return std::nullopt;
        const qint64 length = static_cast<const uchar *>(newline) - start;
        m_reader.skip(length + 1);
        return QByteArray(reinterpret_cast<const char *>(start), length);
    }
    // GLOBAL and INST name a class as two lines: module, then name.
    std::optional<QString> readQualifiedName()
    {
        std::optional<QByteArray> module = readLine();
        std::optional<QByteArray> name = module ? readLine() : std::nullopt;
        if (!name)
            return std::nullopt;
        return QString::fromUtf8(*module) + QLatin1Char('.') + QString::fromUtf8(*name);
    }

    PickleValue *make(PickleKind kind) { return m_arena->make(kind); }
    // Ints, bools and None are never modified and repeat in every tensor (shape, stride,
    // offset, requires_grad): one value each instead of one per occurrence (a 100k-tensor
    // state_dict would otherwise make ~700k of them).
    const PickleValue *makeInt(qint64 value)
    {
        if (const auto it = m_ints.find(value); it != m_ints.end())
            return it->second;
        PickleValue *v = make(PickleKind::Int);
        v->integer = value;
        if (m_ints.size() < kMaxSharedInts)
            m_ints.emplace(value, v);
        return v;
    }
    const PickleValue *makeBool(bool value)
    {
        const PickleValue *&shared = value ? m_true : m_false;
        if (shared == nullptr) {
            PickleValue *v = make(PickleKind::Bool);
            v->boolean = value;
            shared = v;
        }
        return shared;
    }
    const PickleValue *makeString(QString text, PickleKind kind = PickleKind::String)
    {
        PickleValue *v = make(kind);
        v->setText(std::move(text));
        return v;
    }
    const PickleValue *makeSequence(PickleKind kind, std::vector<const PickleValue *> items)
    {
        PickleValue *v = make(kind);
        v->setItems(std::move(items));
        return v;
    }
    const PickleValue *makeLong(const uchar *bytes, qint64 length);
    const PickleValue *makeObject(const PickleValue *cls, const PickleValue *args)
    {
        PickleValue *object = make(PickleKind::Object);
        object->callToFill().callable = cls;
        object->callToFill().args = args;
        return object;
    }

    // Picklers number memo entries 0, 1, 2, … in order: those are counted (m_memoCount), and
    // the values of the ones the pickle reads back live in a vector, which reaches only as far
    // as the last such index (a hash insert per value was 8% of opening a 100k-tensor
    // checkpoint; a slot per index was 6.4 MB for its 802k stores, of which 6 are read).
    // Indexes out of sequence (odd or hostile files) go to a hash. An index is in at most one
    // of the two.
    size_t memoSize() const { return m_memoCount + m_sparseMemo.size(); }
    bool memoPut(quint64 index, const PickleValue *value);
    /// Stores `value` under the counted index `index` (< m_memoCount), growing the vector to it.
    void keepInMemo(quint64 index, const PickleValue *value)
    {
        if (index >= m_memo.size())
            m_memo.resize(static_cast<size_t>(index) + 1, nullptr);
        m_memo[static_cast<size_t>(index)] = value;
    }
    const PickleValue *memoGet(quint64 index) const
    {
        if (index < m_memo.size())
            return m_memo[static_cast<size_t>(index)];
        if (index < m_memoCount)
            return nullptr; // counted but not kept: nothing reads it
        const auto it = m_sparseMemo.find(index);
        return it == m_sparseMemo.end() ? nullptr : it->second;
    }

    // Containers are built by reference; nesting deeper than kMaxNesting is refused so later
    // walks can recurse safely.
    static bool nest(PickleValue *container, const PickleValue *child)
    {
        container->nesting = std::max(container->nesting, child->nesting + 1);
        return container->nesting <= kMaxNesting;
    }
    // Fills `container` with `items`, refusing nesting beyond kMaxNesting.
    bool nestAll(PickleValue *container, std::span<const PickleValue *const> items)
    {
        for (const PickleValue *item : items) {
            if (!nest(container, item))
                return false;
        }
        return true;
    }
    Step reduce(const PickleValue *callable, const PickleValue *args);

    ByteReader m_reader;
    qint64 m_baseOffset;
    qint64 m_opcodeStart = 0;
    const PickleReducer *m_reducer;
    std::unique_ptr<PickleArena> m_arena;
    size_t m_nextMajorCollection = kFirstCollection; // a collection is major from this many old values
    std::vector<const PickleValue *> m_stack;
    std::vector<size_t> m_marks;
    size_t m_memoCount = 0;
    std::vector<const PickleValue *> m_memo;
    std::unordered_map<quint64, const PickleValue *> m_sparseMemo;
    // The memo indexes the pickle reads back: a store under any other index keeps the index
    // (MEMOIZE numbers by the memo's size) but not the value, which the collector may reclaim.
    PickleMemoReads m_memoReads;
    std::unordered_map<qint64, const PickleValue *> m_ints; // shared Int values (makeInt)
    const PickleValue *m_true = nullptr;
    const PickleValue *m_false = nullptr;
    const PickleValue *m_none = nullptr;
    const PickleValue *m_emptyTuple = nullptr;
};

} // namespace graft
