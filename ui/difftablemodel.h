#pragma once
// The rows of a checkpoint diff: key, shape, dtype, equal, and the pair statistics, coloured by
// the size of the relative difference. Sortable through a KeyFilterProxyModel (SortRole).

#include "diff/checkpointdiff.h"

#include <QAbstractTableModel>

namespace graft::ui {

class DiffTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { KeyColumn, ShapeColumn, DTypeColumn, EqualColumn, MaxAbsColumn, MeanAbsColumn, RmsColumn, RelL2Column,
                  CosineColumn, DifferingColumn, ColumnCount };
    enum Role { KeyRole = Qt::UserRole + 1, SortRole };

    explicit DiffTableModel(QObject *parent = nullptr);

    void setDiff(CheckpointDiff diff);
    const CheckpointDiff &diff() const { return m_diff; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    CheckpointDiff m_diff;
};

} // namespace graft::ui
