#include "checkpoint/formats/torchscriptclasses.h"

#include "checkpoint/formats/inflate.h"

#include <QRegularExpression>

namespace graft {
namespace {

// Final constants are shown in summaries only: longer lines are not worth a regular expression.
constexpr qsizetype kMaxConstantLine = 1024;

// The quoted names of a `__parameters__ = ["a", "b", ]` line.
QSet<QString> quotedNames(const QByteArray &line)
{
    QSet<QString> names;
    qsizetype start = line.indexOf('"');
    while (start >= 0) {
        const qsizetype end = line.indexOf('"', start + 1);
        if (end < 0)
            break;
        names.insert(QString::fromUtf8(line.mid(start + 1, end - start - 1)));
        start = line.indexOf('"', end + 1);
    }
    return names;
}

// Parses the body of `class Name(...):` starting at `position` (the line after the header):
// the two-space-indented declarations up to the first method or the next top-level line.
ScriptClass parseClassBody(const QByteArray &source, qsizetype position)
{
    static const QRegularExpression kConstant(QStringLiteral("^  ([A-Za-z_][A-Za-z0-9_]*) : Final\\[.*\\] = (.*)$"));
    ScriptClass parsed;
    while (position < source.size()) {
        qsizetype end = source.indexOf('\n', position);
        if (end < 0)
            end = source.size();
        const QByteArray line = source.mid(position, end - position);
        position = end + 1;
        if (!line.startsWith("  ") || line.startsWith("  def ") || line.startsWith("  @"))
            break;
        if (line.startsWith("  __parameters__ = ")) {
            parsed.isModule = true;
            parsed.parameters = quotedNames(line);
        } else if (line.startsWith("  __buffers__ = ")) {
            parsed.buffers = quotedNames(line);
        } else if (line.size() <= kMaxConstantLine && line.contains(" : Final[")) {
            const QRegularExpressionMatch match = kConstant.match(QString::fromUtf8(line));
            if (match.hasMatch() && parsed.constants.size() < 64)
                parsed.constants.emplace_back(match.captured(1), match.captured(2).left(80));
        }
    }
    return parsed;
}

} // namespace

ScriptClasses::ScriptClasses(const MappedFilePtr &file, const ZipArchive &archive, QString root)
    : m_file(file), m_archive(archive), m_root(std::move(root))
{
}

Result<const QByteArray *> ScriptClasses::source(const QString &memberName)
{
    if (const auto known = m_sources.constFind(memberName); known != m_sources.constEnd())
        return &*known;
    QByteArray text;
    if (const ZipEntry *entry = m_archive.find(memberName); entry != nullptr) {
        const uchar *data = m_file->data() + entry->dataOffset;
        if (entry->uncompressedSize > kMaxSourceBytes)
            return Error{QString(), QStringLiteral("%1 declares %2 bytes (at most %3)").arg(memberName).arg(entry->uncompressedSize).arg(kMaxSourceBytes)};
        if (entry->method == 8) {
            Result<std::vector<uchar>> inflated = inflateRaw(data, entry->compressedSize, entry->uncompressedSize);
            if (!inflated)
                return Error{QString(), memberName + QStringLiteral(": ") + inflated.error().message};
            text = QByteArray(reinterpret_cast<const char *>(inflated->data()), static_cast<qsizetype>(inflated->size()));
        } else {
            text = QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(entry->compressedSize));
        }
    }
    return &*m_sources.insert(memberName, text);
}

Result<const ScriptClass *> ScriptClasses::find(const QString &qualifiedName)
{
    if (const auto known = m_classes.constFind(qualifiedName); known != m_classes.constEnd())
        return known->has_value() ? &**known : nullptr;
    const qsizetype dot = qualifiedName.lastIndexOf(QLatin1Char('.'));
    std::optional<ScriptClass> found;
    if (dot > 0 && qualifiedName.startsWith(QLatin1String("__torch__."))) {
        const QString module = qualifiedName.left(dot);
        const QByteArray name = qualifiedName.mid(dot + 1).toUtf8();
        const QString member = m_root + QStringLiteral("code/") + module.split(QLatin1Char('.')).join(QLatin1Char('/')) + QStringLiteral(".py");
        Result<const QByteArray *> text = source(member);
        if (!text)
            return text.error();
        const QByteArray header = "class " + name + '(';
        const QByteArray &body = **text;
        qsizetype at = body.startsWith(header) ? 0 : body.indexOf('\n' + header);
        if (at >= 0) {
            at = body.indexOf('\n', at + 1);
            found = parseClassBody(body, at < 0 ? body.size() : at + 1);
        }
    }
    const auto inserted = m_classes.insert(qualifiedName, found);
    return inserted->has_value() ? &**inserted : nullptr;
}

QString scriptClassDisplayName(const QString &qualifiedName)
{
    QStringList parts = qualifiedName.split(QLatin1Char('.'));
    if (!parts.isEmpty() && parts.front() == QLatin1String("__torch__"))
        parts.removeFirst();
    parts.removeIf([](const QString &part) { return part.startsWith(QLatin1String("___torch_mangle_")); });
    return parts.join(QLatin1Char('.'));
}

} // namespace graft
