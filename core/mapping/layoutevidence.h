#pragma once
// Layouts inferred from evidence. A square 2-D weight fits its target both as it is and
// transposed, so its shape cannot say which is right. Its non-square siblings can: when every
// non-square weight of the same block (the same source pattern up to its last block index) or,
// failing that, of the whole model needed a transpose (HF Conv1D stores (in, out)), the square
// ones get it too; when none did (a Flax kernel from an (in, out) source), they don't.

#include "mapping/mapping.h"

#include <QHash>

#include <vector>

namespace graft {

/// Whether any mapping transposes: without one, applyLayoutEvidence() has nothing to do.
bool layoutEvidenceApplies(const MappingResult &result);

/// Rewrites the chains of square 2-D weight mappings in `result` to follow the layout their
/// non-square siblings show, and says so in their reasons. `sourceIndex` maps a key to its
/// position in `sources`.
void applyLayoutEvidence(MappingResult &result, const std::vector<KeySpec> &sources, const QHash<QString, int> &sourceIndex,
                         const std::vector<KeySpec> &targets);

} // namespace graft
