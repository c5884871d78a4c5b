#pragma once
// A user's rename rule: a regular expression on source keys and its replacement
// (`^module\.(.*)` => `\1`), applied before name matching.

#include "base/result.h"

#include <QRegularExpression>
#include <QString>

namespace graft {

class RenameRule {
public:
    /// Validates the pattern. Replacement uses \1..\9 for captures (QRegularExpression syntax).
    static Result<RenameRule> create(const QString &pattern, const QString &replacement);
    /// Parses the CLI form "REGEX=>REPLACEMENT".
    static Result<RenameRule> parse(const QString &text);

    const QString &pattern() const { return m_pattern; }
    const QString &replacement() const { return m_replacement; }
    /// The key after this rule (unchanged when it doesn't match).
    QString apply(const QString &key) const;

    /// Text every match of the pattern contains (a longest run of plain characters outside any
    /// group, class or alternation; `\.` counts as '.'), or empty when no run is certain. A
    /// key without it is left alone without running the expression: 100k keys through four
    /// rules cost a sixth of matching them (W3), though few keys match.
    static QString requiredLiteral(const QString &pattern);

private:
    QString m_pattern;
    QString m_replacement;
    QRegularExpression m_regex;
    QString m_required;
};

} // namespace graft
