#pragma once
// Name normalisation for automatic matching: turns framework-specific keys into comparable
// canonical forms. `features.0.weight` (torch), `.features[0].weight` (Equinox keystr),
// `params/features_0/kernel` (Flax) all become "features.0.weight".

#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>

#include <QVarLengthArray>

#include <vector>

namespace graft {

/// Whether `text` may hold the lower-case ASCII `word` in any case: a fast prefilter for
/// keyTokens() (an ASCII key is compared directly, any other goes to Qt's Unicode folding).
bool mayContainCaseless(const QString &text, QLatin1StringView word);

/// Tokens of a key: split on . / [ ] quotes, lower-cased, `name_3` split into name, 3.
QStringList keyTokens(const QString &key);
/// keyTokens() as views into `lower`, the key already lower-cased (QString::toLower(), which
/// shares a key that is lower-case already): no list of strings for a caller that only looks.
QVarLengthArray<QStringView, 16> keyTokenViews(QStringView lower);

/// `rules(tokens, bracketed)` applied to keyTokens(key) (`bracketed`: the key starts with '['),
/// computed once per shape of key. Naming rules that only ask whether a token is an index
/// (digits), never which, give `model.layers.7.mlp.experts.3.up_proj.weight` the result of every
/// other layer and expert with the indices put back; so they run once per shape (a few dozen in
/// a 100k-key model) on the tokens with each index replaced by a marker, and each key substitutes
/// its own indices. The leading index of a bracketed key stays itself (rules may test it), and so
/// does every index in `literals` (numbers the rules name, as `ln 1` -> norm1 does).
/// `cache` is the caller's, one per rule set and thread.
using TokenRules = QStringList (*)(QStringList tokens, bool bracketed);
QStringList tokensByShape(const QString &key, TokenRules rules, QHash<QString, QStringList> &cache,
                          const QSet<QString> &literals = {});

/// The keys of one checkpoint with each numbered name counted from 1 joined into one word
/// (`branch3x3dbl_2` -> `branch3x3dbl2`), so that no name pass reads its number as an index.
/// A numbered name `stem_N` is an index when its siblings (the same stem in the same place of
/// keys with the same prefix) count from 0, as Flax's auto-names do (Dense_0, Dense_1); counted
/// from 1 (torchvision Inception's branch3x3dbl_1.._3, latent diffusion's block_1, block_2, GPT-2's
/// ln_1, ln_2) it is a name, and `branch3x3dbl_2` taken as index 2 gave list entry [2] the
/// tensor of entry [1] under "names match". Keys without such names are returned as they are.
std::vector<QString> withOneBasedNamesJoined(const std::vector<QString> &keys);

/// The keys of one checkpoint as the name passes read them: withOneBasedNamesJoined(), and in a
/// block that holds torch nn.TransformerDecoderLayer's `multihead_attn` and `norm3`, its `norm2`
/// and `norm3` read as the cross-attention and MLP norms they are there (`encoder_attn_layer_norm`,
/// `final_layer_norm`): everywhere else `norm2` is the norm before the MLP, and DETR's decoder
/// `norm2` filled transformers' `final_layer_norm`.
std::vector<QString> keysAsNamesRead(const std::vector<QString> &keys);

/// Canonical form used for exact name matching: wrapper prefixes stripped (module., model.,
/// state_dict., params/, a leading [0]/[1] of a (model, state) tuple, batch_stats), synonyms
/// unified (kernel/scale/embedding/gamma -> weight, beta -> bias, mean -> running_mean,
/// var -> running_var, output_proj -> out_proj).
QString canonicalKey(const QString &key);

/// A looser form for a second pass: also drops container tokens such as `layers` that one
/// framework has and the other doesn't (eqx.nn.Sequential's `.layers[i]`).
QString looseKey(const QString &key);
/// looseKey() of a key whose canonicalKey() is `canonical` (saves canonicalising twice).
QString looseKeyOfCanonical(const QString &canonical);

/// "weight", "bias", ... : the last token of the canonical form.
QString parameterName(const QString &key);

} // namespace graft
