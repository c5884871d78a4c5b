#include "mapping/indexsets.h"

#include <QStringList>

#include <algorithm>

namespace graft {
namespace {

bool isIndex(QStringView token)
{
    if (token.isEmpty() || token.size() > 18)
        return false;
    return std::all_of(token.begin(), token.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
}

QString numbersText(const QSet<qint64> &numbers)
{
    QList<qint64> sorted(numbers.begin(), numbers.end());
    std::sort(sorted.begin(), sorted.end());
    QStringList parts;
    for (qsizetype i = 0; i < sorted.size() && i < 8; ++i)
        parts << QString::number(sorted[i]);
    if (sorted.size() > 8)
        parts << QStringLiteral("…");
    return QLatin1Char('{') + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
}

} // namespace

IndexSets::IndexSets(const std::vector<QString> &canonicalKeys) : m_keyIndexes(canonicalKeys.size())
{
    // A container is known by a hash of its template (FNV-1a over the tokens before the index,
    // earlier indexes as '#'), built as the key is read: no string per key (two 100k-key sides
    // are read per match). Its name is made once, when it is first met.
    constexpr quint64 kOffset = 14695981039346656037ull;
    constexpr quint64 kPrime = 1099511628211ull;
    QHash<quint64, int> ids;
    for (size_t k = 0; k < canonicalKeys.size(); ++k) {
        const QString &key = canonicalKeys[k];
        if (!key.contains(QLatin1Char('.')))
            continue; // a lone index (a bare .eqx's `[3]`) is the key itself
        quint64 hash = kOffset;
        qsizetype begin = 0;
        while (begin <= key.size()) {
            qsizetype end = key.indexOf(QLatin1Char('.'), begin);
            if (end < 0)
                end = key.size();
            const QStringView token = QStringView(key).mid(begin, end - begin);
            const bool index = isIndex(token);
            if (index) {
                auto id = ids.constFind(hash);
                if (id == ids.constEnd()) {
                    id = ids.insert(hash, static_cast<int>(m_names.size()));
                    QString name;
                    for (const QStringView part : QStringView(key).left(std::max<qsizetype>(0, begin - 1)).split(QLatin1Char('.'))) {
                        if (!name.isEmpty())
                            name += QLatin1Char('.');
                        name += isIndex(part) ? QStringView(u"#") : part;
                    }
                    m_names.push_back(begin == 0 ? QString() : name);
                    m_numbers.emplace_back();
                }
                const qint64 number = token.toLongLong();
                m_keyIndexes[k].emplace_back(*id, number);
                m_numbers[static_cast<size_t>(*id)].insert(number);
            }
            hash = (hash ^ '.') * kPrime;
            if (index) {
                hash = (hash ^ '#') * kPrime;
            } else {
                for (const QChar c : token)
                    hash = (hash ^ c.unicode()) * kPrime;
            }
            begin = end + 1;
        }
    }
}

bool IndexRenumbering::renumbered(int sourceContainer, int targetContainer) const
{
    const quint64 pair = (quint64(quint32(sourceContainer)) << 32) | quint32(targetContainer);
    if (const auto known = m_renumbered.constFind(pair); known != m_renumbered.constEnd())
        return *known;
    const QSet<qint64> &sourceNumbers = m_source.numbers(sourceContainer);
    const QSet<qint64> &targetNumbers = m_target.numbers(targetContainer);
    const bool renumbered = sourceNumbers.size() >= 2 && targetNumbers.size() >= 2 && !sourceNumbers.contains(targetNumbers)
                            && !targetNumbers.contains(sourceNumbers);
    m_renumbered.insert(pair, renumbered);
    return renumbered;
}

std::optional<QString> IndexRenumbering::carry(size_t source, size_t target) const
{
    // Indexes pair up one to one only when both keys have as many (a layer's index and an
    // Equinox Sequential's inside it are not the same number's containers).
    const auto &sourceIndexes = m_source.indexesOf(source);
    const auto &targetIndexes = m_target.indexesOf(target);
    if (sourceIndexes.size() != targetIndexes.size())
        return std::nullopt;
    for (size_t k = 0; k < sourceIndexes.size(); ++k) {
        const auto &[sourceContainer, sourceNumber] = sourceIndexes[k];
        const auto &[targetContainer, targetNumber] = targetIndexes[k];
        if (sourceNumber != targetNumber || !renumbered(sourceContainer, targetContainer))
            continue;
        const auto name = [](const QString &container) { return container.isEmpty() ? QStringLiteral("the top level") : container; };
        return QStringLiteral("the source numbers %1 %2, the target numbers %3 %4: number %5 may be another layer on each side")
            .arg(name(m_source.containerName(sourceContainer)), numbersText(m_source.numbers(sourceContainer)),
                 name(m_target.containerName(targetContainer)), numbersText(m_target.numbers(targetContainer)))
            .arg(sourceNumber);
    }
    return std::nullopt;
}

} // namespace graft
