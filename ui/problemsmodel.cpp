#include "problemsmodel.h"

#include "mappingdocument.h"
#include "statusstyle.h"

#include <QApplication>
#include <QStyle>

#include <algorithm>

namespace graft::ui {

ProblemsModel::ProblemsModel(MappingDocument *document, QObject *parent) : QAbstractListModel(parent), m_document(document)
{
    connect(document, &MappingDocument::resultReset, this, &ProblemsModel::rebuild);
    connect(document, &MappingDocument::mappingsChanged, this, &ProblemsModel::rebuild);
}

void ProblemsModel::addFileError(const QString &message)
{
    m_fileErrors << message;
    rebuild();
}

void ProblemsModel::rebuild()
{
    beginResetModel();
    m_problems.clear();
    for (const QString &error : m_fileErrors)
        m_problems.push_back({error, QString(), 2});
    const MappingResult &result = m_document->result();
    for (const Ambiguity &a : result.ambiguous)
        m_problems.push_back({tr("ambiguous: %1 ← one of %2").arg(a.target, a.candidates.join(QStringLiteral(", "))), a.target, 2});
    for (const Mapping &m : result.mappings) {
        if (m.status == MatchStatus::Incompatible)
            m_problems.push_back({tr("incompatible: %1 ← %2: %3").arg(m.target, m.sources.join(QStringLiteral(", ")), m.reason), m.target, 2});
    }
    for (const Mapping &m : result.mappings) {
        if (m.status == MatchStatus::Guessed)
            m_problems.push_back({tr("guessed by order and shape: check and accept, or map it: %1 ← %2").arg(m.target, m.sources.join(QStringLiteral(", "))),
                                  m.target, 0});
    }
    for (const Mapping &m : result.mappings) {
        if (m.status == MatchStatus::Unmapped && m_document->source() != nullptr)
            m_problems.push_back({tr("unmapped: %1").arg(m.target), m.target, 1});
    }
    // A source a hand edit made feed several targets: both stay mapped, but say so.
    for (const QString &source : m_document->sharedSources()) {
        const QStringList targets = m_document->targetsOfSource(source);
        const bool byHand = std::any_of(targets.begin(), targets.end(), [&](const QString &target) {
            const int m = m_document->mappingIndex(target);
            return m >= 0 && result.mappings[static_cast<size_t>(m)].origin == MatchOrigin::Explicit;
        });
        if (byHand)
            m_problems.push_back({tr("shared source: %1 feeds %2 targets: %3").arg(source).arg(targets.size()).arg(targets.join(QStringLiteral(", "))),
                                  targets.back(), 1});
    }
    for (const StaleEntry &stale : result.stale)
        m_problems.push_back({tr("stale profile entry: %1: %2").arg(stale.entry, stale.reason), QString(), 1});
    endResetModel();
}

int ProblemsModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : static_cast<int>(m_problems.size()); }

QVariant ProblemsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Problem &problem = m_problems[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole: return problem.text;
    case Qt::ToolTipRole: return problem.text;
    case Qt::DecorationRole:
        if (problem.severity == 0)
            return statusIcon(MatchStatus::Guessed);
        return QApplication::style()->standardIcon(problem.severity == 2 ? QStyle::SP_MessageBoxCritical : QStyle::SP_MessageBoxWarning);
    case TargetKeyRole: return problem.target;
    }
    return {};
}

} // namespace graft::ui
