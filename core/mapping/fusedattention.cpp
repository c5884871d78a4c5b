#include "mapping/fusedattention.h"

#include "mapping/keynames.h"

#include <QHash>

namespace graft {

std::vector<QString> perHeadFusedReasons(const std::vector<KeySpec> &keys)
{
    std::vector<QString> reasons(keys.size());
    const QLatin1String fusedName("c_attn");
    bool any = false;
    for (const KeySpec &key : keys)
        any = any || mayContainCaseless(key.key, fusedName);
    if (!any)
        return reasons; // most checkpoints: one pass, no tokens

    struct Fused {
        size_t index;
        QString module; ///< tokens up to and with c_attn, joined
        QString block;  ///< tokens before `attn.c_attn` (or before `c_attn`), joined
    };
    std::vector<Fused> fused;
    QHash<QString, const TensorSpec *> weights; // module -> its weight's spec
    QHash<QString, int> qwenMlp;                // block -> 1: has mlp.w1, 2: has mlp.w2
    for (size_t i = 0; i < keys.size(); ++i) {
        const QString &key = keys[i].key;
        if (!mayContainCaseless(key, QLatin1String("mlp")) && !mayContainCaseless(key, fusedName))
            continue;
        const QStringList tokens = keyTokens(key);
        const qsizetype n = tokens.size();
        if (n < 3)
            continue;
        if (tokens[n - 3] == QLatin1String("mlp") && (tokens[n - 2] == QLatin1String("w1") || tokens[n - 2] == QLatin1String("w2"))) {
            qwenMlp[tokens.mid(0, n - 3).join(QLatin1Char('.'))] |= tokens[n - 2] == QLatin1String("w1") ? 1 : 2;
            continue;
        }
        if (tokens[n - 2] != fusedName)
            continue;
        const QString module = tokens.mid(0, n - 1).join(QLatin1Char('.'));
        if (tokens[n - 1] == QLatin1String("weight"))
            weights.insert(module, &keys[i].spec);
        const qsizetype blockEnd = tokens[n - 3] == QLatin1String("attn") ? n - 3 : n - 2;
        fused.push_back({i, module, tokens.mid(0, blockEnd).join(QLatin1Char('.'))});
    }
    for (const Fused &candidate : fused) {
        const TensorSpec *weight = weights.value(candidate.module);
        if (weight == nullptr || weight->shape.size() != 2 || weight->shape[1] <= 0 || weight->shape[0] != 3 * weight->shape[1])
            continue; // GPT-2's Conv1D (D, 3D), or not three blocks of rows at all
        if (qwenMlp.value(candidate.block) == 3)
            continue; // Qwen-1: QWenAttention splits c_attn(x) into contiguous thirds
        reasons[candidate.index] =
            QStringLiteral("%1 is a fused q/k/v in torch's Linear layout %2: GPTBigCode holds its rows head by head, nanoGPT "
                           "and Qwen-1 as three blocks, and nothing in the file says which: not cut into thirds (map it by "
                           "hand if you know the model)")
                .arg(keys[candidate.index].key, shapeToString(weight->shape));
    }
    return reasons;
}

} // namespace graft
