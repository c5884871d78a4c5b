#include "checkpoint/formats/pickle.h"

#include "checkpoint/formats/bytereader.h"

#include <QStringList>

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>

namespace graft {
namespace {

constexpr size_t kMaxStack = 10'000'000;
constexpr size_t kMaxMemo = 10'000'000;
constexpr qint64 kMaxLineLength = 1 << 20;
constexpr size_t kMaxSharedInts = 1 << 16;
constexpr int kMaxNesting = 1000;
constexpr qint64 kMaxLongDisplayBytes = 32; // a wider LONG shows its low 32 bytes
constexpr size_t kHugePage = size_t(2) << 20;

// Asks for transparent huge pages (when the kernel offers them on request); only a hint.
void adviseHugePages(void *start, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    madvise(start, bytes, MADV_HUGEPAGE);
#else
    Q_UNUSED(start);
    Q_UNUSED(bytes);
#endif
}

// Opcodes (CPython Lib/pickle.py).
enum Opcode : uchar {
    MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I',
    BININT = 'J', BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', PERSID = 'P',
    BINPERSID = 'Q', REDUCE = 'R', STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U',
    UNICODE = 'V', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd',
    EMPTY_DICT = '}', APPENDS = 'e', GET = 'g', BINGET = 'h', INST = 'i', LONG_BINGET = 'j',
    LIST = 'l', EMPTY_LIST = ']', OBJ = 'o', PUT = 'p', BINPUT = 'q', LONG_BINPUT = 'r',
    SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
    PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
    NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, BINBYTES = 'B', SHORT_BINBYTES = 'C',
    SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
    ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94,
    FRAME = 0x95,
};

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

class Unpickler {
public:
    Unpickler(const uchar *data, qint64 size, qint64 baseOffset)
        : m_reader(data, size), m_baseOffset(baseOffset), m_arena(std::make_unique<PickleArena>())
    {
    }

