#include "mapping/namingtable.h"

#include "mapping/keynames.h"
#include "mapping/naming_json.h" // generated from naming.json by core/CMakeLists.txt

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace graft {
namespace {

struct Phrase {
    QStringList from; ///< tokens; "#" matches any number
    QStringList to;   ///< "#" takes the numbers matched, in order
};

struct BufferRule {
    QRegularExpression pattern;
    int rank = -1;
    QString reason;
};

struct NamingTable {
    QHash<QString, std::vector<Phrase>> phrasesByFirst; ///< by first token ("" for "#"), longest first
    QHash<QString, QString> topLevel;
    QHash<QString, QString> inBlock;
    QHash<QString, QString> parameters;
    QHash<QString, QStringList> fused;
    QHash<QString, std::pair<QString, int>> partOf;
    std::vector<BufferRule> buffers;
    /// A key whose last name is none of these is no buffer (fast path). Sorted, searched with a
    /// view of the key's end: a set of QString needed a copy of it (100k keys: 15 ms).
    std::vector<QString> bufferLastNames;
    QSet<QString> knownRoles;
    std::vector<QSet<QString>> exclusive;
    QSet<QString> numberLiterals; ///< numbers the rules name (`ln 1`): roleTokens keeps them as they are
};

QStringList splitTokens(const QString &text) { return text.split(QLatin1Char(' '), Qt::SkipEmptyParts); }

NamingTable loadTable()
{
    NamingTable table;
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray(kNamingJson), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject()) {
        // Compiled in and checked by tst_namingtable: reaching this is a build defect.
        std::fprintf(stderr, "graft: naming.json is not valid JSON: %s\n", qPrintable(error.errorString()));
        std::abort();
    }
    const QJsonObject root = document.object();
    const QJsonObject phrases = root.value(QLatin1String("phrases")).toObject();
    for (auto it = phrases.begin(); it != phrases.end(); ++it) {
        Phrase phrase{splitTokens(it.key()), splitTokens(it.value().toString())};
        const QString first = phrase.from.front() == QLatin1String("#") ? QString() : phrase.from.front();
        table.phrasesByFirst[first].push_back(phrase);
        for (const QString &token : phrase.to)
            table.knownRoles.insert(token);
    }
    for (auto &list : table.phrasesByFirst)
        std::stable_sort(list.begin(), list.end(), [](const Phrase &a, const Phrase &b) { return a.from.size() > b.from.size(); });
    auto readMap = [&](const char *name, QHash<QString, QString> &into) {
        const QJsonObject object = root.value(QLatin1String(name)).toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            into.insert(it.key(), it.value().toString());
            table.knownRoles.insert(it.value().toString());
        }
    };
    readMap("top_level", table.topLevel);
    readMap("in_block", table.inBlock);
    readMap("parameters", table.parameters);
    const QJsonObject fused = root.value(QLatin1String("fused")).toObject();
    for (auto it = fused.begin(); it != fused.end(); ++it) {
        QStringList parts;
        for (const QJsonValue &part : it.value().toArray())
            parts << part.toString();
        table.fused.insert(it.key(), parts);
        for (int i = 0; i < parts.size(); ++i)
            table.partOf.insert(parts[i], {it.key(), i});
    }
    for (const QJsonValue &value : root.value(QLatin1String("buffers")).toArray()) {
        const QJsonObject rule = value.toObject();
        for (const QJsonValue &last : rule.value(QLatin1String("last")).toArray())
            table.bufferLastNames.push_back(last.toString());
        table.buffers.push_back({QRegularExpression(rule.value(QLatin1String("pattern")).toString()),
                                 rule.value(QLatin1String("rank")).toInt(-1), rule.value(QLatin1String("reason")).toString()});
    }
    std::sort(table.bufferLastNames.begin(), table.bufferLastNames.end());
    for (const QJsonValue &group : root.value(QLatin1String("exclusive")).toArray()) {
        QSet<QString> members;
        for (const QJsonValue &member : group.toArray())
            members.insert(member.toString());
        table.exclusive.push_back(members);
    }
    for (const auto &list : table.phrasesByFirst) {
        for (const Phrase &phrase : list) {
            for (const QString &token : phrase.from) {
                if (isIndexToken(token))
                    table.numberLiterals.insert(token);
            }
        }
    }
    for (const QHash<QString, QString> *map : {&table.topLevel, &table.inBlock, &table.parameters}) {
        for (auto it = map->begin(); it != map->end(); ++it) {
            if (isIndexToken(it.key()))
                table.numberLiterals.insert(it.key());
        }
    }
    for (const char *parameter : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
        table.knownRoles.insert(QLatin1String(parameter));
    return table;
}

const NamingTable &table()
{
    static const NamingTable instance = loadTable();
    return instance;
}

// One left-to-right pass of the phrases, longest match first.
QStringList applyPhrases(const QStringList &tokens)
{
    const NamingTable &t = table();
    QStringList out;
    qsizetype i = 0;
    while (i < tokens.size()) {
        const Phrase *best = nullptr;
        QStringList numbers;
        for (const QString &first : {tokens[i], QString()}) {
            if (first.isEmpty() && !isIndexToken(tokens[i]))
                continue;
            const auto it = t.phrasesByFirst.constFind(first);
            if (it == t.phrasesByFirst.constEnd())
                continue;
            for (const Phrase &phrase : *it) {
                if (best && best->from.size() >= phrase.from.size())
                    break;
                if (i + phrase.from.size() > tokens.size())
                    continue;
                QStringList matched;
                bool ok = true;
                for (qsizetype k = 0; k < phrase.from.size() && ok; ++k) {
                    const QString &token = tokens[i + k];
                    if (phrase.from[k] == QLatin1String("#")) {
                        ok = isIndexToken(token);
                        matched << token;
                    } else {
                        ok = phrase.from[k] == token;
                    }
                }
                if (ok) {
                    best = &phrase;
                    numbers = matched;
                    break; // longest of this list
                }
            }
        }
        if (!best) {
            out << tokens[i++];
            continue;
        }
        qsizetype n = 0;
        for (const QString &token : best->to)
            out << (token == QLatin1String("#") ? numbers.value(n++) : token);
        i += best->from.size();
    }
    return out;
}

} // namespace

