#pragma once
// The mapping table's view: one row per target leaf of a MappingTableModel (behind a sorting,
// filtering proxy), whole rows selected one at a time, columns sized for keys and fixes.

#include <QTableView>

namespace graft::ui {

class MappingDocument;

class MappingTableView : public QTableView {
    Q_OBJECT
public:
    /// Shows `model`, a proxy over `document`'s MappingTableModel (neither owned).
    MappingTableView(MappingDocument *document, QAbstractItemModel *model, QWidget *parent = nullptr);

    /// Selects the most informative row, in the table's order: the first incompatible or
    /// unmapped target or guess, else the first that needs a fix; nothing when every row is fine.
    void selectFirstProblemOrFix();
    /// Selects the row of `target` and scrolls to it; false when the filter hides it.
    bool selectTarget(const QString &target);

private:
    MappingDocument *m_document;
};

} // namespace graft::ui