    Result<Unpickled> run();

private:
    Error fail(const QString &what) const
    {
        return Error{QString(), QStringLiteral("pickle: %1 (at byte %2)").arg(what).arg(m_baseOffset + m_opcodeStart)};
    }
    bool push(const PickleValue *value)
    {
        if (m_stack.size() >= kMaxStack)
            return false;
        m_stack.push_back(value);
        return true;
    }
    const PickleValue *pop()
    {
        if (m_stack.empty() || m_stack.size() <= (m_marks.empty() ? 0 : m_marks.back()))
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
    const PickleValue *makeNone()
    {
        if (m_none == nullptr)
            m_none = make(PickleKind::None);
        return m_none;
    }
    const PickleValue *makeString(QString text, PickleKind kind = PickleKind::String)
    {
        PickleValue *v = make(kind);
        v->text = std::move(text);
        return v;
    }
    const PickleValue *makeBytes(const uchar *data, qint64 length)
    {
        PickleValue *v = make(PickleKind::Bytes);
        v->bytes = QByteArray(reinterpret_cast<const char *>(data), length);
        return v;
    }
    const PickleValue *makeSequence(PickleKind kind, std::vector<const PickleValue *> items)
    {
        PickleValue *v = make(kind);
        v->items = std::move(items);
        return v;
    }
    const PickleValue *makeLong(const uchar *bytes, qint64 length);
    // Picklers number memo entries 0, 1, 2, … in order: those live in a vector (a hash insert
    // per value was 8% of opening a 100k-tensor checkpoint); indexes out of sequence (odd or
    // hostile files) go to a hash. An index is in at most one of the two.
    size_t memoSize() const { return m_memo.size() + m_sparseMemo.size(); }
    bool memoPut(quint64 index, const PickleValue *value)
    {
        if (index < m_memo.size()) {
            m_memo[static_cast<size_t>(index)] = value;
            return true;
        }
        const bool known = m_sparseMemo.count(index) != 0;
        if (memoSize() >= kMaxMemo && !known)
            return false;
        if (index == m_memo.size()) {
            if (known)
                m_sparseMemo.erase(index);
            m_memo.push_back(value);
        } else {
            m_sparseMemo[index] = value;
        }
        return true;
    }
    const PickleValue *memoGet(quint64 index) const
    {
        if (index < m_memo.size())
            return m_memo[static_cast<size_t>(index)];
        const auto it = m_sparseMemo.find(index);
        return it == m_sparseMemo.end() ? nullptr : it->second;
    }
    // Containers are built by reference; nesting deeper than kMaxNesting is refused so later
    // walks can recurse safely.
    bool nest(PickleValue *container, const PickleValue *child);
    Result<const PickleValue *> reduce(const PickleValue *callable, const PickleValue *args);
    Result<const PickleValue *> rebuildTensor(const QString &name, const PickleValue *args);

    ByteReader m_reader;
    qint64 m_baseOffset;
    qint64 m_opcodeStart = 0;
    std::unique_ptr<PickleArena> m_arena;
    std::vector<const PickleValue *> m_stack;
    std::vector<size_t> m_marks;
    std::vector<const PickleValue *> m_memo;
    std::unordered_map<quint64, const PickleValue *> m_sparseMemo;
    std::unordered_map<qint64, const PickleValue *> m_ints; // shared Int values (makeInt)
    const PickleValue *m_true = nullptr;
    const PickleValue *m_false = nullptr;
    const PickleValue *m_none = nullptr;
    const PickleValue *m_emptyTuple = nullptr;
};

bool Unpickler::nest(PickleValue *container, const PickleValue *child)
{
    container->nesting = std::max(container->nesting, child->nesting + 1);
    return container->nesting <= kMaxNesting;
}

const PickleValue *Unpickler::makeLong(const uchar *bytes, qint64 length)
{
    PickleValue *v = make(PickleKind::Int);
    if (length == 0)
        return v;
    if (length <= 8) {
        quint64 raw = 0;
        std::memcpy(&raw, bytes, static_cast<size_t>(length));
        if (length < 8 && (bytes[length - 1] & 0x80)) // sign-extend
            raw |= ~quint64(0) << (8 * length);
        v->integer = static_cast<qint64>(raw);
        return v;
    }
    // Wider than 64 bits: keep a hex rendering (two's complement, most significant byte first)
    // for display and for the legacy format's magic number; such values are never sizes. A
    // hostile LONG4 can be as long as the file: past kMaxLongDisplayBytes the rendering keeps
    // the low bytes and says how long the number was, so an error message stays readable.
    v->integerOverflow = true;
    const qint64 shown = std::min<qint64>(length, kMaxLongDisplayBytes);
    QByteArray bigEndian(static_cast<qsizetype>(shown), Qt::Uninitialized);
    for (qint64 i = 0; i < shown; ++i)
        bigEndian[static_cast<qsizetype>(i)] = static_cast<char>(bytes[shown - 1 - i]);
    v->text = QStringLiteral("0x") + QString::fromLatin1(bigEndian.toHex());
    if (shown < length)
        v->text = QStringLiteral("%1… (a %2-byte integer, low %3 bytes shown)").arg(v->text).arg(length).arg(shown);
    return v;
}

Result<const PickleValue *> Unpickler::rebuildTensor(const QString &name, const PickleValue *args)
{
    // _rebuild_tensor(storage, offset, size, stride)
    // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
    // _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
    const auto &a = args->items;
    if (a.size() < 4 || a[0]->kind != PickleKind::PersistentId || a[1]->kind != PickleKind::Int
        || (a[2]->kind != PickleKind::Tuple && a[2]->kind != PickleKind::List)
        || (a[3]->kind != PickleKind::Tuple && a[3]->kind != PickleKind::List))
        return fail(QStringLiteral("%1 called with unexpected arguments").arg(name));
    PickleValue *tensor = make(PickleKind::Tensor);
    tensor->tensor = std::make_unique<PickledTensor>();
    tensor->tensor->storage = a[0];
    tensor->tensor->storageOffset = a[1]->integer;
    for (const PickleValue *dim : a[2]->items) {
        if (dim->kind != PickleKind::Int || dim->integerOverflow)
            return fail(QStringLiteral("%1: a size is not an integer").arg(name));
        tensor->tensor->shape.push_back(dim->integer);
    }
    for (const PickleValue *stride : a[3]->items) {
        if (stride->kind != PickleKind::Int || stride->integerOverflow)
            return fail(QStringLiteral("%1: a stride is not an integer").arg(name));
        tensor->tensor->strides.push_back(stride->integer);
    }
    if (name.endsWith(QLatin1String("_v3"))) {
        if (a.size() < 7 || a[6]->kind != PickleKind::Global)
            return fail(QStringLiteral("%1 without a dtype").arg(name));
        tensor->tensor->dtype = dtypeOfTorchGlobal(a[6]->text);
        if (!tensor->tensor->dtype)
            return fail(QStringLiteral("%1 with unsupported dtype %2").arg(name, a[6]->text));
    }
    return static_cast<const PickleValue *>(tensor);
}

Result<const PickleValue *> Unpickler::reduce(const PickleValue *callable, const PickleValue *args)
{
    if (args->kind != PickleKind::Tuple)
        return fail(QStringLiteral("REDUCE arguments are not a tuple"));
    const QString name = qualifiedName(callable);
    if (name == QLatin1String("collections.OrderedDict") || name == QLatin1String("builtins.dict")) {
        if (!args->items.empty())
            return fail(QStringLiteral("%1 called with arguments").arg(name));
        return static_cast<const PickleValue *>(make(PickleKind::Dict));
    }
    if (name == QLatin1String("torch._utils._rebuild_tensor") || name == QLatin1String("torch._utils._rebuild_tensor_v2")
        || name == QLatin1String("torch._utils._rebuild_tensor_v3"))
        return rebuildTensor(name, args);
    if (name == QLatin1String("torch._utils._rebuild_parameter")
        || name == QLatin1String("torch._utils._rebuild_parameter_with_state")) {
        if (args->items.empty() || args->items[0]->kind != PickleKind::Tensor)
            return fail(QStringLiteral("%1 without a tensor").arg(name));
        PickleValue *parameter = make(PickleKind::Tensor);
        parameter->tensor = std::make_unique<PickledTensor>(*args->items[0]->tensor);
        parameter->tensor->isParameter = true;
        return static_cast<const PickleValue *>(parameter);
    }
    if (name == QLatin1String("_codecs.encode")) {
        // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1'): latin1 of text is the bytes.
        if (args->items.empty() || args->items[0]->kind != PickleKind::String)
            return fail(QStringLiteral("_codecs.encode with unexpected arguments"));
        PickleValue *bytes = make(PickleKind::Bytes);
        bytes->bytes = args->items[0]->text.toLatin1();
        return static_cast<const PickleValue *>(bytes);
    }
    if (name == QLatin1String("torch.Size") && !args->items.empty() && args->items[0]->kind == PickleKind::Tuple)
        return args->items[0];
    if ((name == QLatin1String("builtins.set") || name == QLatin1String("builtins.frozenset"))) {
        PickleValue *set = make(PickleKind::Set);
        if (!args->items.empty() && !args->items[0]->items.empty())
            set->items = args->items[0]->items;
        return static_cast<const PickleValue *>(set);
    }
    // Anything else stays an inert description of the call.
    PickleValue *object = make(PickleKind::Object);
    object->callable = callable;
    object->args = args;
    return static_cast<const PickleValue *>(object);
}

Result<Unpickled> Unpickler::run()
{
    while (true) {
        m_opcodeStart = m_reader.position();
        if (m_reader.atEnd())
            return fail(QStringLiteral("data ends before STOP"));
        const uchar opcode = m_reader.u8();
        const PickleValue *value = nullptr; // pushed after the switch when set

        switch (opcode) {
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
            m_marks.push_back(m_stack.size());
            break;
        case POP:
            if (pop() == nullptr)
                return fail(QStringLiteral("POP on an empty stack"));
            break;
        case POP_MARK:
            if (!popToMark())
                return fail(QStringLiteral("POP_MARK without MARK"));
            break;
        case DUP:
            if (m_stack.empty())
                return fail(QStringLiteral("DUP on an empty stack"));
            value = m_stack.back();
            break;
        case NONE: value = makeNone(); break;
        case NEWTRUE:
        case NEWFALSE: value = makeBool(opcode == NEWTRUE); break;
        case BININT: value = makeInt(m_reader.i32()); break;
        case BININT1: value = makeInt(m_reader.u8()); break;
        case BININT2: value = makeInt(m_reader.u16()); break;
        case LONG1: {
            const quint8 length = m_reader.u8();
            const uchar *bytes = m_reader.take(length);
            if (bytes == nullptr)
                return fail(QStringLiteral("truncated LONG1"));
            value = makeLong(bytes, length);
            break;
        }
        case LONG4: {
            const qint32 length = m_reader.i32();
            const uchar *bytes = length >= 0 ? m_reader.take(length) : nullptr;
            if (bytes == nullptr)
                return fail(QStringLiteral("invalid or truncated LONG4"));
            value = makeLong(bytes, length);
            break;
        }
        case INT:
        case LONG: {
            std::optional<QByteArray> line = readLine();
            if (!line)
                return fail(QStringLiteral("unterminated INT/LONG"));
            QByteArray digits = line->trimmed();
            if (digits.endsWith('L'))
                digits.chop(1);
            if (digits == "00" || digits == "01") { // protocol 0 booleans
                value = makeBool(digits == "01");
                break;
            }
            bool ok = false;
            const qint64 number = digits.toLongLong(&ok);
            if (!ok)
                return fail(QStringLiteral("invalid integer literal"));
            value = makeInt(number);
            break;
        }
        case BINFLOAT: {
            const uchar *bytes = m_reader.take(8);
            if (bytes == nullptr)
                return fail(QStringLiteral("truncated BINFLOAT"));
            quint64 raw = 0;
            for (int i = 0; i < 8; ++i)
                raw = (raw << 8) | bytes[i]; // big-endian
            PickleValue *f = make(PickleKind::Float);
            std::memcpy(&f->number, &raw, 8);
            value = f;
            break;
        }
        case FLOAT: {
            std::optional<QByteArray> line = readLine();
            bool ok = false;
            const double number = line ? line->trimmed().toDouble(&ok) : 0.0;
            if (!ok)
                return fail(QStringLiteral("invalid FLOAT"));
            PickleValue *f = make(PickleKind::Float);
            f->number = number;
            value = f;
            break;
        }
        case BINUNICODE:
        case SHORT_BINUNICODE:
        case BINUNICODE8:
        case BINSTRING:
        case SHORT_BINSTRING:
        case BINBYTES:
        case SHORT_BINBYTES:
        case BINBYTES8: {
            qint64 length = 0;
            if (opcode == SHORT_BINUNICODE || opcode == SHORT_BINSTRING || opcode == SHORT_BINBYTES)
                length = m_reader.u8();
            else if (opcode == BINUNICODE8 || opcode == BINBYTES8)
                length = static_cast<qint64>(std::min<quint64>(m_reader.u64(), quint64(1) << 62));
            else if (opcode == BINSTRING)
                length = m_reader.i32();
            else
                length = m_reader.u32();
            const uchar *bytes = length >= 0 ? m_reader.take(length) : nullptr;
            if (bytes == nullptr)
                return fail(QStringLiteral("string of %1 bytes runs past the end of the data").arg(length));
            if (opcode == BINBYTES || opcode == SHORT_BINBYTES || opcode == BINBYTES8)
                value = makeBytes(bytes, length);
            else if (opcode == BINSTRING || opcode == SHORT_BINSTRING)
                value = makeString(QString::fromLatin1(reinterpret_cast<const char *>(bytes), length));
            else
                value = makeString(QString::fromUtf8(reinterpret_cast<const char *>(bytes), length));
            break;
        }
        case STRING:
        case UNICODE: {
            std::optional<QByteArray> line = readLine();
            if (!line)
                return fail(QStringLiteral("unterminated STRING"));
            QByteArray text = *line;
            if (opcode == STRING && text.size() >= 2 && (text.front() == '\'' || text.front() == '"'))
                text = text.mid(1, text.size() - 2);
            value = makeString(QString::fromLatin1(text));
            break;
        }
        case EMPTY_TUPLE:
            // Immutable, so one value serves them all (torch writes one per tensor).
            if (m_emptyTuple == nullptr)
                m_emptyTuple = makeSequence(PickleKind::Tuple, {});
            value = m_emptyTuple;
            break;
        case EMPTY_LIST: value = make(PickleKind::List); break;
        case EMPTY_DICT: value = make(PickleKind::Dict); break;
        case EMPTY_SET: value = make(PickleKind::Set); break;
        case TUPLE1:
        case TUPLE2:
        case TUPLE3: {
            const size_t count = opcode - TUPLE1 + 1;
            std::vector<const PickleValue *> items(count);
            for (size_t i = count; i-- > 0;) {
                items[i] = pop();
                if (items[i] == nullptr)
                    return fail(QStringLiteral("TUPLE%1 on a short stack").arg(count));
            }
            PickleValue *tuple = make(PickleKind::Tuple);
            for (const PickleValue *item : items) {
                if (!nest(tuple, item))
                    return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting));
            }
            tuple->items = std::move(items);
            value = tuple;
            break;
        }
        case TUPLE:
        case LIST:
        case FROZENSET: {
            std::optional<std::vector<const PickleValue *>> items = popToMark();
            if (!items)
                return fail(QStringLiteral("TUPLE/LIST without MARK"));
            PickleValue *sequence = make(opcode == TUPLE ? PickleKind::Tuple
                                          : opcode == LIST ? PickleKind::List : PickleKind::Set);
            for (const PickleValue *item : *items) {
                if (!nest(sequence, item))
                    return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting));
            }
            sequence->items = std::move(*items);
            value = sequence;
            break;
        }
        case DICT: {
            std::optional<std::vector<const PickleValue *>> items = popToMark();
            if (!items || items->size() % 2 != 0)
                return fail(QStringLiteral("DICT without MARK or with an odd item count"));
            PickleValue *dict = make(PickleKind::Dict);
            for (size_t i = 0; i < items->size(); i += 2) {
                if (!nest(dict, (*items)[i + 1]))
                    return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting));
                dict->entries.emplace_back((*items)[i], (*items)[i + 1]);
            }
            value = dict;
            break;
        }
        case APPEND:
        case APPENDS:
        case SETITEM:
        case SETITEMS:
        case ADDITEMS: {
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
            if (m_stack.empty() || m_stack.size() <= (m_marks.empty() ? 0 : m_marks.back()))
                return fail(QStringLiteral("no container to add items to"));
            // Only values made by this unpickler are on the stack; the arena owns them mutably.
            PickleValue *container = const_cast<PickleValue *>(m_stack.back());
            const bool isDictOp = opcode == SETITEM || opcode == SETITEMS;
            if (isDictOp) {
                if (items.size() % 2 != 0)
                    return fail(QStringLiteral("SETITEMS with an odd item count"));
                if (container->kind != PickleKind::Dict && container->kind != PickleKind::Object)
                    return fail(QStringLiteral("SETITEMS on a value that is not a dict"));
                for (size_t i = 0; i < items.size(); i += 2) {
                    if (!nest(container, items[i + 1]))
                        return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting));
                    container->entries.emplace_back(items[i], items[i + 1]);
                }
            } else {
                const bool fits = container->kind == PickleKind::List || container->kind == PickleKind::Set
                                  || container->kind == PickleKind::Object;
                if (!fits)
                    return fail(QStringLiteral("APPEND on a value that is not a list"));
                for (const PickleValue *item : items) {
                    if (!nest(container, item))
                        return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting));
                    container->items.push_back(item);
                }
            }
            break;
        }
        case BINPUT:
        case LONG_BINPUT:
        case PUT:
        case MEMOIZE: {
            quint64 index = 0;
            if (opcode == BINPUT) {
                index = m_reader.u8();
            } else if (opcode == LONG_BINPUT) {
                index = m_reader.u32();
            } else if (opcode == MEMOIZE) {
                index = memoSize();
            } else {
                std::optional<QByteArray> line = readLine();
                bool ok = false;
                index = line ? line->toULongLong(&ok) : 0;
                if (!ok)
                    return fail(QStringLiteral("invalid PUT index"));
            }
            if (m_stack.empty())
                return fail(QStringLiteral("memo store on an empty stack"));
            if (!memoPut(index, m_stack.back()))
                return fail(QStringLiteral("more than %1 memo entries").arg(kMaxMemo));
            break;
        }
        case BINGET:
        case LONG_BINGET:
        case GET: {
            quint64 index = 0;
            if (opcode == BINGET) {
                index = m_reader.u8();
            } else if (opcode == LONG_BINGET) {
                index = m_reader.u32();
            } else {
                std::optional<QByteArray> line = readLine();
                bool ok = false;
                index = line ? line->toULongLong(&ok) : 0;
                if (!ok)
                    return fail(QStringLiteral("invalid GET index"));
            }
            value = memoGet(index);
            if (value == nullptr)
                return fail(QStringLiteral("memo entry %1 does not exist").arg(index));
            break;
        }
        case GLOBAL: {
            std::optional<QByteArray> module = readLine();
            std::optional<QByteArray> name = module ? readLine() : std::nullopt;
            if (!name)
                return fail(QStringLiteral("unterminated GLOBAL"));
            value = makeString(QString::fromUtf8(*module) + QLatin1Char('.') + QString::fromUtf8(*name), PickleKind::Global);
            break;
        }
        case STACK_GLOBAL: {
            const PickleValue *name = pop();
            const PickleValue *module = pop();
            if (module == nullptr || name == nullptr || module->kind != PickleKind::String || name->kind != PickleKind::String)
                return fail(QStringLiteral("STACK_GLOBAL needs two strings"));
            value = makeString(module->text + QLatin1Char('.') + name->text, PickleKind::Global);
            break;
        }
        case REDUCE: {
            const PickleValue *args = pop();
            const PickleValue *callable = pop();
            if (args == nullptr || callable == nullptr)
                return fail(QStringLiteral("REDUCE on a short stack"));
            if (callable->kind != PickleKind::Global)
                return fail(QStringLiteral("REDUCE on a value that is not a class or function"));
            Result<const PickleValue *> reduced = reduce(callable, args);
            if (!reduced)
                return reduced.error();
            value = *reduced;
            break;
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
            const QString name = qualifiedName(cls);
            if (name == QLatin1String("collections.OrderedDict") || name == QLatin1String("builtins.dict")) {
                value = make(PickleKind::Dict);
            } else {
                PickleValue *object = make(PickleKind::Object);
                object->callable = cls;
                object->args = args;
                value = object;
            }
            break;
        }
        case OBJ:
        case INST: {
            const PickleValue *cls = nullptr;
            std::optional<std::vector<const PickleValue *>> items = popToMark();
            if (!items)
                return fail(QStringLiteral("OBJ/INST without MARK"));
            if (opcode == INST) {
                std::optional<QByteArray> module = readLine();
                std::optional<QByteArray> name = module ? readLine() : std::nullopt;
                if (!name)
                    return fail(QStringLiteral("unterminated INST"));
                cls = makeString(QString::fromUtf8(*module) + QLatin1Char('.') + QString::fromUtf8(*name), PickleKind::Global);
            } else {
                if (items->empty() || (*items)[0]->kind != PickleKind::Global)
                    return fail(QStringLiteral("OBJ without a class"));
                cls = (*items)[0];
                items->erase(items->begin());
            }
            PickleValue *object = make(PickleKind::Object);
            object->callable = cls;
            object->args = makeSequence(PickleKind::Tuple, std::move(*items));
            value = object;
            break;
        }
        case BUILD: {
            const PickleValue *state = pop();
            if (state == nullptr || m_stack.empty() || m_stack.size() <= (m_marks.empty() ? 0 : m_marks.back()))
                return fail(QStringLiteral("BUILD on a short stack"));
            PickleValue *target = const_cast<PickleValue *>(m_stack.back());
            // Objects keep their state for display; containers and tensors ignore it
            // (an OrderedDict's _metadata, a tensor's hooks) — nothing is ever called.
            if (target->kind == PickleKind::Object) {
                if (!nest(target, state))
                    return fail(QStringLiteral("containers nested deeper than %1 levels").arg(kMaxNesting));
                target->state = state;
            }
            break;
        }
        case BINPERSID:
        case PERSID: {
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
            PickleValue *persistent = make(PickleKind::PersistentId);
            persistent->state = id;
            value = persistent;
            break;
        }
        default:
            return fail(QStringLiteral("unknown or unsupported opcode 0x%1").arg(opcode, 2, 16, QLatin1Char('0')));
        }

        if (m_reader.failed())
            return fail(QStringLiteral("data ends in the middle of an opcode"));
        if (value != nullptr && !push(value))
            return fail(QStringLiteral("stack grows beyond %1 entries").arg(kMaxStack));
    }
}

