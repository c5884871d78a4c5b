#include "mapping/fusedattention.h"

#include "mapping/keynames.h"

#include <QHash>

namespace graft {

namespace {

// InternLM2's `attention.wqkv`: rows grouped per key/value head, [q heads of the group; k; v]
// (MPT's `attn.Wqkv` is three blocks).
void markGroupedWqkv(const std::vector<KeySpec> &keys, std::vector<QString> &reasons)
{
    for (size_t i = 0; i < keys.size(); ++i) {
        if (!mayContainCaseless(keys[i].key, QLatin1String("wqkv")))
            continue;
        const QStringList tokens = keyTokens(keys[i].key);
        const qsizetype n = tokens.size();
        if (n >= 3 && tokens[n - 2] == QLatin1String("wqkv") && tokens[n - 3] == QLatin1String("attention"))
            reasons[i] = QStringLiteral("%1 is InternLM2's fused q/k/v: its rows are grouped per key/value head (the group's q "
                                        "heads, then its k and v), and the head counts are in no file: not cut into q, k, v nor "
                                        "made of them (map it by hand if you know the model)")
                             .arg(keys[i].key);
    }
}

} // namespace

std::vector<QString> perHeadFusedReasons(const std::vector<KeySpec> &keys)
{
    std::vector<QString> reasons(keys.size());
    markGroupedWqkv(keys, reasons);
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

namespace {

enum class RotaryOrder { Unknown, HuggingFace, Interleaved };

// The last tokens of a key (split on . / [ ] and quotes), read from its end without building a
// list: this runs on every decided leaf (100k of them) and most keys are no projection.
QStringView tokenBefore(const QString &key, qsizetype &end)
{
    const char16_t *chars = reinterpret_cast<const char16_t *>(key.constData());
    const auto separator = [](char16_t c) { return c == u'.' || c == u'/' || c == u'[' || c == u']' || c == u'\'' || c == u'"'; };
    while (end > 0 && separator(chars[end - 1]))
        --end;
    qsizetype begin = end;
    while (begin > 0 && !separator(chars[begin - 1]))
        --begin;
    const QStringView token = QStringView(key).mid(begin, end - begin);
    end = begin;
    return token;
}

bool equalsCaseless(QStringView token, QLatin1StringView word)
{
    return token.size() == word.size() && token.compare(word, Qt::CaseInsensitive) == 0;
}

// The role (q / k) and row order a projection's key names, from its module token.
std::pair<QChar, RotaryOrder> rotaryProjection(const QString &key)
{
    qsizetype end = key.size();
    QStringView module = tokenBefore(key, end);
    if (equalsCaseless(module, QLatin1String("weight")) || equalsCaseless(module, QLatin1String("bias"))
        || equalsCaseless(module, QLatin1String("kernel")))
        module = tokenBefore(key, end);
    if (module.size() != 2 && module.size() != 6) // every name below: most modules are none of them
        return {QChar(), RotaryOrder::Unknown};
    const auto is = [&module](const char *word) { return equalsCaseless(module, QLatin1String(word)); };
    if (is("q_proj") || is("k_proj"))
        return {module[0].toLower(), RotaryOrder::HuggingFace};
    if (is("wq") || is("wk"))
        return {module[1].toLower(), RotaryOrder::Interleaved};
    if (is("attn_q") || is("attn_k"))
        return {module[5].toLower(), RotaryOrder::Interleaved};
    return {QChar(), RotaryOrder::Unknown};
}

} // namespace

QString rotaryLayoutConflict(const QString &sourceKey, const QString &targetKey)
{
    const auto [targetRole, targetOrder] = rotaryProjection(targetKey);
    if (targetOrder == RotaryOrder::Unknown)
        return QString();
    const auto [sourceRole, sourceOrder] = rotaryProjection(sourceKey);
    if (sourceOrder == RotaryOrder::Unknown || sourceOrder == targetOrder || sourceRole != targetRole)
        return QString();
    return QStringLiteral("%1 and %2 order a head's rows for different rotary embeddings (Hugging Face's q_proj / k_proj for "
                          "rotate_half, wq / wk and attn_q / attn_k for interleaved pairs): their converters permute the rows "
                          "head by head, and the head count is in no file (not copied; map it by hand if you know the model)")
        .arg(sourceKey, targetKey);
}

} // namespace graft
