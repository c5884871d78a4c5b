#pragma once
// The whole state of a workbench MappingDocument as text, every field of every mapping, the
// result's lists and the options: two documents are the same exactly when these are equal
// (undo tests compare the state before an edit with the state after its undo).

#include "mappingcheck.h"
#include "mappingdocument.h"

#include <QStringList>

namespace graft::test {

// Everything the document holds about the mapping, every field, as text: two states are the
// same document exactly when these are equal.
inline QString documentState(const graft::ui::MappingDocument &document)
{
    QStringList lines;
    const MappingResult &result = document.result();
    for (const Mapping &m : result.mappings)
        lines << QStringLiteral("mapping %1 <- %2 [%3] %4 %5 origin=%6 constant=%7 reason=%8")
                     .arg(m.target, m.sources.join(QLatin1Char(',')), chainText(m.transforms), matchStatusName(m.status))
                     .arg(m.confidence, 0, 'g', 17)
                     .arg(matchOriginName(m.origin), QString::fromLatin1(m.constant.toHex()), m.reason);
    lines << QStringLiteral("unused %1").arg(result.unusedSources.join(QLatin1Char(',')));
    for (const BufferEntry &buffer : result.unusedBuffers)
        lines << QStringLiteral("buffer %1 %2").arg(buffer.key, buffer.reason);
    for (const QStringList &tie : result.tiedSources)
        lines << QStringLiteral("tied %1").arg(tie.join(QLatin1Char(',')));
    for (const LearnedRewrite &rewrite : result.rewrites)
        lines << QStringLiteral("rewrite %1 -> %2 (%3)").arg(rewrite.sourceHead, rewrite.targetHead).arg(rewrite.support);
    for (const Ambiguity &a : result.ambiguous)
        lines << QStringLiteral("ambiguous %1 %2 %3").arg(a.target, a.candidates.join(QLatin1Char(',')), a.reason);
    for (const StaleEntry &stale : result.stale)
        lines << QStringLiteral("stale %1 %2").arg(stale.entry, stale.reason);
    lines << QStringLiteral("convention %1").arg(conventionName(result.convention));
    const MatchOptions &options = document.options();
    lines << QStringLiteral("options names=%1 order=%2 convention=%3")
                 .arg(options.useNames)
                 .arg(options.useOrder)
                 .arg(options.convention ? conventionName(*options.convention) : QStringLiteral("-"));
    for (const RenameRule &rule : options.rules)
        lines << QStringLiteral("rule %1 => %2").arg(rule.pattern(), rule.replacement());
    for (const ExplicitMapping &e : options.explicitMappings)
        lines << QStringLiteral("pin %1 <- %2 [%3] %4").arg(e.target, e.sources.join(QLatin1Char(',')), chainText(e.transforms)).arg(e.hasTransforms);
    lines << QStringLiteral("kept %1").arg(options.keptTargets.join(QLatin1Char(',')));
    lines << QStringLiteral("ignored %1").arg(options.ignoredSources.join(QLatin1Char(',')));
    return lines.join(QLatin1Char('\n'));
}

} // namespace graft::test