// A summary shows at most this much of a string: a pickled string can be as long as the file.
constexpr qsizetype kMaxSummaryText = 256;
QString quoted(const QString &text)
{
    if (text.size() > kMaxSummaryText)
        return QLatin1Char('\'') + text.left(kMaxSummaryText) + QStringLiteral("…'");
    return QLatin1Char('\'') + text + QLatin1Char('\'');
}

QString formatFloat(double value)
{
    if (std::isnan(value))
        return QStringLiteral("nan");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    QString text = QString::number(value, 'g', 17);
    // Shortest form that round-trips, like Python's repr.
    for (int precision = 1; precision <= 17; ++precision) {
        const QString candidate = QString::number(value, 'g', precision);
        if (candidate.toDouble() == value) {
            text = candidate;
            break;
        }
    }
    if (!text.contains(QLatin1Char('.')) && !text.contains(QLatin1Char('e')))
        text += QStringLiteral(".0");
    return text;
}

// A numpy scalar: numpy.core.multiarray.scalar(numpy.dtype('f8', ...), raw bytes).
std::optional<QString> numpyScalarValue(const PickleValue *object, QString *typeName)
{
    if (qualifiedName(object) != QLatin1String("numpy.core.multiarray.scalar") || object->args == nullptr
        || object->args->items.size() < 2)
        return std::nullopt;
    const PickleValue *dtype = object->args->items[0];
    const PickleValue *data = object->args->items[1];
    if (dtype->kind != PickleKind::Object || dtype->args == nullptr || dtype->args->items.empty()
        || dtype->args->items[0]->kind != PickleKind::String || data->kind != PickleKind::Bytes)
        return std::nullopt;
    const QString code = dtype->args->items[0]->text;
    const QByteArray &bytes = data->bytes;
    auto load = [&bytes](auto sample) {
        decltype(sample) value{};
        std::memcpy(&value, bytes.constData(), sizeof value);
        return value;
    };
    static const std::pair<const char *, const char *> kNames[] = {
        {"f8", "float64"}, {"f4", "float32"}, {"i8", "int64"}, {"i4", "int32"}, {"i2", "int16"},
        {"i1", "int8"}, {"u8", "uint64"}, {"u4", "uint32"}, {"u2", "uint16"}, {"u1", "uint8"}, {"b1", "bool"},
        {"f2", "float16"}};
    for (const auto &[short_, long_] : kNames) {
        if (code == QLatin1String(short_))
            *typeName = QStringLiteral("numpy.") + QLatin1String(long_);
    }
    if (typeName->isEmpty())
        *typeName = QStringLiteral("numpy.") + code;
    if (code == QLatin1String("f8") && bytes.size() == 8)
        return formatFloat(load(double()));
    if (code == QLatin1String("f4") && bytes.size() == 4)
        return formatFloat(load(float()));
    if (code == QLatin1String("i8") && bytes.size() == 8)
        return QString::number(load(qint64()));
    if (code == QLatin1String("i4") && bytes.size() == 4)
        return QString::number(load(qint32()));
    if (code == QLatin1String("b1") && bytes.size() == 1)
        return bytes[0] ? QStringLiteral("True") : QStringLiteral("False");
    return QStringLiteral("%1 bytes").arg(bytes.size());
}

