#include "keynames.h"

#include <QRegularExpression>
#include <QSet>

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

} // namespace

QStringList keyTokens(const QString &key)
{
    static const QRegularExpression separators(QStringLiteral("[./\\[\\]'\"]+"));
    static const QRegularExpression numbered(QStringLiteral("^([a-z][a-z0-9]*?)_(\\d+)$"));
    QStringList tokens;
    for (const QString &part : key.toLower().split(separators, Qt::SkipEmptyParts)) {
        // Flax auto-names (Dense_0, layers_3) carry the index after an underscore.
        const QRegularExpressionMatch match = numbered.match(part);
        if (match.hasMatch())
            tokens << match.captured(1) << match.captured(2);
        else
            tokens << part;
    }
    return tokens;
}

QString canonicalKey(const QString &key)
{
    QStringList tokens = keyTokens(key);
    // `[0].…` / `[1].…` of a saved (model, state) tuple.
    if (key.startsWith(QLatin1Char('[')) && !tokens.isEmpty() && (tokens.first() == QLatin1String("0") || tokens.first() == QLatin1String("1")))
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
    return canonical.join(QLatin1Char('.'));
}

QString looseKey(const QString &key)
{
    static const QSet<QString> containers{QStringLiteral("layers"), QStringLiteral("sequential"), QStringLiteral("seq"),
                                          QStringLiteral("block"), QStringLiteral("blocks")};
    QStringList tokens = canonicalKey(key).split(QLatin1Char('.'));
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
