#include "constantvalue.h"

#include "tensor/tensorvalues.h"

#include <QStringList>

#include <algorithm>
#include <vector>

namespace graft::ui {

QString constantValueText(const QByteArray &bytes, DType dtype)
{
    const qint64 size = dtypeSize(dtype);
    if (size <= 0 || bytes.size() % size != 0)
        return QStringLiteral("%1 bytes").arg(bytes.size());
    const qint64 count = bytes.size() / size;
    const qint64 shown = std::min<qint64>(count, 8);
    std::vector<double> values(static_cast<size_t>(shown));
    decodeToDouble(reinterpret_cast<const uchar *>(bytes.constData()), dtype, shown, values.data());
    QStringList parts;
    for (double value : values)
        parts << (dtype == DType::Bool ? (value != 0 ? QStringLiteral("True") : QStringLiteral("False")) : QString::number(value, 'g', 6));
    if (count > shown)
        parts << QStringLiteral("…");
    return count == 1 ? parts.front() : QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

QString mappingSourceText(const Mapping &mapping, DType targetDtype)
{
    if (mapping.origin == MatchOrigin::Constant)
        return QStringLiteral("= ") + constantValueText(mapping.constant, targetDtype);
    return mapping.sources.join(QStringLiteral(", "));
}

} // namespace graft::ui