// Renders at most 4 levels, 8 items per container and `budget` values in all: shared values
// (the memo) would otherwise make a small pickle's summary exponential.
QString summarise(const PickleValue *value, int depth, int &budget)
{
    if (depth > 3 || --budget < 0)
        return QStringLiteral("…");
    switch (value->kind) {
    case PickleKind::None: return QStringLiteral("None");
    case PickleKind::Bool: return value->boolean ? QStringLiteral("True") : QStringLiteral("False");
    case PickleKind::Int: return value->integerOverflow ? value->text : QString::number(value->integer);
    case PickleKind::Float: return formatFloat(value->number);
    case PickleKind::String: return quoted(value->text);
    case PickleKind::Bytes: return QStringLiteral("<%1 bytes>").arg(value->bytes.size());
    case PickleKind::Global: return value->text.left(kMaxSummaryText);
    case PickleKind::Tensor: return QStringLiteral("tensor%1").arg(shapeToString(value->tensor->shape));
    case PickleKind::PersistentId: return QStringLiteral("<persistent id>");
    case PickleKind::Mark: return QString();
    case PickleKind::List:
    case PickleKind::Tuple:
    case PickleKind::Set: {
        QStringList parts;
        for (const PickleValue *item : value->items) {
            if (parts.size() == 8) {
                parts << QStringLiteral("…");
                break;
            }
            parts << summarise(item, depth + 1, budget);
        }
        const QString body = parts.join(QStringLiteral(", "));
        if (value->kind == PickleKind::List)
            return QLatin1Char('[') + body + QLatin1Char(']');
        if (value->kind == PickleKind::Set)
            return QLatin1Char('{') + body + QLatin1Char('}');
        return QLatin1Char('(') + body + (value->items.size() == 1 ? QStringLiteral(",)") : QStringLiteral(")"));
    }
    case PickleKind::Dict: {
        QStringList parts;
        for (const auto &[k, v] : value->entries) {
            if (parts.size() == 8) {
                parts << QStringLiteral("…");
                break;
            }
            parts << summarise(k, depth + 1, budget) + QStringLiteral(": ") + summarise(v, depth + 1, budget);
        }
        return QLatin1Char('{') + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
    }
    case PickleKind::Object: {
        QString numpyType;
        if (std::optional<QString> scalar = numpyScalarValue(value, &numpyType))
            return *scalar;
        const QString name = qualifiedName(value);
        const QString shortName = name.section(QLatin1Char('.'), -1).left(kMaxSummaryText);
        QStringList parts;
        const size_t argCount = value->args != nullptr ? value->args->items.size() : 0;
        for (size_t i = 0; i < argCount && parts.size() < 8; ++i)
            parts << summarise(value->args->items[i], depth + 1, budget);
        // Attribute state (argparse.Namespace and most objects): name=value pairs.
        const bool hasState = value->state != nullptr && value->state->kind == PickleKind::Dict;
        const size_t stateCount = hasState ? value->state->entries.size() : 0;
        for (size_t i = 0; i < stateCount && parts.size() < 8; ++i) {
            const auto &[k, v] = value->state->entries[i];
            const QString key = k->kind == PickleKind::String ? k->text.left(kMaxSummaryText) : summarise(k, depth + 1, budget);
            parts << key + QLatin1Char('=') + summarise(v, depth + 1, budget);
        }
        if (static_cast<size_t>(parts.size()) < argCount + stateCount)
            parts << QStringLiteral("…");
        return shortName + QLatin1Char('(') + parts.join(QStringLiteral(", ")) + QLatin1Char(')');
    }
    }
    return QString();
}

} // namespace

