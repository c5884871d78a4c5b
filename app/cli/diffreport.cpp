#include "cli/diffreport.h"

#include "cli/jsonwriter.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace graft::cli {
namespace {

QString figure(double value)
{
    if (std::isnan(value))
        return QStringLiteral("nan");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::number(value, 'g', 4);
}

// Cosines near 1 are the interesting ones: enough digits to tell 0.99999997 from 1.
QString cosineFigure(double value) { return std::isfinite(value) ? QString::number(value, 'g', 8) : figure(value); }

QString plural(qsizetype n, const char *one, const char *many)
{
    return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
}

void writeStatistics(JsonWriter &json, const std::optional<TensorStatistics> &statistics)
{
    if (!statistics) {
        json.null();
        return;
    }
    json.beginObject();
    json.key(QStringLiteral("count")).value(statistics->count);
    json.key(QStringLiteral("mean")).value(statistics->mean);
    json.key(QStringLiteral("std")).value(statistics->std);
    json.key(QStringLiteral("min")).value(statistics->min);
    json.key(QStringLiteral("max")).value(statistics->max);
    json.key(QStringLiteral("l2")).value(statistics->l2);
    json.key(QStringLiteral("max_abs")).value(statistics->maxAbs);
    json.key(QStringLiteral("zero_fraction")).value(statistics->zeroFraction);
    json.key(QStringLiteral("nan")).value(statistics->nan);
    json.key(QStringLiteral("inf")).value(statistics->inf);
    json.endObject();
}

QString summaryLine(const CheckpointDiff &diff, const DiffContext &context)
{
    QStringList parts;
    const int differing = diff.differingRows();
    parts << QStringLiteral("%1 of %2 differ").arg(differing).arg(plural(static_cast<qsizetype>(diff.compared.size()), "compared tensor", "compared tensors"));
    if (!diff.onlyInA.isEmpty())
        parts << QStringLiteral("%1 only in A").arg(diff.onlyInA.size());
    if (!diff.onlyInB.isEmpty())
        parts << QStringLiteral("%1 only in B").arg(diff.onlyInB.size());
    if (!diff.shapeChanged.empty())
        parts << QStringLiteral("%1 shape changed").arg(diff.shapeChanged.size());
    if (!diff.dtypeChanged.empty())
        parts << QStringLiteral("%1 dtype changed").arg(diff.dtypeChanged.size());
    if (!diff.kept.isEmpty())
        parts << QStringLiteral("%1 kept by B (not compared)").arg(diff.kept.size());
    return QStringLiteral("%1: %2 (rtol %3, atol %4)\n")
        .arg(diff.equal() ? QStringLiteral("EQUAL") : QStringLiteral("DIFFERENT"), parts.join(QStringLiteral("; ")),
             figure(context.tolerance.rtol), figure(context.tolerance.atol));
}

QString rowsTable(const CheckpointDiff &diff, int maxRows)
{
    std::vector<const DiffRow *> rows;
    for (const DiffRow &row : diff.compared) {
        if (!row.equal && static_cast<int>(rows.size()) < maxRows)
            rows.push_back(&row);
    }
    if (rows.empty())
        return QString();
    auto label = [&](const DiffRow &row) { return row.source.isEmpty() ? row.key : QStringLiteral("%1 <- %2").arg(row.key, row.source); };
    auto dtype = [](const DiffRow &row) {
        return row.aDtype == row.dtype ? dtypeName(row.dtype) : QStringLiteral("%1->%2").arg(dtypeName(row.aDtype), dtypeName(row.dtype));
    };
    int keyWidth = 3, shapeWidth = 5, dtypeWidth = 5;
    for (const DiffRow *row : rows) {
        keyWidth = std::max(keyWidth, static_cast<int>(label(*row).size()));
        shapeWidth = std::max(shapeWidth, static_cast<int>(shapeToString(row->shape).size()));
        dtypeWidth = std::max(dtypeWidth, static_cast<int>(dtype(*row).size()));
    }
    keyWidth = std::min(keyWidth, 70);
    const QString format = QStringLiteral("  %1  %2  %3  %4  %5  %6  %7  %8  %9\n");
    QString out = QStringLiteral("\nDiffering tensors, largest relative difference first:\n");
    out += format.arg(QStringLiteral("KEY"), -keyWidth)
               .arg(QStringLiteral("SHAPE"), -shapeWidth)
               .arg(QStringLiteral("DTYPE"), -dtypeWidth)
               .arg(QStringLiteral("REL L2"), 10)
               .arg(QStringLiteral("MAX|A-B|"), 10)
               .arg(QStringLiteral("MEAN|A-B|"), 10)
               .arg(QStringLiteral("RMS"), 10)
               .arg(QStringLiteral("COSINE"), 10)
               .arg(QStringLiteral("DIFFERING"));
    for (const DiffRow *row : rows) {
        out += format.arg(label(*row), -keyWidth)
                   .arg(shapeToString(row->shape), -shapeWidth)
                   .arg(dtype(*row), -dtypeWidth)
                   .arg(figure(row->pair.relL2), 10)
                   .arg(figure(row->pair.maxAbsDiff), 10)
                   .arg(figure(row->pair.meanAbsDiff), 10)
                   .arg(figure(row->pair.rmsDiff), 10)
                   .arg(cosineFigure(row->pair.cosine), 10)
                   .arg(QStringLiteral("%1 of %2").arg(row->pair.differing).arg(row->pair.count));
    }
    const int differing = diff.differingRows();
    if (differing > static_cast<int>(rows.size()))
        out += QStringLiteral("  … %1 more differing tensors (--json lists every row)\n").arg(differing - static_cast<int>(rows.size()));
    return out;
}

} // namespace

