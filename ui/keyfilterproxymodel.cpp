#include "keyfilterproxymodel.h"

#include <QStringMatcher>

#include <algorithm>

namespace graft::ui {
namespace {

// Natural order: digit runs compare as numbers ("layers.9" < "layers.10"). QCollator's numeric
// mode would do this, but it is not available under the C/POSIX locale (no ICU collation).
int naturalCompare(const QString &a, const QString &b)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i].isDigit() && b[j].isDigit()) {
            qsizetype iEnd = i;
            qsizetype jEnd = j;
            while (iEnd < a.size() && a[iEnd].isDigit())
                ++iEnd;
            while (jEnd < b.size() && b[jEnd].isDigit())
                ++jEnd;
            // Compare without leading zeros: longer number is larger, then digit by digit.
            QStringView x = QStringView(a).mid(i, iEnd - i);
            QStringView y = QStringView(b).mid(j, jEnd - j);
            while (x.size() > 1 && x.front() == QLatin1Char('0'))
                x = x.mid(1);
            while (y.size() > 1 && y.front() == QLatin1Char('0'))
                y = y.mid(1);
            if (x.size() != y.size())
                return x.size() < y.size() ? -1 : 1;
            if (const int c = x.compare(y); c != 0)
                return c;
            i = iEnd;
            j = jEnd;
            continue;
        }
        const QChar ca = a[i].toCaseFolded();
        const QChar cb = b[j].toCaseFolded();
        if (ca != cb)
            return ca < cb ? -1 : 1;
        ++i;
        ++j;
    }
    return (a.size() - i) < (b.size() - j) ? -1 : (a.size() - i) > (b.size() - j) ? 1 : 0;
}

} // namespace

int naturalCompareForTests(const QString &a, const QString &b) { return naturalCompare(a, b); }

KeyFilterProxyModel::KeyFilterProxyModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setRecursiveFilteringEnabled(true);
    setAutoAcceptChildRows(true);
}

void KeyFilterProxyModel::setSourceModel(QAbstractItemModel *model)
{
    for (const QMetaObject::Connection &connection : std::as_const(m_sourceConnections))
        disconnect(connection);
    m_sourceConnections.clear();
    m_tree = dynamic_cast<const FilterableKeyTree *>(model);
    // For a FilterableKeyTree the recursion (a match keeps its ancestors and shows its
    // subtree) is in m_accepted; QSortFilterProxyModel does it only for other models.
    setRecursiveFilteringEnabled(m_tree == nullptr);
    setAutoAcceptChildRows(m_tree == nullptr);
    if (m_tree != nullptr) {
        // Connected before the base class connects its own handlers, so m_accepted is current
        // when QSortFilterProxyModel re-filters after the tree changed.
        const auto rebuild = [this] {
            m_searchText.clear();
            m_searchOffsets.clear();
            rebuildAcceptance();
        };
        m_sourceConnections << connect(model, &QAbstractItemModel::modelReset, this, rebuild)
                            << connect(model, &QAbstractItemModel::rowsInserted, this, rebuild)
                            << connect(model, &QAbstractItemModel::rowsRemoved, this, rebuild)
                            << connect(model, &QAbstractItemModel::rowsMoved, this, rebuild)
                            << connect(model, &QAbstractItemModel::layoutChanged, this, rebuild)
                            // The tree reports a change of every row's status as one change of its
                            // top-level rows (CheckpointTreeModel::refreshAllStatus); when sorted
                            // by a column other than the name, deeper rows must be re-sorted too.
                            << connect(model, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex &topLeft) {
                                   if (!topLeft.parent().isValid() && sortColumn() > 0)
                                       invalidate();
                               });
    }
    m_searchText.clear();
    m_searchOffsets.clear();
    QSortFilterProxyModel::setSourceModel(model);
    rebuildAcceptance();
}

void KeyFilterProxyModel::setFilter(const QString &text, bool regex)
{
    m_text = text;
    m_useRegex = regex;
    m_error.clear();
    if (regex) {
        m_regex = QRegularExpression(text, QRegularExpression::CaseInsensitiveOption);
        if (!m_regex.isValid())
            m_error = m_regex.errorString();
        else
            m_regex.optimize();
    }
    rebuildAcceptance();
    invalidateFilter();
}