PickleArena::~PickleArena()
{
    for (size_t b = 0; b < m_blocks.size(); ++b) {
        const Block &block = m_blocks[b];
        const size_t used = std::min(block.capacity, m_size - m_blockStart[b]);
        std::destroy_n(block.values, used);
        if (block.huge)
            ::operator delete(block.values, block.bytes, std::align_val_t(kHugePage));
        else
            ::operator delete(block.values, block.bytes);
    }
}

PickleValue *PickleArena::make(PickleKind kind)
{
    if (m_blocks.empty() || m_size - m_blockStart.back() == m_blocks.back().capacity) {
        Block block;
        block.capacity = m_blocks.empty() ? kFirstBlock : std::min(m_blocks.back().capacity * 2, kLargestBlock);
        block.bytes = block.capacity * sizeof(PickleValue);
        block.huge = block.bytes >= kHugePage;
        if (block.huge) {
            block.bytes = (block.bytes + kHugePage - 1) / kHugePage * kHugePage;
            block.capacity = block.bytes / sizeof(PickleValue);
            block.values = static_cast<PickleValue *>(::operator new(block.bytes, std::align_val_t(kHugePage)));
            adviseHugePages(block.values, block.bytes);
        } else {
            block.values = static_cast<PickleValue *>(::operator new(block.bytes));
        }
        m_blockStart.push_back(m_size);
        m_blocks.push_back(block);
    }
    PickleValue *value = new (m_blocks.back().values + (m_size - m_blockStart.back())) PickleValue;
    value->kind = kind;
    ++m_size;
    return value;
}

