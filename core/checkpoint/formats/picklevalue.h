#pragma once
// The values an unpickled object tree is made of. Plain data: the unpickler makes them in a
// PickleArena, which owns them; everything else only reads them.

#include "checkpoint/checkpoint.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>
#include <utility>
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
enum class PickleSlot : quint8 { Live, Marked, Free };

/// What a tensor rebuild call described (not yet resolved to bytes).
struct PickledTensor {
    /// The storage's persistent id (the value BINPERSID popped, e.g. the tuple ('storage', class,
    /// key, location, numel)), not the PersistentId around it: that one is then dropped, and a
    /// 100k-tensor pickle keeps 100k fewer values.
    const PickleValue *storage = nullptr;
    qint64 storageOffset = 0;             ///< in elements
    Shape shape;
    Shape strides;
    std::optional<DType> dtype;           ///< an explicit dtype (torch's _rebuild_tensor_v3)
    bool isParameter = false;
};

struct PickleValue {
    PickleKind kind = PickleKind::None;
    bool boolean = false;
    bool integerOverflow = false;  ///< LONG wider than 64 bits (text keeps its hex)
    /// The arena's collector state (PickleArena::sweep): live, reached by the last mark, or free.
    PickleSlot slot = PickleSlot::Live;
    int nesting = 0;               ///< levels of containers below this one (the unpickler caps it)
    // One slot for the two numbers: a value is an Int or a Float, never both (16 bytes less per
    // value with the nesting moved up, and a 100k-tensor pickle keeps ~500k values).
    union {
        qint64 integer = 0;        ///< Int (and Bool's 0/1 are `boolean`)
        double number;             ///< Float
    };
    QString text;                  ///< String; Global/Object module.name; big integer as 0x hex
    QByteArray bytes;
    std::vector<const PickleValue *> items;                                  ///< List/Tuple/Set
    std::vector<std::pair<const PickleValue *, const PickleValue *>> entries; ///< Dict
    const PickleValue *callable = nullptr; ///< Object: its class (a Global)
    const PickleValue *args = nullptr;     ///< Object: constructor args (a Tuple)
    const PickleValue *state = nullptr;    ///< Object: BUILD state; PersistentId: the id
    std::unique_ptr<PickledTensor> tensor; ///< Tensor only (apart: most values are not tensors)
};

static_assert(sizeof(PickleValue) <= 144, "PickleValue grew: a 100k-tensor pickle keeps ~500k of them");

/// "module.name" of a Global or an Object's class; empty for other kinds.
inline QString qualifiedName(const PickleValue *value)
{
    if (value == nullptr)
        return QString();
    if (value->kind == PickleKind::Global)
        return value->text;
    if (value->kind == PickleKind::Object && value->callable != nullptr)
        return value->callable->text;
    return QString();
}

} // namespace graft
