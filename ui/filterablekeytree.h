#pragma once
// What a tree model offers KeyFilterProxyModel so that a filter is one pass over plain data
// instead of a QModelIndex and two QVariants per row (CheckpointTreeModel implements it).

#include <QModelIndex>
#include <QString>

#include <vector>

namespace graft::ui {

class FilterableKeyTree {
public:
    /// One row of the tree, in preorder (a parent before its children).
    struct FilterRow {
        QString text;        ///< what the filter is matched against: a leaf's full key, a group's name
        int parent = -1;     ///< preorder position of the parent row; -1 at the top level
        int subtreeEnd = 0;  ///< one past the last preorder position of this row's subtree
        bool leaf = false;
    };

    virtual ~FilterableKeyTree() = default;
    /// Every row in preorder; rebuilt (and the model reset) when the tree changes.
    virtual const std::vector<FilterRow> &filterRows() const = 0;
    /// The preorder position of a valid index of this model.
    virtual int filterRowOf(const QModelIndex &index) const = 0;
};

} // namespace graft::ui
