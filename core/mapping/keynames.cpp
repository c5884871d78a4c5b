#include "mapping/keynames.h"

#include <algorithm>
#include <optional>

#include <QSet>
#include <QVarLengthArray>

namespace graft {
namespace {

const QSet<QString> &wrapperTokens()
{
    static const QSet<QString> tokens{QStringLiteral("module"), QStringLiteral("model"), QStringLiteral("state_dict"),
                                      QStringLiteral("params"), QStringLiteral("batch_stats"), QStringLiteral("_orig_mod"),
                                      QStringLiteral("model_state_dict"), QStringLiteral("net")};
    return tokens;
}

QString synonym(const QString &token)
{
    static const QHash<QString, QString> synonyms{
        {QStringLiteral("kernel"), QStringLiteral("weight")},
        {QStringLiteral("scale"), QStringLiteral("weight")},
        {QStringLiteral("embedding"), QStringLiteral("weight")},
        {QStringLiteral("gamma"), QStringLiteral("weight")},
        {QStringLiteral("beta"), QStringLiteral("bias")},
        {QStringLiteral("mean"), QStringLiteral("running_mean")},
        {QStringLiteral("var"), QStringLiteral("running_var")},
        {QStringLiteral("output_proj"), QStringLiteral("out_proj")},
    };
    return synonyms.value(token, token);
}

bool isSeparator(QChar c)
{
    return c == u'.' || c == u'/' || c == u'[' || c == u']' || c == u'\'' || c == u'"';
}

bool isAsciiLower(QChar c) { return c >= u'a' && c <= u'z'; }
bool isAsciiDigit(QChar c) { return c >= u'0' && c <= u'9'; }

// Position of the '_' in "name_3" (a letter, letters/digits, '_', digits to the end), else -1.
qsizetype numberedSplit(QStringView part)
{
    if (part.isEmpty() || !isAsciiLower(part[0]))
        return -1;
    qsizetype i = 1;
    while (i < part.size() && (isAsciiLower(part[i]) || isAsciiDigit(part[i])))
        ++i;
    if (i >= part.size() - 1 || part[i] != u'_')
        return -1;
    for (qsizetype j = i + 1; j < part.size(); ++j) {
        if (!isAsciiDigit(part[j]))
            return -1;
    }
    return i;
}

} // namespace

namespace {

// Calls `token(view)` for each token of the lower-cased key `lower` (views into it).
// Hand-written rather than regular expressions: the matcher tokenises every key of both
// checkpoints (200k keys for a large model), and this is ~10x faster. Same result as splitting
// on [./\[\]'"]+ and matching each part against ^([a-z][a-z0-9]*?)_(\d+)$.
template <typename Sink>
void forEachToken(QStringView lower, Sink token)
{
    const qsizetype size = lower.size();
    qsizetype begin = 0;
    while (begin < size) {
        while (begin < size && isSeparator(lower[begin]))
            ++begin;
        qsizetype end = begin;
        while (end < size && !isSeparator(lower[end]))
            ++end;
        if (end > begin) {
            const QStringView part = lower.mid(begin, end - begin);
            // Flax auto-names (Dense_0, layers_3) carry the index after an underscore.
            if (const qsizetype underscore = numberedSplit(part); underscore > 0) {
                token(part.left(underscore));
                token(part.mid(underscore + 1));
            } else {
                token(part);
            }
        }
        begin = end;
    }
}

} // namespace

QVarLengthArray<QStringView, 16> keyTokenViews(QStringView lower)
{
    QVarLengthArray<QStringView, 16> tokens;
    forEachToken(lower, [&tokens](QStringView token) { tokens.append(token); });
    return tokens;
}

QStringList keyTokens(const QString &key)
{
    const QString lower = key.toLower();
    QStringList tokens;
    forEachToken(lower, [&tokens](QStringView token) { tokens << token.toString(); });
    return tokens;
}

namespace {

// The stand-in for the k-th index of a key: digits (so every rule takes it for an index), longer
// than any index a real key holds.
constexpr qsizetype kMarkerLength = 40;

QString indexMarker(qsizetype k)
{
    static const QList<QString> first = [] {
        QList<QString> markers;
        for (int i = 0; i < 16; ++i)
            markers << QStringLiteral("9%1").arg(i, kMarkerLength - 1, 10, QLatin1Char('0'));
        return markers;
    }();
    return k < first.size() ? first[k] : QStringLiteral("9%1").arg(k, kMarkerLength - 1, 10, QLatin1Char('0'));
}

bool isDigits(QStringView token)
{
    return !token.isEmpty() && std::all_of(token.begin(), token.end(), [](QChar c) { return isAsciiDigit(c); });
}

QStringList canonicalTokens(QStringList tokens, bool bracketed)
{
    // `[0].…` / `[1].…` of a saved (model, state) tuple.
    // (A bare `.eqx`'s keys are `[0]`, `[1]`…: a lone index is the key itself.)
    if (bracketed && tokens.size() > 1 && (tokens.first() == QLatin1String("0") || tokens.first() == QLatin1String("1")))
        tokens.removeFirst();
    QStringList canonical;
    for (const QString &token : tokens) {
        if (canonical.isEmpty() && wrapperTokens().contains(token))
            continue; // only leading wrappers: `model` deeper in a path may be meaningful
        if (token == QLatin1String("batch_stats") || token == QLatin1String("params"))
            continue;
        canonical << token;
    }
    if (!canonical.isEmpty())
        canonical.last() = synonym(canonical.last());
    for (QString &token : canonical) {
        if (token == QLatin1String("output_proj"))
            token = QStringLiteral("out_proj");
    }
    return canonical;
}

// The shape of a lower-cased key into `shape` (each index token '#', every token followed by
// U+001F) and its index tokens into `indices` (views into `lower`): a key whose shape is known
// costs one pass over its characters and a lookup, not a list of tokens. A token in `literals`
// is text, not an index. False when a token could pass for an index marker (the caller then
// takes its tokens the slow way).
bool keyShape(QStringView lower, bool bracketed, const QSet<QString> &literals, QString &shape, QVarLengthArray<QStringView, 8> &indices)
{
    bool markerLike = false;
    qsizetype position = 0;
    forEachToken(lower, [&](QStringView token) {
        const bool index = isDigits(token);
        if (index && !(bracketed && position == 0) && (literals.isEmpty() || !literals.contains(token.toString()))) {
            shape += QLatin1Char('#');
            indices.append(token);
        } else {
            markerLike = markerLike || (index && token.size() >= kMarkerLength);
            shape += token;
        }
        shape += QChar(0x1f);
        ++position;
    });
    return !markerLike;
}

} // namespace

// Whether `text` may hold the lower-case ASCII `word` in any case. Qt's case-insensitive search
// folds every character through its Unicode tables (a tenth of matching 100k keys onto
// themselves); ASCII is compared here directly, in one pass, and a key with any other character
// goes to Qt (a Kelvin sign folds to 'k'). An ASCII match is a match for Qt too. A prefilter:
// keyTokens() decides.
bool mayContainCaseless(const QString &text, QLatin1StringView word)
{
    const auto lower = [](char16_t c) { return c >= u'A' && c <= u'Z' ? static_cast<char16_t>(c + 32) : c; };
    const char16_t *chars = reinterpret_cast<const char16_t *>(text.constData());
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (chars[i] > 127)
            return text.contains(word, Qt::CaseInsensitive);
        qsizetype j = 0;
        while (j < word.size() && i + j < text.size() && lower(chars[i + j]) == static_cast<char16_t>(word[j].unicode()))
            ++j;
        if (j == word.size())
            return true;
    }
    return false;
}

