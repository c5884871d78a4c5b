#include "difftablemodel.h"

#include <QColor>

#include <cmath>

namespace graft::ui {
namespace {

QString figure(double value) { return std::isnan(value) ? QStringLiteral("nan") : QString::number(value, 'g', 4); }

// Green when identical, then paler to stronger red as the relative difference grows.
QColor differenceColor(const DiffRow &row)
{
    if (row.pair.identical || row.pair.maxAbsDiff == 0.0)
        return QColor(0xe3, 0xf4, 0xe4);
    const double rel = row.pair.relL2;
    if (std::isnan(rel) || rel >= 1e-1)
        return QColor(0xf4, 0xb6, 0xb6);
    if (rel >= 1e-3)
        return QColor(0xfb, 0xdf, 0xdf);
    if (rel >= 1e-6)
        return QColor(0xfd, 0xf0, 0xd5);
    return QColor(0xf3, 0xf8, 0xe9);
}

} // namespace

DiffTableModel::DiffTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void DiffTableModel::setDiff(CheckpointDiff diff)
{
    beginResetModel();
    m_diff = std::move(diff);
    endResetModel();
}

int DiffTableModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : static_cast<int>(m_diff.compared.size()); }
int DiffTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DiffTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const DiffRow &row = m_diff.compared[static_cast<size_t>(index.row())];
    const PairStatistics &p = row.pair;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case KeyColumn: return row.source.isEmpty() || row.source == row.key ? row.key : row.key + QStringLiteral("  ←  ") + row.source;
        case ShapeColumn: return shapeToString(row.shape);
        case DTypeColumn: return row.aDtype == row.dtype ? dtypeName(row.dtype) : dtypeName(row.aDtype) + QStringLiteral(" → ") + dtypeName(row.dtype);
        case EqualColumn: return row.equal ? (p.identical ? tr("identical") : tr("yes")) : tr("no");
        case MaxAbsColumn: return figure(p.maxAbsDiff);
        case MeanAbsColumn: return figure(p.meanAbsDiff);
        case RmsColumn: return figure(p.rmsDiff);
        case RelL2Column: return figure(p.relL2);
        case CosineColumn: return QString::number(p.cosine, 'f', 6);
        case DifferingColumn: return QString::number(p.differing);
        }
    }
    if (role == SortRole) {
        switch (index.column()) {
        case KeyColumn: return row.key;
        case ShapeColumn: return static_cast<double>(row.shape.empty() ? 1 : row.shape[0]);
        case DTypeColumn: return dtypeName(row.dtype);
        case EqualColumn: return row.equal ? 1.0 : 0.0;
        case MaxAbsColumn: return p.maxAbsDiff;
        case MeanAbsColumn: return p.meanAbsDiff;
        case RmsColumn: return p.rmsDiff;
        case RelL2Column: return std::isnan(p.relL2) ? 1e300 : p.relL2;
        case CosineColumn: return p.cosine;
        case DifferingColumn: return static_cast<double>(p.differing);
        }
    }
    if (role == Qt::BackgroundRole)
        return differenceColor(row);
    if (role == Qt::TextAlignmentRole && index.column() >= MaxAbsColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == KeyRole)
        return row.key;
    if (role == Qt::ToolTipRole)
        return row.source.isEmpty() ? row.key : row.key + QStringLiteral(" ← ") + row.source;
    return {};
}

QVariant DiffTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case KeyColumn: return tr("Key");
    case ShapeColumn: return tr("Shape");
    case DTypeColumn: return tr("DType");
    case EqualColumn: return tr("Equal");
    case MaxAbsColumn: return tr("max |Δ|");
    case MeanAbsColumn: return tr("mean |Δ|");
    case RmsColumn: return tr("RMS Δ");
    case RelL2Column: return tr("rel. L2");
    case CosineColumn: return tr("cosine");
    case DifferingColumn: return tr("differing");
    }
    return {};
}

} // namespace graft::ui