bool KeyFilterProxyModel::matches(const QModelIndex &sourceIndex) const
{
    if (m_useRegex && !m_error.isEmpty())
        return false;
    QString text = sourceIndex.data(m_keyRole).toString();
    if (text.isEmpty())
        text = sourceIndex.data(Qt::DisplayRole).toString();
    return m_useRegex ? m_regex.match(text).hasMatch() : text.contains(m_text, Qt::CaseInsensitive);
}

void KeyFilterProxyModel::buildSearchText()
{
    const std::vector<FilterableKeyTree::FilterRow> &rows = m_tree->filterRows();
    qsizetype length = 0;
    for (const FilterableKeyTree::FilterRow &row : rows)
        length += row.text.size() + 1;
    m_searchText.clear();
    m_searchText.reserve(length);
    m_searchOffsets.clear();
    m_searchOffsets.reserve(rows.size() + 1);
    for (const FilterableKeyTree::FilterRow &row : rows) {
        m_searchOffsets.push_back(m_searchText.size());
        m_searchText += row.text.toCaseFolded(); // one UTF-16 unit for one: offsets stay valid
        m_searchText += QLatin1Char('\n');
    }
    m_searchOffsets.push_back(m_searchText.size());
}

void KeyFilterProxyModel::rebuildAcceptance()
{
    m_accepted.clear();
    m_acceptedLeaves = -1;
    if (m_tree == nullptr || !isFiltering())
        return;
    const std::vector<FilterableKeyTree::FilterRow> &rows = m_tree->filterRows();
    const int count = static_cast<int>(rows.size());
    std::vector<char> matched(rows.size(), 0);
    if (m_useRegex) {
        if (m_error.isEmpty()) {
            for (int i = 0; i < count; ++i)
                matched[static_cast<size_t>(i)] = m_regex.match(rows[static_cast<size_t>(i)].text).hasMatch();
        }
    } else {
        if (m_searchOffsets.size() != rows.size() + 1)
            buildSearchText();
        // Every occurrence of the folded text in the joined, folded rows; one that runs past
        // its row's end (across the '\n') is not a match of that row.
        const QString needle = m_text.toCaseFolded();
        const QStringMatcher matcher(needle, Qt::CaseSensitive);
        qsizetype position = matcher.indexIn(m_searchText, 0);
        while (position >= 0) {
            const auto next = std::upper_bound(m_searchOffsets.begin(), m_searchOffsets.end(), position);
            const size_t row = static_cast<size_t>(next - m_searchOffsets.begin()) - 1;
            const qsizetype rowEnd = *next - 1; // the row's '\n'
            if (position + needle.size() <= rowEnd) {
                matched[row] = 1;
                position = matcher.indexIn(m_searchText, *next); // the rest of this row cannot add anything
            } else {
                position = matcher.indexIn(m_searchText, position + 1);
            }
        }
    }
    // A matching row shows its whole subtree and its ancestors.
    m_accepted.assign(rows.size(), 0);
    m_acceptedLeaves = 0;
    int coveredUntil = 0;
    for (int i = 0; i < count; ++i) {
        const FilterableKeyTree::FilterRow &row = rows[static_cast<size_t>(i)];
        if (i < coveredUntil || !matched[static_cast<size_t>(i)])
            continue;
        for (int j = i; j < row.subtreeEnd; ++j) {
            m_accepted[static_cast<size_t>(j)] = 1;
            m_acceptedLeaves += rows[static_cast<size_t>(j)].leaf ? 1 : 0;
        }
        coveredUntil = row.subtreeEnd;
        for (int p = row.parent; p >= 0 && !m_accepted[static_cast<size_t>(p)]; p = rows[static_cast<size_t>(p)].parent)
            m_accepted[static_cast<size_t>(p)] = 1;
    }
}

bool KeyFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_text.isEmpty())
        return true;
    if (m_tree == nullptr)
        return matches(sourceModel()->index(sourceRow, 0, sourceParent));
    const int row = m_tree->filterRowOf(sourceModel()->index(sourceRow, 0, sourceParent));
    return row >= 0 && static_cast<size_t>(row) < m_accepted.size() && m_accepted[static_cast<size_t>(row)] != 0;
}

bool KeyFilterProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    if (a.typeId() == QMetaType::Double || a.typeId() == QMetaType::Int || a.typeId() == QMetaType::LongLong)
        return a.toDouble() < b.toDouble();
    return naturalCompare(a.toString(), b.toString()) < 0;
}

} // namespace graft::ui
