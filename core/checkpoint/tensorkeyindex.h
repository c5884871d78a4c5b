#pragma once
// A checkpoint's key -> tensor position index: an open-addressing table of positions into the
// tensor list, which holds the keys.

#include <QString>

#include <cstddef>
#include <vector>

namespace graft {

struct TensorEntry;

/// Finds a tensor's position by its key. The keys are not copied: each slot holds a position in
/// the caller's tensor list and a tag of the key's hash. Why not QHash<QString, int>: a 100k-key
/// file spent 4 MB in 3k blocks and a tenth of `inspect`'s time building it; this is one array
/// (1 MB at 100k keys) filled without an allocation per key. The hash is seeded per process (as
/// QHash's), so a file cannot choose keys that collide.
class TensorKeyIndex {
public:
    /// Room for `count` keys without growing.
    void reserve(size_t count, const std::vector<TensorEntry> &tensors);
    /// The hash find() and addLast() take: a key checked and then added is hashed once.
    static size_t hashOf(const QString &key);
    /// Position of the tensor with this key (whose hashOf() is `hash`) in `tensors`, or -1.
    int find(const QString &key, size_t hash, const std::vector<TensorEntry> &tensors) const;
    int find(const QString &key, const std::vector<TensorEntry> &tensors) const { return find(key, hashOf(key), tensors); }
    /// Adds tensors.back(), whose key (of hash `hash`) find() did not find.
    void addLast(const std::vector<TensorEntry> &tensors, size_t hash);

private:
    struct Slot {
        quint32 tag = 0;      ///< high bits of the key's hash
        qint32 position = -1; ///< in the tensor list; -1: empty
    };
    void rebuild(size_t slots, const std::vector<TensorEntry> &tensors);
    void place(size_t hash, qint32 position);

    std::vector<Slot> m_slots; ///< a power of two, at most half full
    size_t m_count = 0;
};

} // namespace graft