QString diffReport(const CheckpointDiff &diff, const DiffContext &context, int maxRows)
{
    QString out = QStringLiteral("A: %1\nB: %2\n").arg(context.fileA, context.fileB);
    if (diff.throughMapping)
        out += QStringLiteral("A is brought into B's layout through the mapping (profile %1)\n").arg(QFileInfo(context.profile).fileName());
    out += summaryLine(diff, context);
    auto list = [&out](const QString &title, const QStringList &keys) {
        if (keys.isEmpty())
            return;
        out += QStringLiteral("\n%1 (%2):\n").arg(title).arg(keys.size());
        for (const QString &key : keys)
            out += QStringLiteral("  %1\n").arg(key);
    };
    list(QStringLiteral("Only in A"), diff.onlyInA);
    list(QStringLiteral("Only in B"), diff.onlyInB);
    QStringList lines;
    for (const ShapeChange &change : diff.shapeChanged)
        lines << QStringLiteral("%1  %2 -> %3").arg(change.key, shapeToString(change.a), shapeToString(change.b));
    list(QStringLiteral("Shape changed"), lines);
    lines.clear();
    for (const DTypeChange &change : diff.dtypeChanged)
        lines << QStringLiteral("%1  %2 -> %3").arg(change.key, dtypeName(change.a), dtypeName(change.b));
    list(QStringLiteral("Dtype changed"), lines);
    list(QStringLiteral("Kept by B, not compared"), diff.kept);
    if (diff.compared.empty() && !diff.onlyInA.isEmpty() && !diff.onlyInB.isEmpty() && !diff.throughMapping)
        out += QStringLiteral("\nNo key is in both files: to compare a converted file with its source, map them "
                              "(graft-cli map A B --save-profile P) and diff through the profile (--profile P).\n");
    out += rowsTable(diff, maxRows);
    const qsizetype equalRows = static_cast<qsizetype>(diff.compared.size()) - diff.differingRows();
    if (equalRows > 0) {
        const qsizetype identical = std::count_if(diff.compared.begin(), diff.compared.end(), [](const DiffRow &row) { return row.pair.identical; });
        out += QStringLiteral("\n%1 equal (%2 byte for byte).\n")
                   .arg(plural(equalRows, "compared tensor is", "compared tensors are"))
                   .arg(identical);
    }
    return out;
}

QString diffJson(const CheckpointDiff &diff, const DiffContext &context)
{
    JsonWriter json;
    json.beginObject();
    json.key(QStringLiteral("a")).value(context.fileA);
    json.key(QStringLiteral("b")).value(context.fileB);
    json.key(QStringLiteral("only_in_a")).beginArray();
    for (const QString &key : diff.onlyInA)
        json.value(key);
    json.endArray();
    json.key(QStringLiteral("only_in_b")).beginArray();
    for (const QString &key : diff.onlyInB)
        json.value(key);
    json.endArray();
    json.key(QStringLiteral("shape_changed")).beginArray();
    for (const ShapeChange &change : diff.shapeChanged) {
        json.beginObject();
        json.key(QStringLiteral("key")).value(change.key);
        json.key(QStringLiteral("a_shape")).value(change.a);
        json.key(QStringLiteral("b_shape")).value(change.b);
        json.endObject();
    }
    json.endArray();
    json.key(QStringLiteral("dtype_changed")).beginArray();
    for (const DTypeChange &change : diff.dtypeChanged) {
        json.beginObject();
        json.key(QStringLiteral("key")).value(change.key);
        json.key(QStringLiteral("a_dtype")).value(dtypeName(change.a));
        json.key(QStringLiteral("b_dtype")).value(dtypeName(change.b));
        json.endObject();
    }
    json.endArray();
    json.key(QStringLiteral("compared")).beginArray();
    for (const DiffRow &row : diff.compared) {
        json.beginObject();
        json.key(QStringLiteral("key")).value(row.key);
        json.key(QStringLiteral("shape")).value(row.shape);
        json.key(QStringLiteral("dtype")).value(dtypeName(row.dtype));
        json.key(QStringLiteral("equal")).value(row.equal);
        json.key(QStringLiteral("max_abs_diff")).value(row.pair.maxAbsDiff);
        json.key(QStringLiteral("mean_abs_diff")).value(row.pair.meanAbsDiff);
        json.key(QStringLiteral("rms_diff")).value(row.pair.rmsDiff);
        json.key(QStringLiteral("rel_l2")).value(row.pair.relL2);
        json.key(QStringLiteral("cosine")).value(row.pair.cosine);
        json.key(QStringLiteral("a"));
        writeStatistics(json, row.a);
        json.key(QStringLiteral("b"));
        writeStatistics(json, row.b);
        json.endObject();
    }
    json.endArray();
    json.endObject();
    return json.text() + QLatin1Char('\n');
}

} // namespace graft::cli
