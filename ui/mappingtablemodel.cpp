#include "mappingtablemodel.h"

#include "constantvalue.h"
#include "mappingdocument.h"
#include "statusstyle.h"

namespace graft::ui {

MappingTableModel::MappingTableModel(MappingDocument *document, QObject *parent) : QAbstractTableModel(parent), m_document(document)
{
    connect(document, &MappingDocument::resultReset, this, [this] {
        beginResetModel();
        endResetModel();
    });
    connect(document, &MappingDocument::mappingsChanged, this, [this](const QList<int> &targets) {
        for (int row : targets)
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
}

int MappingTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_document->result().mappings.size());
}

int MappingTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant MappingTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Mapping &m = m_document->result().mappings[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case SortRole:
        switch (index.column()) {
        case TargetColumn: return m.target;
        case SourceColumn: return sourceText(m);
        case StatusColumn: return role == SortRole ? QVariant(static_cast<int>(m.status)) : QVariant(statusLabel(m.status));
        case FixColumn: return m.transforms.empty() ? QString() : m.expression();
        case ConfidenceColumn:
            if (role == SortRole)
                return m.confidence;
            return m.confidence > 0 ? QVariant(QString::number(m.confidence, 'f', 2)) : QVariant();
        case ReasonColumn: return m.reason;
        }
        return {};
    case Qt::DecorationRole:
        return index.column() == StatusColumn ? QVariant(statusIcon(m.status)) : QVariant();
    case Qt::BackgroundRole:
        return statusBackground(m.status);
    case Qt::ForegroundRole:
        // Guessed rows say so in their own colour: order and shape decided, nobody checked yet.
        return index.column() == StatusColumn && m.status == MatchStatus::Guessed ? QVariant(statusColor(m.status)) : QVariant();
    case Qt::ToolTipRole:
        return m.status == MatchStatus::Guessed ? tr("%1\nGuessed by order and shape: check it, then accept (Ctrl+Return) or reject (Ctrl+Backspace).").arg(m.reason)
                                                : m.reason;
    case TargetKeyRole:
        return m.target;
    case SourceKeysRole:
        return m.sources;
    }
    return {};
}

QString MappingTableModel::sourceText(const Mapping &mapping) const
{
    if (mapping.origin != MatchOrigin::Constant || m_document->target() == nullptr)
        return mapping.sources.join(QStringLiteral(", "));
    const int t = m_document->target()->indexOf(mapping.target);
    return t < 0 ? QString() : mappingSourceText(mapping, m_document->target()->tensors()[static_cast<size_t>(t)].dtype);
}

QVariant MappingTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TargetColumn: return tr("Target");
    case SourceColumn: return tr("← Source");
    case StatusColumn: return tr("Status");
    case FixColumn: return tr("Fix");
    case ConfidenceColumn: return tr("Conf.");
    case ReasonColumn: return tr("Reason");
    }
    return {};
}

} // namespace graft::ui
