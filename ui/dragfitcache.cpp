#include "dragfitcache.h"

namespace graft::ui {

const DragFitCache::Fit *DragFitCache::find(const QByteArray &payload, const void *row) const
{
    if (payload != m_payload)
        return nullptr;
    const auto it = m_fits.constFind(row);
    return it == m_fits.constEnd() ? nullptr : &*it;
}

const DragFitCache::Fit &DragFitCache::insert(const QByteArray &payload, const void *row, Fit fit)
{
    if (payload != m_payload) {
        m_fits.clear();
        m_payload = payload;
    }
    ++m_computed;
    return *m_fits.insert(row, std::move(fit));
}

void DragFitCache::clear()
{
    m_fits.clear();
    m_payload.clear();
}

} // namespace graft::ui
