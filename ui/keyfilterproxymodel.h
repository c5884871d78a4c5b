#pragma once
// Filtering (substring or regular expression, recursive: a match keeps its ancestors and
// shows its whole subtree) and natural sorting ("layers.10" after "layers.9") over a
// CheckpointTreeModel or a table.
//
// A FilterableKeyTree source is filtered in one pass: setFilter() searches all of its rows'
// text at once and remembers which rows pass, so filterAcceptsRow() is a lookup.
// (QSortFilterProxyModel's own recursive mode re-tests every descendant of every rejected row
// each time the proxy maps a parent: on a 100k-key checkpoint one keystroke cost 0.4–1.1 s;
// see docs/benchmarks.md, W4.)

#include "filterablekeytree.h"

#include <QRegularExpression>
#include <QSortFilterProxyModel>

#include <vector>

namespace graft::ui {

/// <0, 0, >0 in natural order (digit runs as numbers, case-insensitive).
int naturalCompareForTests(const QString &a, const QString &b);

class KeyFilterProxyModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit KeyFilterProxyModel(QObject *parent = nullptr);

    /// Substring (case-insensitive) unless `regex`; an invalid regex matches nothing and
    /// makes filterError() non-empty.
    void setFilter(const QString &text, bool regex);
    QString filterError() const { return m_error; }
    bool isFiltering() const { return !m_text.isEmpty(); }
    /// Leaves (rows without children) the current filter lets through in a tree; -1 without a
    /// filter or for a flat table.
    qsizetype acceptedLeafCount() const { return m_acceptedLeaves; }
    /// The role compared with the filter (default: the full key, KeyRole, falling back to display text).
    void setKeyRole(int role) { m_keyRole = role; }

    void setSourceModel(QAbstractItemModel *model) override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    bool matches(const QModelIndex &sourceIndex) const;
    void rebuildAcceptance();
    void buildSearchText();

    QString m_text;
    QRegularExpression m_regex;
    bool m_useRegex = false;
    QString m_error;
    int m_keyRole = Qt::DisplayRole;
    // Set when the source is a FilterableKeyTree: the filter is evaluated for every row at
    // once into m_accepted (by preorder position); otherwise rows are tested one by one with
    // QSortFilterProxyModel's recursive filtering.
    const FilterableKeyTree *m_tree = nullptr;
    std::vector<char> m_accepted;
    qsizetype m_acceptedLeaves = -1;
    // Every row's text case-folded, joined with '\n', and where each row's text starts: one
    // substring search over the whole tree instead of one per row. Built on the first filter.
    QString m_searchText;
    std::vector<qsizetype> m_searchOffsets;
    QList<QMetaObject::Connection> m_sourceConnections;
};

} // namespace graft::ui
