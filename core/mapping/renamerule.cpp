#include "mapping/renamerule.h"

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
    return rule;
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
    QString renamed = key;
    return renamed.replace(m_regex, m_replacement);
}

} // namespace graft
