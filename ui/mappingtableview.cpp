#include "mappingtableview.h"

#include "mappingdocument.h"
#include "mappingtablemodel.h"

#include <QHeaderView>

namespace graft::ui {

MappingTableView::MappingTableView(MappingDocument *document, QAbstractItemModel *model, QWidget *parent)
    : QTableView(parent), m_document(document)
{
    setModel(model);
    setSortingEnabled(true);
    sortByColumn(-1, Qt::AscendingOrder);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setTabKeyNavigation(false); // whole rows are selected: Tab leaves the table for the next pane
    verticalHeader()->hide();
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    horizontalHeader()->setStretchLastSection(true);
    setWordWrap(false);
    setColumnWidth(MappingTableModel::TargetColumn, 190);
    setColumnWidth(MappingTableModel::SourceColumn, 160);
    setColumnWidth(MappingTableModel::StatusColumn, 95);
    setColumnWidth(MappingTableModel::FixColumn, 150);
    setColumnWidth(MappingTableModel::ConfidenceColumn, 50);
}

void MappingTableView::selectFirstProblemOrFix()
{
    const auto &mappings = m_document->result().mappings;
    auto pick = [&](auto predicate) {
        for (int row = 0; row < model()->rowCount(); ++row) {
            const QModelIndex index = model()->index(row, 0);
            const int m = m_document->mappingIndex(index.data(MappingTableModel::TargetKeyRole).toString());
            if (m >= 0 && predicate(mappings[static_cast<size_t>(m)])) {
                selectRow(row);
                return true;
            }
        }
        return false;
    };
    if (!pick([](const Mapping &m) {
            return m.status == MatchStatus::Incompatible || m.status == MatchStatus::Unmapped || m.status == MatchStatus::Guessed;
        }))
        pick([](const Mapping &m) { return m.status == MatchStatus::Fixable; });
}

bool MappingTableView::selectTarget(const QString &target)
{
    for (int row = 0; row < model()->rowCount(); ++row) {
        const QModelIndex index = model()->index(row, 0);
        if (index.data(MappingTableModel::TargetKeyRole).toString() == target) {
            selectRow(row);
            scrollTo(index);
            return true;
        }
    }
    return false;
}

} // namespace graft::ui
