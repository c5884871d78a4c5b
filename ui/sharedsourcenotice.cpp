#include "sharedsourcenotice.h"

#include "mappingdocument.h"

#include <QSet>

namespace graft::ui {

SharedSourceNotice::SharedSourceNotice(MappingDocument *document, QObject *parent) : QObject(parent), m_document(document)
{
    connect(document, &MappingDocument::mappingsChanged, this, [this](const QList<int> &targets) {
        const QString text = noticeFor(targets);
        if (!text.isEmpty())
            Q_EMIT message(text);
    });
}

QString SharedSourceNotice::noticeFor(const QList<int> &targets) const
{
    QStringList notices;
    QSet<QString> seen;
    const MappingResult &result = m_document->result();
    for (int index : targets) {
        if (index < 0 || static_cast<size_t>(index) >= result.mappings.size())
            continue;
        const Mapping &mapping = result.mappings[static_cast<size_t>(index)];
        if (mapping.status != MatchStatus::Exact && mapping.status != MatchStatus::Fixable && mapping.status != MatchStatus::Guessed)
            continue;
        for (const QString &source : mapping.sources) {
            const QStringList users = m_document->targetsOfSource(source);
            if (users.size() < 2 || seen.contains(source))
                continue;
            seen.insert(source);
            notices << tr("%1 now feeds %2 targets: %3").arg(source).arg(users.size()).arg(users.join(QStringLiteral(", ")));
        }
    }
    if (notices.isEmpty())
        return QString();
    return notices.join(QStringLiteral("; ")) + tr(" — they stay mapped; unmap any you did not mean.");
}

} // namespace graft::ui
