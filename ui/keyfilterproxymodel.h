#pragma once
// Filtering (substring or regular expression, recursive: a match keeps its ancestors) and
// natural sorting ("layers.10" after "layers.9") over a CheckpointTreeModel or a table.

#include <QSortFilterProxyModel>

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
    /// The role compared with the filter (default: the full key, KeyRole, falling back to display text).
    void setKeyRole(int role) { m_keyRole = role; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QString m_text;
    QRegularExpression m_regex;
    bool m_useRegex = false;
    QString m_error;
    int m_keyRole = Qt::DisplayRole;
};

} // namespace graft::ui
