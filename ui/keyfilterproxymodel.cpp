#include "keyfilterproxymodel.h"

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
    invalidateFilter();
}

bool KeyFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_text.isEmpty())
        return true;
    if (m_useRegex && !m_error.isEmpty())
        return false;
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    QString text = index.data(m_keyRole).toString();
    if (text.isEmpty())
        text = index.data(Qt::DisplayRole).toString();
    return m_useRegex ? m_regex.match(text).hasMatch() : text.contains(m_text, Qt::CaseInsensitive);
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
