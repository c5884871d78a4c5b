#pragma once
// The storage of one unpickled object tree's values.

#include "checkpoint/formats/picklevalue.h"

#include <cstddef>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define GRAFT_PICKLE_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRAFT_PICKLE_ARENA_ASAN 1
#endif
#endif
#ifdef GRAFT_PICKLE_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace graft {

/// Owns every value of one unpickled object tree. Values are allocated in blocks (a 100k-tensor
/// state_dict makes ~2M values: one allocation each would dominate opening it) and never move,
/// so sharing (memo), cycles and deep nesting are harmless to destroy.
///
/// Garbage: a pickle may make values and drop them (`]0` repeated: make a list, POP it), which
/// Python frees by reference counting; a torch pickle drops a few values per tensor (the
/// arguments of its rebuild call). The unpickler marks what it can still reach (its stack and
/// memo) and the arena reclaims the rest: a reclaimed value is reset (its strings and vectors
/// freed) and its slot is made again by the next make(). Collections are generational, as
/// values die young here: a minor one reads only what was made since the last collection (the
/// young values) and keeps every value an earlier one kept (Old), so a growing state_dict is
/// not marked again at each; a major one (demoteOld(), mark everything, sweep()) reclaims old
/// garbage too. An old container given new items is Remembered (remember()): its new items
/// are roots of the next minor collection.
class PickleArena {
public:
    PickleArena() = default;
    PickleArena(const PickleArena &) = delete;
    PickleArena &operator=(const PickleArena &) = delete;
    ~PickleArena();

    /// A new value of `kind`, otherwise default; owned by the arena. Inline: it is called
    /// once per value, only a full block takes the call to addBlock().
    PickleValue *make(PickleKind kind)
    {
        if (!m_free.empty()) {
            PickleValue *value = m_free.back();
            m_free.pop_back();
            m_youngReused.push_back(value);
            unpoison(value);
            value->kind = kind;
            value->slot = PickleSlot::Live;
            return value;
        }
        if (m_blocks.empty() || m_size - m_blockStart.back() == m_blocks.back().capacity)
            addBlock();
        PickleValue *value = new (m_blocks.back().values + (m_size - m_blockStart.back())) PickleValue;
        value->kind = kind;
        ++m_size;
        return value;
    }
    /// Slots ever made (live or reclaimed): an upper bound of the values the tree holds.
    size_t size() const { return m_size; }
    /// Values in use: size() minus the reclaimed slots waiting to be made again.
    size_t live() const { return m_size - m_free.size(); }
    /// The i-th slot, i < size(); a reclaimed slot reads as a default value (None).
    const PickleValue &at(size_t i) const;
    /// Bytes of the blocks allocated: the arena's high-water mark (blocks are never returned
    /// before the arena dies). Does not count what values own (strings, item vectors).
    size_t allocatedBytes() const { return m_allocatedBytes; }

    /// Values made since the last collection (the young ones).
    size_t youngCount() const { return m_size - m_youngStart + m_youngReused.size(); }

    /// Marks `value` reached; false when the caller stops there: it was marked already, or it
    /// is old (a minor collection keeps it and what it reaches; a major one demoted it first).
    static bool mark(const PickleValue *value)
    {
        if (value->slot != PickleSlot::Live)
            return false;
        const_cast<PickleValue *>(value)->slot = PickleSlot::Marked;
        return true;
    }

    /// An old container about to get new items or state: recorded once per collection with
    /// its sizes now, so the next minor collection reaches what is added after them.
    struct Remembered {
        const PickleValue *container;
        size_t itemsFrom;
        size_t entriesFrom;
    };
    void remember(PickleValue *container)
    {
        if (container->slot != PickleSlot::Old)
            return; // young (read whole by the collection) or remembered already
        container->slot = PickleSlot::Remembered;
        m_remembered.push_back({container, container->items().size(), container->entries().size()});
    }
    const std::vector<Remembered> &remembered() const { return m_remembered; }

    /// Minor collection: reclaims every young value not marked, makes the marked ones old.
    /// The caller must have marked what its roots and the remembered containers' new items reach.
    void sweepYoung();
    /// Before a major collection's marking: every old value is unmarked again.
    void demoteOld();
    /// Major collection: reclaims every value not marked, makes the marked ones old.
    void sweep();

private:
    // Blocks grow: 256 values (12 KB) first, doubling up to kLargestBlock values (1.5 MB). Small
    // first blocks: when values were 168 bytes, 1024 of them (172 KB) put every block, even the
    // one of a 3-byte pickle, above glibc's 128 KB mmap threshold, so each unpickle paid an
    // mmap, ~40 page faults and a munmap (18 us vs 5 us for a tiny pickle at -O2; 100x slower
    // under ASan, found by fuzzing). A block of 2 MB or more is aligned to 2 MB and advised for
    // transparent huge pages (one fault per 2 MB; see docs/benchmarks.md, W4): with 48-byte
    // values no block reaches that size now, and larger blocks measured no faster (a 100k-tensor
    // pickle keeps ~27 MB of values).
    static constexpr size_t kFirstBlock = 256;
    static constexpr size_t kLargestBlock = 256 << 7;
    struct Block {
        PickleValue *values = nullptr;
        size_t capacity = 0;
        size_t bytes = 0;
        bool huge = false;
    };
    void addBlock();
    /// Reclaims `value` unless marked; a marked one becomes old.
    void settle(PickleValue &value)
    {
        if (value.slot == PickleSlot::Marked) {
            value.slot = PickleSlot::Old;
        } else if (value.slot == PickleSlot::Live) {
            value = PickleValue(); // frees its text, bytes, items, entries and tensor
            value.slot = PickleSlot::Free;
            poison(&value);
            m_free.push_back(&value);
        }
    }
    /// Forgets the young values and remembered containers: a collection has read them.
    void startGeneration();

    // Under AddressSanitizer a reclaimed value's fields past its header (kind, flags, slot, nesting) are
    // poisoned until it is made again: a pointer the collector wrongly took for unreachable
    // faults at its first use (the fuzzers and the ASan build check this). No-ops otherwise.
    static size_t headerBytes(const PickleValue *value)
    {
        return static_cast<size_t>(reinterpret_cast<const char *>(&value->integer) - reinterpret_cast<const char *>(value));
    }
    static void poison([[maybe_unused]] PickleValue *value)
    {
#ifdef GRAFT_PICKLE_ARENA_ASAN
        ASAN_POISON_MEMORY_REGION(reinterpret_cast<char *>(value) + headerBytes(value), sizeof(PickleValue) - headerBytes(value));
#endif
    }
    static void unpoison([[maybe_unused]] PickleValue *value)
    {
#ifdef GRAFT_PICKLE_ARENA_ASAN
        ASAN_UNPOISON_MEMORY_REGION(reinterpret_cast<char *>(value) + headerBytes(value), sizeof(PickleValue) - headerBytes(value));
#endif
    }

    std::vector<Block> m_blocks;
    std::vector<size_t> m_blockStart; // index of each block's first value
    std::vector<PickleValue *> m_free; // reclaimed slots, made again first
    // The young values: the slots from m_youngStart on, and the reclaimed ones made again.
    size_t m_youngStart = 0;
    std::vector<PickleValue *> m_youngReused;
    std::vector<Remembered> m_remembered;
    size_t m_size = 0;
    size_t m_allocatedBytes = 0;
};

} // namespace graft
