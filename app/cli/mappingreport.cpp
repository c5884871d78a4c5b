#include "cli/mappingreport.h"

#include "cli/jsonwriter.h"

#include <algorithm>

namespace graft::cli {
namespace {

QString statusMark(MatchStatus status)
{
    switch (status) {
    case MatchStatus::Exact: return QStringLiteral("exact");
    case MatchStatus::Fixable: return QStringLiteral("FIX");
    case MatchStatus::Incompatible: return QStringLiteral("INCOMPATIBLE");
    case MatchStatus::Unmapped: return QStringLiteral("UNMAPPED");
    case MatchStatus::Kept: return QStringLiteral("kept");
    case MatchStatus::Guessed: return QStringLiteral("GUESSED");
    }
    return QString();
}

} // namespace

QString mappingTable(const MappingResult &result)
{
    int targetWidth = 6;
    int sourceWidth = 6;
    for (const Mapping &m : result.mappings) {
        targetWidth = std::max(targetWidth, static_cast<int>(m.target.size()));
        sourceWidth = std::max(sourceWidth, static_cast<int>(m.sources.join(QStringLiteral(", ")).size()));
    }
    targetWidth = std::min(targetWidth, 60);
    sourceWidth = std::min(sourceWidth, 60);
    QString out = QStringLiteral("%1  %2  %3  %4  %5\n")
                      .arg(QStringLiteral("TARGET"), -targetWidth)
                      .arg(QStringLiteral("<- SOURCE"), -(sourceWidth + 3))
                      .arg(QStringLiteral("STATUS"), -12)
                      .arg(QStringLiteral("CONF"), 4)
                      .arg(QStringLiteral("FIX / REASON"));
    for (const Mapping &m : result.mappings) {
        const QString source = m.sources.isEmpty() ? QStringLiteral("-") : m.sources.join(QStringLiteral(", "));
        QString fix = m.transforms.empty() ? QString() : m.expression();
        if (m.status != MatchStatus::Exact && m.status != MatchStatus::Fixable)
            fix = m.reason;
        out += QStringLiteral("%1  <- %2  %3  %4  %5\n")
                   .arg(m.target, -targetWidth)
                   .arg(source, -sourceWidth)
                   .arg(statusMark(m.status), -12)
                   .arg(m.confidence > 0 ? QString::number(m.confidence, 'f', 2) : QStringLiteral("-"), 4)
                   .arg(fix);
    }
    const MappingSummary s = result.summary();
    out += QStringLiteral("\n%1 targets: %2 exact, %3 fixable, %4 incompatible, %5 unmapped, %6 kept; %7 ambiguous; %8 sources unused (convention: %9)\n")
               .arg(s.targets).arg(s.exact).arg(s.fixable).arg(s.incompatible).arg(s.unmapped).arg(s.kept).arg(s.ambiguous)
               .arg(s.unusedSources).arg(conventionName(result.convention));
    if (s.guessed > 0)
        out += QStringLiteral("%1 guessed by order and shape alone: check them, then accept with --accept-guesses or pin them in a profile\n").arg(s.guessed);
    for (const BufferEntry &buffer : result.unusedBuffers)
        out += QStringLiteral("unused buffer: %1 (%2)\n").arg(buffer.key, buffer.reason);
    for (const QStringList &tie : result.tiedSources)
        out += QStringLiteral("tied: %1 share one storage (one tensor)\n").arg(tie.join(QStringLiteral(", ")));
    for (const LearnedRewrite &rewrite : result.rewrites)
        out += QStringLiteral("learned: '%1' -> '%2' (%3 leaves)\n").arg(rewrite.sourceHead, rewrite.targetHead).arg(rewrite.support);
    for (const Ambiguity &a : result.ambiguous)
        out += QStringLiteral("ambiguous: %1 <- one of %2 (%3)\n").arg(a.target, a.candidates.join(QStringLiteral(", ")), a.reason);
    if (!result.unusedSources.isEmpty())
        out += QStringLiteral("unused sources: %1\n").arg(result.unusedSources.join(QStringLiteral(", ")));
    for (const StaleEntry &stale : result.stale)
        out += QStringLiteral("stale profile entry: %1: %2\n").arg(stale.entry, stale.reason);
    return out;
}

QString mappingJson(const MappingResult &result, const QString &sourcePath, const QString &targetPath)
{
    JsonWriter json;
    json.beginObject();
    json.key(QStringLiteral("source")).value(sourcePath);
    json.key(QStringLiteral("target")).value(targetPath);
    json.key(QStringLiteral("mappings")).beginArray();
    for (const Mapping &m : result.mappings) {
        json.beginObject();
        json.key(QStringLiteral("target")).value(m.target);
        json.key(QStringLiteral("source"));
        if (m.sources.size() == 1)
            json.value(m.sources.front());
        else
            json.null();
        if (m.sources.size() > 1) {
            json.key(QStringLiteral("sources")).beginArray();
            for (const QString &source : m.sources)
                json.value(source);
            json.endArray();
        }
        json.key(QStringLiteral("status")).value(matchStatusName(m.status));
        json.key(QStringLiteral("transforms")).beginArray();
        for (const Transform &t : m.transforms) {
            json.beginObject();
            json.key(QStringLiteral("op")).value(transformOpName(t.op));
            switch (t.op) {
            case TransformOp::Reshape: json.key(QStringLiteral("shape")).value(t.shape); break;
            case TransformOp::Transpose: json.key(QStringLiteral("perm")).value(std::vector<qint64>(t.axes.begin(), t.axes.end())); break;
            case TransformOp::Flip: json.key(QStringLiteral("axes")).value(std::vector<qint64>(t.axes.begin(), t.axes.end())); break;
            case TransformOp::Cast: json.key(QStringLiteral("dtype")).value(dtypeName(t.dtype)); break;
            case TransformOp::Slice:
                json.key(QStringLiteral("axis")).value(t.axis);
                json.key(QStringLiteral("start")).value(t.start);
                json.key(QStringLiteral("stop")).value(t.stop);
                break;
            case TransformOp::Concat:
            case TransformOp::Stack: json.key(QStringLiteral("axis")).value(t.axis); break;
            case TransformOp::Sum: break;
            }
            json.endObject();
        }
        json.endArray();
        json.key(QStringLiteral("expr")).value(m.expression());
        json.key(QStringLiteral("confidence")).value(m.confidence);
        json.key(QStringLiteral("reason")).value(m.reason);
        json.key(QStringLiteral("origin")).value(matchOriginName(m.origin));
        if (m.origin == MatchOrigin::Constant)
            json.key(QStringLiteral("constant")).value(QString::fromLatin1(m.constant.toHex()));
        json.endObject();
    }
    json.endArray();
    json.key(QStringLiteral("unused_sources")).beginArray();
    for (const QString &key : result.unusedSources)
        json.value(key);
    json.endArray();
    json.key(QStringLiteral("unused_buffers")).beginArray();
    for (const BufferEntry &buffer : result.unusedBuffers) {
        json.beginObject();
        json.key(QStringLiteral("key")).value(buffer.key);
        json.key(QStringLiteral("reason")).value(buffer.reason);
        json.endObject();
    }
    json.endArray();
    json.key(QStringLiteral("tied_sources")).beginArray();
    for (const QStringList &tie : result.tiedSources) {
        json.beginArray();
        for (const QString &key : tie)
            json.value(key);
        json.endArray();
    }
    json.endArray();
    json.key(QStringLiteral("learned_rewrites")).beginArray();
    for (const LearnedRewrite &rewrite : result.rewrites) {
        json.beginObject();
        json.key(QStringLiteral("source")).value(rewrite.sourceHead);
        json.key(QStringLiteral("target")).value(rewrite.targetHead);
        json.key(QStringLiteral("support")).value(rewrite.support);
        json.endObject();
    }
    json.endArray();
    json.key(QStringLiteral("ambiguous")).beginArray();
    for (const Ambiguity &a : result.ambiguous) {
        json.beginObject();
        json.key(QStringLiteral("target")).value(a.target);
        json.key(QStringLiteral("candidates")).beginArray();
        for (const QString &c : a.candidates)
            json.value(c);
        json.endArray();
        json.key(QStringLiteral("reason")).value(a.reason);
        json.endObject();
    }
    json.endArray();
    const MappingSummary s = result.summary();
    json.key(QStringLiteral("summary")).beginObject();
    json.key(QStringLiteral("targets")).value(s.targets);
    json.key(QStringLiteral("exact")).value(s.exact);
    json.key(QStringLiteral("fixable")).value(s.fixable);
    json.key(QStringLiteral("incompatible")).value(s.incompatible);
    json.key(QStringLiteral("unmapped")).value(s.unmapped);
    json.key(QStringLiteral("kept")).value(s.kept);
    json.key(QStringLiteral("guessed")).value(s.guessed);
    json.key(QStringLiteral("ambiguous")).value(s.ambiguous);
    json.key(QStringLiteral("unused_sources")).value(s.unusedSources);
    json.key(QStringLiteral("unused_buffers")).value(static_cast<int>(result.unusedBuffers.size()));
    json.key(QStringLiteral("stale")).value(s.stale);
    json.key(QStringLiteral("convention")).value(conventionName(result.convention));
    json.endObject();
    json.key(QStringLiteral("stale")).beginArray();
    for (const StaleEntry &stale : result.stale) {
        json.beginObject();
        json.key(QStringLiteral("entry")).value(stale.entry);
        json.key(QStringLiteral("reason")).value(stale.reason);
        json.endObject();
    }
    json.endArray();
    json.endObject();
    return json.text() + QLatin1Char('\n');
}

} // namespace graft::cli
