#include "keypath.h"

namespace graft::ui {

// Path components of a key: "features.0.weight", ".features[0].weight", "params/fc/kernel".
// (Split by hand: QString::split with the equivalent regular expression was 3% of opening a
// 100k-key checkpoint in the workbench.)
QStringList keyPathComponents(const QString &key)
{
    const auto isSeparator = [](QChar c) {
        return c == QLatin1Char('.') || c == QLatin1Char('/') || c == QLatin1Char('[') || c == QLatin1Char(']')
            || c == QLatin1Char('\'') || c == QLatin1Char('"');
    };
    QStringList parts;
    qsizetype start = -1;
    for (qsizetype i = 0; i <= key.size(); ++i) {
        const bool end = i == key.size() || isSeparator(key[i]);
        if (end && start >= 0) {
            parts << key.mid(start, i - start);
            start = -1;
        } else if (!end && start < 0) {
            start = i;
        }
    }
    if (parts.isEmpty())
        parts << key;
    return parts;
}

} // namespace graft::ui
