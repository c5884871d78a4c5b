#include "mapping/renamerule.h"

#include <algorithm>

namespace graft {

Result<RenameRule> RenameRule::create(const QString &pattern, const QString &replacement)
{
    RenameRule rule;
    rule.m_pattern = pattern;
    rule.m_replacement = replacement;
    rule.m_regex = QRegularExpression(pattern);
    if (pattern.isEmpty())
        return Error{QString(), QStringLiteral("rename rule has an empty pattern")};
    if (!rule.m_regex.isValid())
        return Error{QString(), QStringLiteral("rename rule '%1': invalid regular expression: %2 (at offset %3)")
                                    .arg(pattern, rule.m_regex.errorString())
                                    .arg(rule.m_regex.patternErrorOffset())};
    rule.m_regex.optimize();
    rule.m_required = requiredLiteral(pattern);
    return rule;
}

QString RenameRule::requiredLiteral(const QString &pattern)
{
    // Written for the patterns people write (`\.self_attn\.q_proj\.`, `^module\.(.*)`): any
    // construct not understood here ends the current run, and a pattern with an alternation,
    // an inline option or a \Q..\E quote has no required text.
    if (pattern.contains(QLatin1Char('|')) || pattern.contains(QLatin1String("(?")) || pattern.contains(QLatin1String("\\Q")))
        return {};
    QString best;
    QString run;
    const auto endRun = [&] {
        if (run.size() > best.size())
            best = run;
        run.clear();
    };
    int depth = 0;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern[i];
        const QChar next = i + 1 < pattern.size() ? pattern[i + 1] : QChar();
        // A quantifier after this character makes it optional (or repeated: still ends the run).
        const bool quantified = next == u'*' || next == u'?' || next == u'{' || next == u'+';
        const bool optional = next == u'*' || next == u'?' || next == u'{';
        if (c == u'\\') {
            const QChar escaped = next;
            const bool plain = !escaped.isNull() && escaped.unicode() < 0x80 && !escaped.isLetterOrNumber() && escaped != u'\n';
            const QChar after = i + 2 < pattern.size() ? pattern[i + 2] : QChar();
            ++i;
            if (!plain) {
                // \d, \x41, \x{41}, \p{L}, \12...: the escape may run on; skip what could be its.
                endRun();
                while (i + 1 < pattern.size() && (pattern[i + 1].isLetterOrNumber() || pattern[i + 1] == u'{')) {
                    if (pattern[++i] == u'{') {
                        while (i + 1 < pattern.size() && pattern[i] != u'}')
                            ++i;
                    }
                }
                continue;
            }
            if (depth > 0) {
                endRun();
                continue;
            }
            if (after == u'*' || after == u'?' || after == u'{') {
                endRun();
                continue;
            }
            run += escaped;
            if (after == u'+')
                endRun();
            continue;
        }
        if (c == u'[') { // a class: skip to its end ('\]' and a leading ']' are inside it)
            endRun();
            qsizetype j = i + 1;
            if (j < pattern.size() && pattern[j] == u'^')
                ++j;
            if (j < pattern.size() && pattern[j] == u']')
                ++j;
            while (j < pattern.size() && pattern[j] != u']')
                j += pattern[j] == u'\\' ? 2 : 1;
            i = j;
            continue;
        }
        if (c == u'(') {
            endRun();
            ++depth;
            continue;
        }
        if (c == u')') {
            endRun();
            depth = std::max(0, depth - 1);
            continue;
        }
        // A character outside the BMP is two code units a quantifier takes together: left out.
        if (QStringView(u".^$*+?{}]").contains(c) || depth > 0 || c.isSurrogate()) {
            endRun();
            continue;
        }
        if (optional) {
            endRun();
            continue;
        }
        run += c;
        if (quantified)
            endRun();
    }
    endRun();
    return best;
}

Result<RenameRule> RenameRule::parse(const QString &text)
{
    const int arrow = text.indexOf(QStringLiteral("=>"));
    if (arrow < 0)
        return Error{QString(), QStringLiteral("rename rule '%1' must be REGEX=>REPLACEMENT").arg(text)};
    return create(text.left(arrow), text.mid(arrow + 2));
}

QString RenameRule::apply(const QString &key) const
{
    if (!m_required.isEmpty() && !key.contains(m_required))
        return key;
    QString renamed = key;
    return renamed.replace(m_regex, m_replacement);
}

} // namespace graft
