#pragma once
// How a drag of source keys fits the target rows it passes over, computed once per row for the
// whole drag. Qt asks the model (canDropMimeData) on every mouse move and the view asks again
// for the fit colour and tooltip; over a group the fit is a subtree match, far too slow to run
// twice per move on the GUI thread. The drop itself uses the cached mappings, so what was shown
// is what is applied. The model clears the cache when a drag starts or ends and whenever the
// document changes.

#include "mapping/mapping.h"

#include <QByteArray>
#include <QHash>

#include <vector>

namespace graft::ui {

class DragFitCache {
public:
    struct Fit {
        MatchStatus status = MatchStatus::Unmapped;
        QString detail;                ///< the fix or the reason, for the tooltip
        std::vector<Mapping> mappings; ///< a group: the pairs found; a leaf: the one proposal
        QString what;                  ///< a leaf: how the sources combine (for the undo history)
    };

    /// The fit of the drag `payload` (the MIME bytes) on `row` (a node of the model), or null.
    const Fit *find(const QByteArray &payload, const void *row) const;
    /// Remembers `fit`; another payload than the cached one starts afresh.
    const Fit &insert(const QByteArray &payload, const void *row, Fit fit);
    void clear();
    /// Fits computed since construction (tests count them).
    int computed() const { return m_computed; }

private:
    QByteArray m_payload;
    QHash<const void *, Fit> m_fits;
    int m_computed = 0;
};

} // namespace graft::ui
