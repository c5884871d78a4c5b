#pragma once
// A flat table of one checkpoint's tensors (key, shape, dtype, size) for the main window.

#include "checkpoint.h"

#include <QAbstractTableModel>

namespace graft::ui {

class CheckpointListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { KeyColumn, ShapeColumn, DTypeColumn, SizeColumn, ColumnCount };

    explicit CheckpointListModel(QObject *parent = nullptr);

    void setCheckpoint(Checkpoint checkpoint);
    const Checkpoint &checkpoint() const { return m_checkpoint; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    Checkpoint m_checkpoint;
};

} // namespace graft::ui
