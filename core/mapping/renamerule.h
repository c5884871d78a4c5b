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

private:
    QString m_pattern;
    QString m_replacement;
    QRegularExpression m_regex;
};

} // namespace graft
