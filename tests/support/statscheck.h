#pragma once
// Support for the statistics and diff tests: numpy's figures from tests/python/tensor_stats.py
// (run with GRAFT_PYTHON) and comparing Graft's figures with them (rtol 1e-6, counts exact,
// NaN and infinities exactly). Header-only test support.

#include "tensor/tensorstats.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include <cmath>
#include <limits>

namespace graft::test {

/// tensor_stats.py MODE FILES... → its JSON (fails the test, and returns {}, when it fails).
inline QJsonObject numpyFigures(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(GRAFT_PYTHON), QStringList{QStringLiteral(GRAFT_SOURCE_DIR "/tests/python/tensor_stats.py")} + arguments);
    if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        qWarning("tensor_stats.py %s failed: %s", qPrintable(arguments.join(QLatin1Char(' '))),
                 process.readAllStandardError().constData());
        return {};
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(process.readAllStandardOutput(), &error);
    if (error.error != QJsonParseError::NoError)
        qWarning("tensor_stats.py printed no JSON: %s", qPrintable(error.errorString()));
    return document.object();
}

/// A figure as tensor_stats.py writes it: a number, or "nan" / "inf" / "-inf".
inline double figure(const QJsonValue &value)
{
    if (value.isString()) {
        const QString text = value.toString();
        if (text == QLatin1String("nan"))
            return std::numeric_limits<double>::quiet_NaN();
        return text.startsWith(QLatin1Char('-')) ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    return value.toDouble();
}

/// Graft's figure against numpy's: NaN with NaN, infinities exactly, otherwise rtol 1e-6 (with
/// 1e-12 absolute slack for figures that should be 0 but are rounding noise in one of them).
inline bool sameFigure(double actual, double expected)
{
    if (std::isnan(expected) || std::isnan(actual))
        return std::isnan(expected) && std::isnan(actual);
    if (std::isinf(expected) || std::isinf(actual))
        return actual == expected;
    return std::fabs(actual - expected) <= 1e-6 * std::max(std::fabs(actual), std::fabs(expected)) + 1e-12;
}

inline QString figureMismatch(const char *name, double actual, double expected)
{
    return QStringLiteral("%1: Graft %2, numpy %3").arg(QLatin1String(name)).arg(actual, 0, 'g', 17).arg(expected, 0, 'g', 17);
}

#define GRAFT_COMPARE_FIGURE(actual, expected)                                                                              \
    QVERIFY2(::graft::test::sameFigure((actual), (expected)),                                                              \
             qPrintable(::graft::test::figureMismatch(#actual, (actual), (expected))))

/// Every figure of `statistics` against tensor_stats.py's "stats" object.
inline void compareStatistics(const TensorStatistics &statistics, const QJsonObject &expected)
{
    QCOMPARE(statistics.count, expected.value(QStringLiteral("count")).toInteger());
    QCOMPARE(statistics.finite, expected.value(QStringLiteral("finite")).toInteger());
    QCOMPARE(statistics.zeros, expected.value(QStringLiteral("zeros")).toInteger());
    QCOMPARE(statistics.nan, expected.value(QStringLiteral("nan")).toInteger());
    QCOMPARE(statistics.inf, expected.value(QStringLiteral("inf")).toInteger());
    GRAFT_COMPARE_FIGURE(statistics.mean, figure(expected.value(QStringLiteral("mean"))));
    GRAFT_COMPARE_FIGURE(statistics.std, figure(expected.value(QStringLiteral("std"))));
    GRAFT_COMPARE_FIGURE(statistics.min, figure(expected.value(QStringLiteral("min"))));
    GRAFT_COMPARE_FIGURE(statistics.max, figure(expected.value(QStringLiteral("max"))));
    GRAFT_COMPARE_FIGURE(statistics.l2, figure(expected.value(QStringLiteral("l2"))));
    GRAFT_COMPARE_FIGURE(statistics.maxAbs, figure(expected.value(QStringLiteral("max_abs"))));
    GRAFT_COMPARE_FIGURE(statistics.zeroFraction, figure(expected.value(QStringLiteral("zero_fraction"))));
}

/// The pair figures against one entry of tensor_stats.py's "pairs" (allclose at `toleranceIndex`).
inline void comparePair(const PairStatistics &pair, const QJsonObject &expected, int toleranceIndex)
{
    QCOMPARE(pair.count, expected.value(QStringLiteral("count")).toInteger());
    QCOMPARE(pair.differing, expected.value(QStringLiteral("differing")).toInteger());
    GRAFT_COMPARE_FIGURE(pair.maxAbsDiff, figure(expected.value(QStringLiteral("max_abs_diff"))));
    GRAFT_COMPARE_FIGURE(pair.meanAbsDiff, figure(expected.value(QStringLiteral("mean_abs_diff"))));
    GRAFT_COMPARE_FIGURE(pair.rmsDiff, figure(expected.value(QStringLiteral("rms_diff"))));
    GRAFT_COMPARE_FIGURE(pair.relL2, figure(expected.value(QStringLiteral("rel_l2"))));
    GRAFT_COMPARE_FIGURE(pair.cosine, figure(expected.value(QStringLiteral("cosine"))));
    QCOMPARE(pair.allclose, expected.value(QStringLiteral("allclose")).toArray().at(toleranceIndex).toBool());
}

/// tensor_stats.py's TOLERANCES[index].
inline Tolerance toleranceAt(const QJsonObject &figures, int index)
{
    const QJsonArray pair = figures.value(QStringLiteral("tolerances")).toArray().at(index).toArray();
    return {pair.at(0).toDouble(), pair.at(1).toDouble()};
}

} // namespace graft::test
