#pragma once
// The values an unpickled object tree is made of. Plain data: the unpickler makes them in a
// PickleArena, which owns them; everything else only reads them.

#include "checkpoint/checkpoint.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <algorithm>
#include <optional>
#include <span>
#include <utility>
#include <variant>
#include <vector>

namespace graft {

enum class PickleKind : quint8 {
    None,
    Bool,
    Int,
    Float,
    String,
    Bytes,
    List,
    Tuple,
    Dict,
    Set,
    Global,       ///< a class or function named by GLOBAL/STACK_GLOBAL (never resolved)
    Object,       ///< an instance of an unknown class: its class, args and state, never built
    Tensor,       ///< a tensor rebuild call a PickleReducer recognised (torch: TorchGlobals)
    PersistentId, ///< BINPERSID: the id (a tuple) the container resolves, e.g. a storage
    Mark,         ///< internal: MARK on the stack
};

struct PickleValue;

/// Where a value stands with the unpickler's collector (PickleArena): in use, found reachable
/// by the current mark, or reclaimed (reset, waiting in the free list to be made again).
/// The arena's collector state of a value (picklearena.h): Live (made since the last collection,
/// not reached yet), Marked (reached by the collection under way), Free (reclaimed), Old (kept
/// by a collection), Remembered (Old, and given new items since: the next minor collection
/// reads those).
enum class PickleSlot : quint8 { Live, Marked, Free, Old, Remembered };

/// A storage's persistent id in torch's form, ('storage', class, key, location, numel[, view]),
/// kept as the parts the readers use: the id's tuple and its key string are then dropped (two
/// values and a heap block per tensor of a torch pickle: the heap peak of a 100k-tensor inspect
/// went 114 -> 105 MB).
/// The parts are pointers to the pickle's values (the unpickler's collector keeps them): a
/// 100k-tensor pickle keeps 100k of these, and two QStrings each were 4.8 MB of its peak.
struct PickledStorageId {
    const PickleValue *storageClass = nullptr; ///< the storage class's Global, e.g. torch.FloatStorage
    /// The storage's key (its record's name) as torch.save writes it, a number "0", "1"...: kept
    /// as that number (the key's value is then garbage: 100k strings of a 100k-tensor pickle),
    /// and as its String value otherwise (number -1).
    qint64 number = -1;
    const PickleValue *key = nullptr;          ///< the key's String, when it is not a number
    const PickleValue *numel = nullptr;        ///< as pickled: the reader checks that it is an Int
    bool isView = false;                       ///< a sixth item that is a tuple (legacy storage views)

    QString className() const;
    QString keyText() const;
};

/// The number a storage key written as torch writes them ("0", "17"; no sign, no leading zero,
/// at most 9 digits) stands for; -1 for any other key.
inline qint64 storageKeyNumber(QStringView key)
{
    if (key.isEmpty() || key.size() > 9 || (key.size() > 1 && key.front() == u'0'))
        return -1;
    qint64 value = 0;
    for (QChar c : key) {
        if (c < u'0' || c > u'9')
            return -1;
        value = value * 10 + (c.unicode() - u'0');
    }
    return value;
}

/// What a tensor rebuild call described (not yet resolved to bytes).
struct PickledTensor {
    /// The storage's persistent id (what BINPERSID popped), when it has torch's form; the
    /// PersistentId around it and the id's tuple are then dropped.
    std::optional<PickledStorageId> storageId;
    /// Any other id, kept whole for the reader's message (it refuses it); null with storageId.
    const PickleValue *storage = nullptr;
    qint64 storageOffset = 0;             ///< in elements
    Shape shape;
    Shape strides;
    std::optional<DType> dtype;           ///< an explicit dtype (torch's _rebuild_tensor_v3)
    bool isParameter = false;
    /// The checkpoint index entry the walk (collectTorchObjects) made of this tensor and moved
    /// its shape and strides into; -1 until then.
    qint32 emittedAs = -1;
};

/// Object: the class, its constructor args (a Tuple) and its BUILD state. PersistentId: the
/// id, in `state`. Out of line: a torch state_dict makes ~1 of these per 10 values.
struct PickleCall {
    const PickleValue *callable = nullptr;
    const PickleValue *args = nullptr;
    const PickleValue *state = nullptr;
};

using PickleItems = std::vector<const PickleValue *>;                                  ///< List/Tuple/Set
using PickleEntries = std::vector<std::pair<const PickleValue *, const PickleValue *>>; ///< Dict
/// A tuple of at most two items, kept in the value itself: torch writes two per tensor (its size
/// and stride), which were two heap blocks each.
struct PickleShortItems {
    const PickleValue *item[2] = {nullptr, nullptr};
    quint8 count = 0;
};
/// PersistentId: the id, without a PickleCall around it (one per tensor in a torch pickle).
struct PicklePersistentId {
    const PickleValue *id = nullptr;
};

struct PickleValue {
    PickleKind kind = PickleKind::None;
    bool boolean = false;
    bool integerOverflow = false;  ///< LONG wider than 64 bits (text keeps its hex)
    /// The arena's collector state (PickleArena).
    PickleSlot slot = PickleSlot::Live;
    int nesting = 0;               ///< levels of containers below this one (the unpickler caps it)
    // One slot for the two numbers: a value is an Int or a Float, never both.
    union {
        qint64 integer = 0;        ///< Int (and Bool's 0/1 are `boolean`)
        double number;             ///< Float
    };

