#pragma once
// The mapping table: one row per target leaf — target ← source, status, the fix in numpy
// syntax, confidence, reason. Read-only; edits happen through commands.

#include "mapping/mapping.h"

#include <QAbstractTableModel>

namespace graft::ui {

class MappingDocument;

class MappingTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { TargetColumn, SourceColumn, StatusColumn, FixColumn, ConfidenceColumn, ReasonColumn, ColumnCount };
    enum Role { TargetKeyRole = Qt::UserRole + 1, SourceKeysRole, SortRole };

    explicit MappingTableModel(MappingDocument *document, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    /// The sources, or "= False" for a constant leaf.
    QString sourceText(const Mapping &mapping) const;

    MappingDocument *m_document;
};

} // namespace graft::ui
