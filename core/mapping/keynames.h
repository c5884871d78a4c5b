#pragma once
// Name normalisation for automatic matching: turns framework-specific keys into comparable
// canonical forms. `features.0.weight` (torch), `.features[0].weight` (Equinox keystr),
// `params/features_0/kernel` (Flax) all become "features.0.weight".

#include <QString>
#include <QStringList>

namespace graft {

/// Tokens of a key: split on . / [ ] quotes, lower-cased, `name_3` split into name, 3.
QStringList keyTokens(const QString &key);

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