const PickleValue &PickleArena::at(size_t i) const
{
    const size_t b = static_cast<size_t>(std::upper_bound(m_blockStart.begin(), m_blockStart.end(), i) - m_blockStart.begin()) - 1;
    return m_blocks[b].values[i - m_blockStart[b]];
}

QString qualifiedName(const PickleValue *value)
{
    if (value == nullptr)
        return QString();
    if (value->kind == PickleKind::Global)
        return value->text;
    if (value->kind == PickleKind::Object && value->callable != nullptr)
        return value->callable->text;
    return QString();
}

QString pickleSummary(const PickleValue *value, int maxLength)
{
    int budget = 64;
    QString text = summarise(value, 0, budget);
    if (text.size() > maxLength)
        text = text.left(maxLength - 1) + QStringLiteral("…");
    return text;
}

QString pickleTypeName(const PickleValue *value)
{
    switch (value->kind) {
    case PickleKind::None: return QStringLiteral("NoneType");
    case PickleKind::Bool: return QStringLiteral("bool");
    case PickleKind::Int: return QStringLiteral("int");
    case PickleKind::Float: return QStringLiteral("float");
    case PickleKind::String: return QStringLiteral("str");
    case PickleKind::Bytes: return QStringLiteral("bytes");
    case PickleKind::List: return QStringLiteral("list");
    case PickleKind::Tuple: return QStringLiteral("tuple");
    case PickleKind::Dict: return QStringLiteral("dict");
    case PickleKind::Set: return QStringLiteral("set");
    case PickleKind::Global: return QStringLiteral("type");
    case PickleKind::Tensor: return QStringLiteral("torch.Tensor");
    case PickleKind::PersistentId: return QStringLiteral("storage");
    case PickleKind::Mark: return QString();
    case PickleKind::Object: {
        QString numpyType;
        if (numpyScalarValue(value, &numpyType))
            return numpyType;
        return qualifiedName(value);
    }
    }
    return QString();
}

Result<Unpickled> unpickle(const uchar *data, qint64 size, qint64 baseOffset)
{
    Unpickler unpickler(data, size, baseOffset);
    return unpickler.run();
}

} // namespace graft
