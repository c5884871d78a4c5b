#pragma once
// Graft's naming knowledge as data: core/mapping/naming.json (compiled in) lists the names real
// code bases give the same role (norms, attention, projections, embeddings, heads), fused roles
// and the keys that are buffers, not parameters. This file turns a key into role tokens with it.

#include "checkpoint/checkpoint.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace graft {

/// The tokens of `key` in role form: keyTokens(), a leading (model, state) index dropped,
/// naming.json's phrases applied (two passes: names, then names in context), the top-level /
/// in-block rules and the parameter synonyms. Numbers (block indices) are kept as tokens.
/// e.g. "transformer.h.0.attn.c_proj.weight" -> transformer layers 0 attn out_proj weight.
QStringList roleTokens(const QString &key);

/// True when the token is a number (a block index).
bool isIndexToken(const QString &token);

/// The separate roles a fused role concatenates, in the order the fused tensor holds them
/// ("qkv" -> q, k, v), or empty.
QStringList fusedParts(const QString &role);
/// The fused role that `role` is a part of ("k" -> "qkv"), and its position in it.
std::optional<std::pair<QString, int>> fusedWhole(const QString &role);

/// Why `key` (with this shape) is a buffer rather than a parameter, or an empty string.
QString bufferReason(const QString &key, const Shape &shape);

/// True when two heads name different parts of a model (one holds "encoder", the other
/// "decoder" and not "encoder"): no prefix rewrite may map one onto the other.
bool headsExclusive(const QStringList &a, const QStringList &b);
/// True when a learned prefix rewrite from `sourceHead` to `targetHead` (role tokens, '#' for an
/// index) would cross names: it renames a name both sides use into another name both sides use
/// (`sourceWords` / `targetWords`: every token of each side's keys), or, when the target indexes
/// there (`indexed`: the target head or the token after it is '#'), it renames a source name that
/// holds a number (`branch2`, `layer1`), whose number is what the target's index stands for.
bool rewriteCrossesNames(const QStringList &sourceHead, const QStringList &targetHead, bool indexed, const QSet<QString> &sourceWords,
                         const QSet<QString> &targetWords);

/// True when two role paths name the same thing at different block indices
/// (`classifier.0` vs `classifier.3`): the names say they are different layers.
bool indicesContradict(const QStringList &a, const QStringList &b);

/// True when `a` and `b` are two different roles the table knows (norm1 vs norm2, q vs k): names
/// that contradict each other. Unknown names and block indices never do.
bool rolesDiffer(const QString &a, const QString &b);

/// True when `token` is a role or parameter name the table knows (an output of its rules).
bool isKnownRole(const QString &token);

/// Parameter names whose mismatch makes two keys contradict (weight vs bias, running_mean vs weight).
bool isParameterName(const QString &token);

} // namespace graft