bool isIndexToken(const QString &token)
{
    if (token.isEmpty())
        return false;
    for (QChar c : token) {
        if (c < u'0' || c > u'9')
            return false;
    }
    return true;
}

namespace {

// roleTokens of a key's tokens; `bracketed`: the key starts with '['.
QStringList roleTokensOf(QStringList tokens, bool bracketed)
{
    if (bracketed && tokens.size() > 1 && (tokens.first() == QLatin1String("0") || tokens.first() == QLatin1String("1")))
        tokens.removeFirst(); // `[0].…` / `[1].…` of a saved (model, state) tuple
    // `encoder_layer_0` (torchvision ViT) -> encoder_layer, 0 (keyTokens splits `name_3` only
    // when the name has no underscore of its own).
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const QString &token = tokens[i];
        const qsizetype underscore = token.lastIndexOf(QLatin1Char('_'));
        if (underscore > 0 && underscore + 1 < token.size() && isIndexToken(token.mid(underscore + 1))
            && !isIndexToken(token.left(underscore))) {
            const QString index = token.mid(underscore + 1);
            tokens[i] = token.left(underscore);
            tokens.insert(i + 1, index);
            ++i;
        }
    }
    tokens.removeAll(QStringLiteral("params"));
    tokens.removeAll(QStringLiteral("batch_stats"));
    tokens = applyPhrases(applyPhrases(tokens));
    const NamingTable &t = table();
    if (tokens.size() >= 2) {
        const qsizetype module = tokens.size() - 2;
        bool inBlock = false;
        for (qsizetype i = 0; i < module; ++i)
            inBlock = inBlock || isIndexToken(tokens[i]);
        const QHash<QString, QString> &rules = inBlock ? t.inBlock : t.topLevel;
        if (inBlock || module <= 2) {
            if (const auto it = rules.constFind(tokens[module]); it != rules.constEnd())
                tokens[module] = *it;
        }
    }
    if (!tokens.isEmpty()) {
        if (const auto it = t.parameters.constFind(tokens.last()); it != t.parameters.constEnd())
            tokens.last() = *it;
    }
    // `encoder.positional_embedding` (a bare parameter) and `embed_positions.weight` (an
    // Embedding module) hold the same tensor: the module form drops its `weight`.
    static const QSet<QString> bareParameters{QStringLiteral("pos_embed"), QStringLiteral("cls_token"), QStringLiteral("dist_token")};
    if (tokens.size() >= 2 && tokens.last() == QLatin1String("weight") && bareParameters.contains(tokens[tokens.size() - 2]))
        tokens.removeLast();
    return tokens;
}

} // namespace