QStringList tokensByShape(const QString &key, TokenRules rules, QHash<QString, QStringList> &cache, const QSet<QString> &literals)
{
    const QString lower = key.toLower();
    const bool bracketed = key.startsWith(QLatin1Char('['));
    QString shape;
    shape.reserve(lower.size() + 8);
    QVarLengthArray<QStringView, 8> indices;
    if (!keyShape(lower, bracketed, literals, shape, indices))
        return rules(keyTokens(key), bracketed); // a literal that could pass for a marker
    auto it = cache.constFind(shape);
    if (it == cache.constEnd()) {
        QStringList tokens = keyTokens(key);
        for (qsizetype i = 0, k = 0; i < tokens.size(); ++i) {
            if (isDigits(tokens[i]) && !(bracketed && i == 0) && !literals.contains(tokens[i]))
                tokens[i] = indexMarker(k++);
        }
        if (cache.size() >= 16384)
            cache.clear();
        it = cache.insert(shape, rules(tokens, bracketed));
    }
    QStringList result = *it;
    for (QString &token : result) {
        if (token.size() == kMarkerLength && token.startsWith(QLatin1Char('9')) && isDigits(token))
            token = indices.value(token.mid(1).toLongLong()).toString();
    }
    return result;
}

std::vector<QString> withOneBasedNamesJoined(const std::vector<QString> &keys)
{
    // A numbered name: where its '_' is in the key, and its group (the lower-cased key up to the
    // name, and the stem).
    struct Numbered {
        size_t key;
        qsizetype underscore;
        QString group;
    };
    std::vector<Numbered> numbered;
    QHash<QString, bool> countsFromZero; // group -> one of its names is stem_0
    // Only a key with '_' before a digit can hold a numbered name: most keys are passed over
    // without a copy (a 100k-key model has few).
    const auto mayHoldNumbered = [](const QString &key) {
        for (qsizetype i = key.indexOf(QLatin1Char('_')); i >= 0 && i + 1 < key.size(); i = key.indexOf(QLatin1Char('_'), i + 1)) {
            if (isAsciiDigit(key[i + 1]))
                return true;
        }
        return false;
    };
    for (size_t k = 0; k < keys.size(); ++k) {
        const QString &key = keys[k];
        if (!mayHoldNumbered(key))
            continue;
        const QString lower = key.toLower();
        qsizetype begin = 0;
        while (begin < lower.size()) {
            while (begin < lower.size() && isSeparator(lower[begin]))
                ++begin;
            qsizetype end = begin;
            while (end < lower.size() && !isSeparator(lower[end]))
                ++end;
            const QStringView part = QStringView(lower).mid(begin, end - begin);
            if (const qsizetype underscore = numberedSplit(part); underscore > 0) {
                QString group = lower.left(begin + underscore);
                const bool zero = part.mid(underscore + 1).toLongLong() == 0;
                bool &fromZero = countsFromZero[group];
                fromZero = fromZero || zero;
                numbered.push_back({k, begin + underscore, std::move(group)});
            }
            begin = end;
        }
    }
    std::vector<QString> joined = keys;
    // Right to left within a key, so earlier positions stay valid.
    for (auto it = numbered.rbegin(); it != numbered.rend(); ++it) {
        if (!countsFromZero.value(it->group))
            joined[it->key].remove(it->underscore, 1);
    }
    return joined;
}

