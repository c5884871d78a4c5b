// A checkpoint matched onto itself: a re-save, a format change, a cast (`graft-cli convert
// model.pth model.pth -o model.safetensors`). matchCheckpoints() passes one key list for both
// sides when the two checkpoints share their index; every array leaf is then its own source,
// decided as the name pass decides a name match (the same reason, status and confidence, from
// analysePair(); only when that leaves every leaf exact as it is), and scalars are kept, as
// applyKeptAndIgnored() keeps them.
// The passes would read every key a dozen times to find that out (100k keys: ~0.25 s of a
// conversion of 0.8 s). tst_automatcher compares the two on every kind of fixture; the
// mapping corpus's 300 files were compared through `graft-cli map F F --json` (with and without
// a rename rule that matches nothing, which takes the passes).
//
// One difference, on purpose: two keys whose normalised names collide (`layer.0.w` and
// `layer_0.w`) are ambiguous to the name pass; onto itself each is its own leaf, which is
// simply right.

#include "mapping/matcher.h"
#include "mapping/namingtable.h"
#include "mapping/shapeanalysis.h"

namespace graft::detail {

bool Matcher::matchOntoItself()
{
    // One list object on both sides, and nothing that asks for the passes.
    if (&m_sources != &m_targets || !m_options.useNames || !m_options.rules.empty() || !m_options.explicitMappings.empty()
        || !m_options.keptTargets.isEmpty() || !m_options.ignoredSources.isEmpty())
        return false;
    std::vector<PairAnalysis> analyses(m_targets.size());
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (m_targets[t].kind == LeafKind::Scalar)
            continue;
        analyses[t] = analysePair(m_targets[t].spec, m_targets[t].spec, m_convention, m_targets[t].key);
        // Each leaf as it is. A convention that would transform a leaf onto itself (a square
        // Flax kernel: transposed by the convention, left alone by the layout evidence of its
        // siblings, a later pass) is the passes' business.
        if (analyses[t].status != MatchStatus::Exact || !analyses[t].transforms.empty())
            return false;
    }
    applyKeptAndIgnored(); // the scalars
    for (size_t t = 0; t < m_targets.size(); ++t) {
        if (!m_decided[t])
            assign(static_cast<int>(t), static_cast<int>(t), analyses[t], MatchOrigin::Name, kConfidenceName,
                   QStringLiteral("names match"));
    }
    // finish() files each source left unused (the scalars) as a buffer or not.
    m_bufferReason.resize(m_sources.size());
    for (size_t s = 0; s < m_sources.size(); ++s) {
        if (!m_sourceUsed[s])
            m_bufferReason[s] = bufferReason(m_sources[s].key, m_sources[s].spec.shape);
    }
    finish();
    return true;
}

} // namespace graft::detail