QStringList roleTokens(const QString &key)
{
    thread_local QHash<QString, QStringList> cache;
    return tokensByShape(key, roleTokensOf, cache, table().numberLiterals);
}

QStringList fusedParts(const QString &role) { return table().fused.value(role); }

std::optional<std::pair<QString, int>> fusedWhole(const QString &role)
{
    const auto it = table().partOf.constFind(role);
    if (it == table().partOf.constEnd())
        return std::nullopt;
    return *it;
}

QString bufferReason(const QString &key, const Shape &shape)
{
    const char16_t *chars = reinterpret_cast<const char16_t *>(key.constData());
    qsizetype dot = key.size();
    while (dot > 0 && chars[dot - 1] != u'.')
        --dot;
    const QStringView last = QStringView(key).mid(dot);
    const std::vector<QString> &lastNames = table().bufferLastNames;
    if (!std::binary_search(lastNames.begin(), lastNames.end(), last,
                            [](QStringView a, QStringView b) { return a.compare(b) < 0; }))
        return QString();
    for (const BufferRule &rule : table().buffers) {
        if ((rule.rank < 0 || rule.rank == static_cast<int>(shape.size())) && rule.pattern.match(key).hasMatch())
            return rule.reason;
    }
    return QString();
}

bool headsExclusive(const QStringList &a, const QStringList &b)
{
    for (const QSet<QString> &group : table().exclusive) {
        QSet<QString> inA;
        QSet<QString> inB;
        for (const QString &token : a) {
            if (group.contains(token))
                inA.insert(token);
        }
        for (const QString &token : b) {
            if (group.contains(token))
                inB.insert(token);
        }
        if (!inA.isEmpty() && !inB.isEmpty() && !inA.intersects(inB))
            return true;
    }
    return false;
}

namespace {

// Letters (or '_'), then digits: `branch2`, `layer1`, `denseblock1`; not `wav2vec2`, not `conv`.
bool isNumberedWord(const QString &token)
{
    qsizetype letters = 0;
    while (letters < token.size() && (token[letters].isLetter() || token[letters] == u'_'))
        ++letters;
    if (letters == 0 || letters == token.size())
        return false;
    for (qsizetype i = letters; i < token.size(); ++i) {
        if (!token[i].isDigit())
            return false;
    }
    return true;
}

} // namespace

bool rewriteCrossesNames(const QStringList &sourceHead, const QStringList &targetHead, bool indexed, const QSet<QString> &sourceWords,
                         const QSet<QString> &targetWords)
{
    // Two things that exist on both sides, crossed: GoogLeNet's `inception4e.branch2` learned as
    // inception3b's branches from equal shapes filled inception3b from inception4e.
    const auto renamesShared = [](const QStringList &from, const QStringList &to, const QSet<QString> &otherWords) {
        return std::any_of(from.begin(), from.end(), [&](const QString &token) {
            return token != QLatin1String("#") && !to.contains(token) && otherWords.contains(token);
        });
    };
    if (renamesShared(sourceHead, targetHead, targetWords) && renamesShared(targetHead, sourceHead, sourceWords))
        return true;
    // `branch2.0` is the first layer of branch 2, never `branches[0]`: the target's index stands
    // for the number in the name, not for the source's own index after it.
    return indexed && std::any_of(sourceHead.begin(), sourceHead.end(), [&](const QString &token) {
               return isNumberedWord(token) && !targetHead.contains(token);
           });
}

bool indicesContradict(const QStringList &a, const QStringList &b)
{
    if (a.size() != b.size())
        return false;
    bool differs = false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        const bool indexA = isIndexToken(a[i]);
        if (indexA != isIndexToken(b[i]))
            return false;
        if (!indexA && a[i] != b[i])
            return false;
        differs = differs || (indexA && a[i] != b[i]);
    }
    return differs;
}

bool rolesDiffer(const QString &a, const QString &b)
{
    return a != b && isKnownRole(a) && isKnownRole(b) && !isIndexToken(a) && !isIndexToken(b);
}

bool isKnownRole(const QString &token) { return table().knownRoles.contains(token); }

bool isParameterName(const QString &token)
{
    static const QSet<QString> names{QStringLiteral("weight"), QStringLiteral("bias"), QStringLiteral("running_mean"),
                                     QStringLiteral("running_var"), QStringLiteral("num_batches_tracked")};
    return names.contains(token);
}

} // namespace graft
