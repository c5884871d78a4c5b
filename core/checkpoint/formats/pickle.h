#pragma once
// An allowlist unpickler: turns a pickle (protocols 0-4 opcodes) into a tree of plain values.
// It NEVER imports or calls anything. GLOBAL names become inert Global values; REDUCE/NEWOBJ
// produce a value only for the few callables a checkpoint needs (OrderedDict, torch's tensor
// rebuild functions, set, _codecs.encode) and an opaque Object for everything else, so
// `os.system` in a hostile file is just a name in the tree.
//
// Values live in an arena owned by the result: sharing (memo), cycles and deep nesting are
// harmless to destroy. Limits: stack, memo entries and container nesting are capped; every
// length is checked against the bytes left.

#include "checkpoint/checkpoint.h"
#include "base/result.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace graft {

enum class PickleKind {
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
    Tensor,       ///< a torch._utils._rebuild_tensor* call
    PersistentId, ///< BINPERSID: the id (a tuple) the container resolves, e.g. a storage
    Mark,         ///< internal: MARK on the stack
};

struct PickleValue;

/// What a torch._utils._rebuild_tensor* call described (not yet resolved to bytes).
struct PickledTensor {
    const PickleValue *storage = nullptr; ///< a PersistentId value
    qint64 storageOffset = 0;             ///< in elements
    Shape shape;
    Shape strides;
    std::optional<DType> dtype;           ///< _rebuild_tensor_v3's explicit dtype
    bool isParameter = false;
};

struct PickleValue {
    PickleKind kind = PickleKind::None;
    bool boolean = false;
    qint64 integer = 0;
    bool integerOverflow = false;  ///< LONG wider than 64 bits (text keeps its hex)
    double number = 0;
    QString text;                  ///< String; Global/Object module.name; big integer as 0x hex
    QByteArray bytes;
    std::vector<const PickleValue *> items;                                  ///< List/Tuple/Set
    std::vector<std::pair<const PickleValue *, const PickleValue *>> entries; ///< Dict
    const PickleValue *callable = nullptr; ///< Object: its class (a Global)
    const PickleValue *args = nullptr;     ///< Object: constructor args (a Tuple)
    const PickleValue *state = nullptr;    ///< Object: BUILD state; PersistentId: the id
    std::unique_ptr<PickledTensor> tensor; ///< Tensor only (apart: most values are not tensors)
    int nesting = 0;                       ///< levels of containers below this one (the unpickler caps it)
};

/// Owns every value of one unpickled object tree. Values are allocated in blocks (a 100k-tensor
/// state_dict makes ~2M values: one allocation each would dominate opening it) and never move.
class PickleArena {
public:
    PickleArena() = default;
    PickleArena(const PickleArena &) = delete;
    PickleArena &operator=(const PickleArena &) = delete;
    ~PickleArena();

    PickleValue *make(PickleKind kind);
    size_t size() const { return m_size; }
    /// The i-th value made, i < size().
    const PickleValue &at(size_t i) const;

private:
    // Blocks grow: 256 values (43 KB) first, doubling up to kLargestBlock values. Small first
    // blocks: 1024 values (172 KB) put every block, even the one of a 3-byte pickle, above
    // glibc's 128 KB mmap threshold, so each unpickle paid an mmap, ~40 page faults and a
    // munmap (18 us vs 5 us for a tiny pickle at -O2; 100x slower under ASan, found by
    // fuzzing). Large last blocks: a 100k-tensor pickle fills ~340 MB of values, and on this
    // class of VM a 4 KB page fault costs ~10 us, so large blocks are aligned to 2 MB and
    // advised for transparent huge pages (one fault per 2 MB; see docs/benchmarks.md, W4).
    static constexpr size_t kFirstBlock = 256;
    static constexpr size_t kLargestBlock = 256 << 7;
    struct Block {
        PickleValue *values = nullptr;
        size_t capacity = 0;
        size_t bytes = 0;
        bool huge = false;
    };
    std::vector<Block> m_blocks;
    std::vector<size_t> m_blockStart; // index of each block's first value
    size_t m_size = 0;
};

struct Unpickled {
    std::unique_ptr<PickleArena> arena;
    const PickleValue *root = nullptr;
    qint64 bytesConsumed = 0; ///< up to and including STOP
};

/// Unpickles one pickle from `data`. Errors say what failed and at which byte offset
/// (relative to `data` plus `baseOffset`); no file name (the caller adds it).
Result<Unpickled> unpickle(const uchar *data, qint64 size, qint64 baseOffset = 0);

/// "module.name" of a Global or an Object's class; empty for other kinds.
QString qualifiedName(const PickleValue *value);
/// A short readable rendering, e.g. "Namespace(lr=0.1, arch='vgg')", "0.75", "[2 items]".
QString pickleSummary(const PickleValue *value, int maxLength = 120);
/// The Python type name a user would recognise: "int", "str", "argparse.Namespace", ...
QString pickleTypeName(const PickleValue *value);

} // namespace graft