std::vector<QString> keysAsNamesRead(const std::vector<QString> &keys)
{
    std::vector<QString> names = withOneBasedNamesJoined(keys);
    // Blocks (the key up to the name) that hold both a `multihead_attn.` and a `norm3.`.
    const auto blockOf = [](const QString &key, QLatin1String name) -> std::optional<QString> {
        const qsizetype at = key.indexOf(name);
        if (at < 0 || (at > 0 && key[at - 1] != QLatin1Char('.')))
            return std::nullopt;
        return key.left(at);
    };
    QSet<QString> withCrossAttention;
    QSet<QString> withNorm3;
    for (const QString &key : names) {
        if (const auto block = blockOf(key, QLatin1String("multihead_attn.")))
            withCrossAttention.insert(*block);
        if (const auto block = blockOf(key, QLatin1String("norm3.")))
            withNorm3.insert(*block);
    }
    withCrossAttention.intersect(withNorm3);
    if (withCrossAttention.isEmpty())
        return names;
    for (QString &key : names) {
        for (const auto &[from, to] : {std::pair{QLatin1String("norm2."), QLatin1String("encoder_attn_layer_norm.")},
                                       std::pair{QLatin1String("norm3."), QLatin1String("final_layer_norm.")}}) {
            if (const auto block = blockOf(key, from); block && withCrossAttention.contains(*block)) {
                key = *block + to + key.mid(block->size() + from.size());
                break;
            }
        }
    }
    return names;
}

