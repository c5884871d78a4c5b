#include "checkpointlistmodel.h"

#include <QLocale>

namespace graft::ui {

CheckpointListModel::CheckpointListModel(QObject *parent) : QAbstractTableModel(parent) {}

void CheckpointListModel::setCheckpoint(Checkpoint checkpoint)
{
    beginResetModel();
    m_checkpoint = std::move(checkpoint);
    endResetModel();
}

int CheckpointListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_checkpoint.tensors().size());
}

int CheckpointListModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant CheckpointListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const TensorEntry &tensor = m_checkpoint.tensors()[index.row()];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case KeyColumn: return tensor.key;
        case ShapeColumn: return shapeToString(tensor.shape);
        case DTypeColumn: return dtypeName(tensor.dtype);
        case SizeColumn: return QLocale().formattedDataSize(tensor.nbytes());
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() == SizeColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant CheckpointListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case KeyColumn: return tr("Key");
    case ShapeColumn: return tr("Shape");
    case DTypeColumn: return tr("DType");
    case SizeColumn: return tr("Size");
    }
    return {};
}

} // namespace graft::ui
