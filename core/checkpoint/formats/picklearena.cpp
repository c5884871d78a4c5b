#include "checkpoint/formats/picklearena.h"

#include <sys/mman.h>

#include <algorithm>
#include <memory>
#include <new>

namespace graft {
namespace {

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

} // namespace

PickleArena::~PickleArena()
{
    for (size_t b = 0; b < m_blocks.size(); ++b) {
        const Block &block = m_blocks[b];
        const size_t used = std::min(block.capacity, m_size - m_blockStart[b]);
        for (size_t i = 0; i < used; ++i) {
            if (block.values[i].slot == PickleSlot::Free)
                unpoison(block.values + i);
        }
        std::destroy_n(block.values, used);
        if (block.huge)
            ::operator delete(block.values, block.bytes, std::align_val_t(kHugePage));
        else
            ::operator delete(block.values, block.bytes);
    }
}

void PickleArena::addBlock()
{
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
    m_allocatedBytes += block.bytes;
}

void PickleArena::startGeneration()
{
    for (const Remembered &entry : m_remembered) {
        if (entry.container->slot == PickleSlot::Remembered)
            const_cast<PickleValue *>(entry.container)->slot = PickleSlot::Old;
    }
    m_remembered.clear();
    m_youngReused.clear();
    m_youngStart = m_size;
}

void PickleArena::sweepYoung()
{
    // Reclaimed slots made again, then the slots made since (a reused one is never among those).
    for (PickleValue *value : m_youngReused)
        settle(*value);
    for (size_t b = 0; b < m_blocks.size(); ++b) {
        const size_t start = m_blockStart[b];
        const size_t used = std::min(m_blocks[b].capacity, m_size - start);
        for (size_t i = m_youngStart > start ? m_youngStart - start : 0; i < used; ++i)
            settle(m_blocks[b].values[i]);
    }
    startGeneration();
}

void PickleArena::demoteOld()
{
    for (size_t b = 0; b < m_blocks.size(); ++b) {
        const size_t used = std::min(m_blocks[b].capacity, m_size - m_blockStart[b]);
        PickleValue *values = m_blocks[b].values;
        for (size_t i = 0; i < used; ++i) {
            if (values[i].slot == PickleSlot::Old || values[i].slot == PickleSlot::Remembered)
                values[i].slot = PickleSlot::Live;
        }
    }
}

void PickleArena::sweep()
{
    for (size_t b = 0; b < m_blocks.size(); ++b) {
        const size_t used = std::min(m_blocks[b].capacity, m_size - m_blockStart[b]);
        PickleValue *values = m_blocks[b].values;
        for (size_t i = 0; i < used; ++i)
            settle(values[i]);
    }
    startGeneration();
}

const PickleValue &PickleArena::at(size_t i) const
{
    const size_t b = static_cast<size_t>(std::upper_bound(m_blockStart.begin(), m_blockStart.end(), i) - m_blockStart.begin()) - 1;
    return m_blocks[b].values[i - m_blockStart[b]];
}

} // namespace graft
