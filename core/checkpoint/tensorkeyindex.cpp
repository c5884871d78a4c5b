#include "checkpoint/tensorkeyindex.h"

#include "checkpoint/checkpoint.h"

#include <QHashFunctions>

#include <bit>

namespace graft {
namespace {

size_t keyHash(const QString &key) { return qHash(key, QHashSeed::globalSeed()); }

quint32 tagOf(size_t hash) { return static_cast<quint32>(static_cast<quint64>(hash) >> 32); }

} // namespace

size_t TensorKeyIndex::hashOf(const QString &key) { return keyHash(key); }

void TensorKeyIndex::reserve(size_t count, const std::vector<TensorEntry> &tensors)
{
    const size_t wanted = std::bit_ceil(std::max<size_t>(16, 2 * count));
    if (wanted > m_slots.size())
        rebuild(wanted, tensors);
}

int TensorKeyIndex::find(const QString &key, size_t hash, const std::vector<TensorEntry> &tensors) const
{
    if (m_slots.empty())
        return -1;
    const quint32 tag = tagOf(hash);
    const size_t mask = m_slots.size() - 1;
    for (size_t at = hash & mask;; at = (at + 1) & mask) {
        const Slot &slot = m_slots[at];
        if (slot.position < 0)
            return -1;
        if (slot.tag == tag && tensors[static_cast<size_t>(slot.position)].key == key)
            return slot.position;
    }
}

void TensorKeyIndex::addLast(const std::vector<TensorEntry> &tensors, size_t hash)
{
    if (2 * (m_count + 1) > m_slots.size())
        rebuild(std::max<size_t>(16, 2 * m_slots.size()), tensors); // places all but the last
    place(hash, static_cast<qint32>(tensors.size() - 1));
    ++m_count;
}

void TensorKeyIndex::rebuild(size_t slots, const std::vector<TensorEntry> &tensors)
{
    m_slots.assign(slots, Slot{});
    // The tensors indexed so far: all of them when reserving, all but the one being added.
    for (size_t i = 0; i < m_count; ++i)
        place(keyHash(tensors[i].key), static_cast<qint32>(i));
}

void TensorKeyIndex::place(size_t hash, qint32 position)
{
    const size_t mask = m_slots.size() - 1;
    size_t at = hash & mask;
    while (m_slots[at].position >= 0)
        at = (at + 1) & mask;
    m_slots[at] = Slot{tagOf(hash), position};
}

} // namespace graft