namespace {

// canonicalKey() of every key of one shape (its indices left out): the joined text without them
// and where each goes. A key of a known shape is then one pass over its characters, a lookup and
// one string built to size, with no list of tokens (200k keys per match; tokensByShape's lists
// cost ~8 allocations a key, a quarter of matching a checkpoint onto itself, W6).
struct CanonicalTemplate {
    QString text;
    std::vector<std::pair<qsizetype, qsizetype>> indices; ///< (position in text, the key's k-th index)
};

CanonicalTemplate canonicalTemplate(const QString &key, bool bracketed)
{
    QStringList tokens = keyTokens(key);
    for (qsizetype i = 0, k = 0; i < tokens.size(); ++i) {
        if (isDigits(tokens[i]) && !(bracketed && i == 0))
            tokens[i] = indexMarker(k++);
    }
    CanonicalTemplate made;
    const QStringList canonical = canonicalTokens(tokens, bracketed);
    for (qsizetype i = 0; i < canonical.size(); ++i) {
        if (i > 0)
            made.text += QLatin1Char('.');
        const QString &token = canonical[i];
        if (token.size() == kMarkerLength && token.startsWith(QLatin1Char('9')) && isDigits(token))
            made.indices.emplace_back(made.text.size(), token.mid(1).toLongLong());
        else
            made.text += token;
    }
    return made;
}

} // namespace

QString canonicalKey(const QString &key)
{
    thread_local QHash<QString, CanonicalTemplate> cache;
    thread_local QString lower;
    thread_local QString shape;
    // Lower-cased into a buffer kept between calls; a key beyond ASCII takes QString's rules.
    const qsizetype size = key.size();
    const QChar *in = key.constData();
    const bool ascii = std::all_of(in, in + size, [](QChar c) { return c.unicode() < 0x80; });
    if (ascii) {
        lower.resize(size);
        QChar *out = lower.data();
        for (qsizetype i = 0; i < size; ++i)
            out[i] = (in[i] >= u'A' && in[i] <= u'Z') ? QChar(in[i].unicode() + 32) : in[i];
    } else {
        lower = key.toLower();
    }
    const bool bracketed = key.startsWith(QLatin1Char('['));
    shape.resize(0);
    QVarLengthArray<QStringView, 8> indices;
    static const QSet<QString> noLiterals;
    if (!keyShape(lower, bracketed, noLiterals, shape, indices)) // a literal that could pass for a marker
        return canonicalTokens(keyTokens(key), bracketed).join(QLatin1Char('.'));
    auto it = cache.constFind(shape);
    if (it == cache.constEnd()) {
        if (cache.size() >= 16384)
            cache.clear();
        it = cache.insert(shape, canonicalTemplate(key, bracketed));
    }
    const CanonicalTemplate &made = *it;
    qsizetype length = made.text.size();
    for (const auto &[at, k] : made.indices)
        length += k < indices.size() ? indices[k].size() : 0;
    QString result;
    result.reserve(length);
    qsizetype copied = 0;
    for (const auto &[at, k] : made.indices) {
        result.append(QStringView(made.text).mid(copied, at - copied));
        copied = at;
        if (k < indices.size())
            result.append(indices[k]);
    }
    result.append(QStringView(made.text).mid(copied));
    return result;
}

QString looseKey(const QString &key) { return looseKeyOfCanonical(canonicalKey(key)); }

QString looseKeyOfCanonical(const QString &canonical)
{
    static const QSet<QString> containers{QStringLiteral("layers"), QStringLiteral("sequential"), QStringLiteral("seq"),
                                          QStringLiteral("block"), QStringLiteral("blocks")};
    QStringList tokens = canonical.split(QLatin1Char('.'));
    QStringList kept;
    for (const QString &token : tokens) {
        if (!containers.contains(token))
            kept << token;
    }
    return kept.join(QLatin1Char('.'));
}

QString parameterName(const QString &key)
{
    const QString canonical = canonicalKey(key);
    return canonical.section(QLatin1Char('.'), -1);
}

} // namespace graft