    // What a value holds besides its number depends on its kind, and it holds one thing at most:
    // one slot (a variant) for all of them keeps a value at 48 bytes (it was 144 with a field
    // each; a 100k-tensor state_dict keeps ~500k values). Reading a field the value does not
    // hold gives an empty one.
    const QString &text() const { return held<QString>(); }   ///< String; Global module.name; big integer as 0x hex
    const QByteArray &bytes() const { return held<QByteArray>(); } ///< Bytes
    std::span<const PickleValue *const> items() const
    {
        if (const auto *items = std::get_if<PickleItems>(&m_payload))
            return *items;
        if (const auto *items = std::get_if<PickleShortItems>(&m_payload))
            return {items->item, items->count};
        return {};
    }
    const PickleEntries &entries() const { return held<PickleEntries>(); }
    const PickleValue *callable() const { return call() ? call()->callable : nullptr; } ///< Object: its class (a Global)
    const PickleValue *args() const { return call() ? call()->args : nullptr; }         ///< Object: constructor args
    /// Object: its BUILD state; PersistentId: the id.
    const PickleValue *state() const
    {
        if (const auto *persistent = std::get_if<PicklePersistentId>(&m_payload))
            return persistent->id;
        return call() ? call()->state : nullptr;
    }
    /// Tensor only.
    const PickledTensor *tensor() const
    {
        const auto *tensor = std::get_if<std::unique_ptr<PickledTensor>>(&m_payload);
        return tensor != nullptr ? tensor->get() : nullptr;
    }

    // Filling a value (the unpickler and reducers only). Each replaces what the value held.
    void setText(QString text) { m_payload.emplace<QString>(std::move(text)); }
    void setBytes(QByteArray bytes) { m_payload.emplace<QByteArray>(std::move(bytes)); }
    /// Up to two items are kept in the value, more in a vector.
    void setItems(std::span<const PickleValue *const> items)
    {
        if (items.size() <= 2) {
            PickleShortItems &short_ = m_payload.emplace<PickleShortItems>();
            std::copy(items.begin(), items.end(), short_.item);
            short_.count = static_cast<quint8>(items.size());
        } else {
            m_payload.emplace<PickleItems>(items.begin(), items.end());
        }
    }
    void setItems(PickleItems &&items)
    {
        if (items.size() <= 2)
            setItems(std::span<const PickleValue *const>(items));
        else
            m_payload.emplace<PickleItems>(std::move(items));
    }
    void setPersistentId(const PickleValue *id) { m_payload.emplace<PicklePersistentId>(PicklePersistentId{id}); }
    /// The items to append to (a list's or a set's), kept in a vector from then on.
    PickleItems &itemsToFill()
    {
        if (const auto *short_ = std::get_if<PickleShortItems>(&m_payload)) {
            PickleItems items(short_->item, short_->item + short_->count); // copied before emplace ends *short_
            return m_payload.emplace<PickleItems>(std::move(items));
        }
        return filled<PickleItems>();
    }
    /// The entries to add to (a dict's).
    PickleEntries &entriesToFill() { return filled<PickleEntries>(); }
    PickleCall &callToFill()
    {
        auto *call = std::get_if<std::unique_ptr<PickleCall>>(&m_payload);
        return call != nullptr && *call ? **call : *m_payload.emplace<std::unique_ptr<PickleCall>>(std::make_unique<PickleCall>());
    }
    PickledTensor &setTensor(std::unique_ptr<PickledTensor> tensor) { return *m_payload.emplace<std::unique_ptr<PickledTensor>>(std::move(tensor)); }

private:
    const PickleCall *call() const
    {
        const auto *call = std::get_if<std::unique_ptr<PickleCall>>(&m_payload);
        return call != nullptr ? call->get() : nullptr;
    }
    template <typename T> const T &held() const
    {
        static const T empty{};
        const T *value = std::get_if<T>(&m_payload);
        return value != nullptr ? *value : empty;
    }
    template <typename T> T &filled()
    {
        if (T *value = std::get_if<T>(&m_payload))
            return *value;
        return m_payload.emplace<T>();
    }

    std::variant<std::monostate, QString, QByteArray, PickleItems, PickleShortItems, PickleEntries, PicklePersistentId,
                 std::unique_ptr<PickleCall>, std::unique_ptr<PickledTensor>>
        m_payload;
};

static_assert(sizeof(PickleValue) <= 48, "PickleValue grew: a 100k-tensor pickle keeps ~500k of them");
static_assert(sizeof(PickledTensor) <= 120, "PickledTensor grew: a 100k-tensor pickle keeps 100k of them");

inline QString PickledStorageId::className() const { return storageClass != nullptr ? storageClass->text() : QString(); }
inline QString PickledStorageId::keyText() const
{
    return number >= 0 ? QString::number(number) : key != nullptr ? key->text() : QString();
}

/// "module.name" of a Global or an Object's class; empty for other kinds.
inline QString qualifiedName(const PickleValue *value)
{
    if (value == nullptr)
        return QString();
    if (value->kind == PickleKind::Global)
        return value->text();
    if (value->kind == PickleKind::Object && value->callable() != nullptr)
        return value->callable()->text();
    return QString();
}

} // namespace graft
