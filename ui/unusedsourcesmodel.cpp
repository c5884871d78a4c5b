#include "unusedsourcesmodel.h"

#include "mappingdocument.h"

#include <QColor>

namespace graft::ui {

UnusedSourcesModel::UnusedSourcesModel(MappingDocument *document, QObject *parent) : QAbstractTableModel(parent), m_document(document)
{
    connect(document, &MappingDocument::resultReset, this, &UnusedSourcesModel::rebuild);
    connect(document, &MappingDocument::mappingsChanged, this, &UnusedSourcesModel::rebuild);
    rebuild();
}

void UnusedSourcesModel::rebuild()
{
    beginResetModel();
    m_rows.clear();
    m_buffers = 0;
    const MappingResult &result = m_document->result();
    if (m_document->target() != nullptr) {
        for (const QString &key : result.unusedSources) {
            const QStringList tied = m_document->tiedWith(key);
            m_rows.push_back({key, tied.isEmpty() ? tr("no target leaf takes it") : tr("no target leaf takes it (same storage as %1)").arg(tied.join(QStringLiteral(", "))), false});
        }
        for (const BufferEntry &buffer : result.unusedBuffers)
            m_rows.push_back({buffer.key, buffer.reason, true});
        m_buffers = static_cast<int>(result.unusedBuffers.size());
    }
    endResetModel();
}

int UnusedSourcesModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }

int UnusedSourcesModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant UnusedSourcesModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Row &row = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case Qt::ToolTipRole:
        switch (index.column()) {
        case KeyColumn: return row.key;
        case KindColumn: return row.buffer ? tr("buffer") : tr("unused source");
        case ReasonColumn: return row.reason;
        }
        return {};
    case Qt::ForegroundRole:
        // Buffers are expected to stay behind: greyed, not alarming.
        return row.buffer ? QVariant(QColor(0x75, 0x75, 0x75)) : QVariant();
    case SourceKeyRole: return row.key;
    case IsBufferRole: return row.buffer;
    }
    return {};
}

QVariant UnusedSourcesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case KeyColumn: return tr("Source key");
    case KindColumn: return tr("Kind");
    case ReasonColumn: return tr("Why");
    }
    return {};
}

} // namespace graft::ui
