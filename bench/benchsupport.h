#pragma once
// Shared by the in-process benchmarks (bench_automatch, bench_gui): KeySpec lists and rename
// rules as bench/make_workloads.py writes them, wall-clock timing, peak RSS, and the one JSON
// line each benchmark prints for bench/run.py.
//
//   KeySpec list: one tensor a line, `key<TAB>dtype<TAB>d0,d1,...<TAB>array|scalar`
//   rules:        one `REGEX=>REPLACEMENT` a line (RenameRule::parse)

#include "mapping/automatcher.h"
#include "mapping/renamerule.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace graft::bench {

[[noreturn]] inline void fail(const QString &message)
{
    std::fprintf(stderr, "bench: error: %s\n", qPrintable(message));
    std::exit(2);
}

inline std::vector<KeySpec> readKeySpecs(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        fail(path + QStringLiteral(": cannot open"));
    std::vector<KeySpec> specs;
    QTextStream in(&file);
    QString line;
    while (in.readLineInto(&line)) {
        if (line.isEmpty())
            continue;
        const QStringList fields = line.split(QLatin1Char('\t'));
        const std::optional<DType> dtype = fields.size() == 4 ? dtypeFromName(fields[1]) : std::nullopt;
        if (!dtype)
            fail(path + QStringLiteral(": bad line: ") + line);
        KeySpec spec;
        spec.key = fields[0];
        spec.spec.dtype = *dtype;
        for (const QString &dim : fields[2].split(QLatin1Char(','), Qt::SkipEmptyParts))
            spec.spec.shape.push_back(dim.toLongLong());
        spec.kind = fields[3] == QLatin1String("scalar") ? LeafKind::Scalar : LeafKind::Array;
        specs.push_back(std::move(spec));
    }
    return specs;
}

inline std::vector<RenameRule> readRules(const QString &path)
{
    std::vector<RenameRule> rules;
    if (path.isEmpty())
        return rules;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        fail(path + QStringLiteral(": cannot open"));
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString &line : lines) {
        Result<RenameRule> rule = RenameRule::parse(line);
        if (!rule)
            fail(path + QStringLiteral(": ") + rule.error().message);
        rules.push_back(*rule);
    }
    return rules;
}

/// Milliseconds `work` takes.
inline double timeMs(const std::function<void()> &work)
{
    QElapsedTimer timer;
    timer.start();
    work();
    return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

/// {"runs_ms": [...], "median_ms", "min_ms", "max_ms"} of a list of timings.
inline QJsonObject timings(std::vector<double> runs)
{
    QJsonArray all;
    for (double ms : runs)
        all.append(ms);
    std::sort(runs.begin(), runs.end());
    const size_t n = runs.size();
    const double median = n == 0 ? 0.0 : n % 2 ? runs[n / 2] : (runs[n / 2 - 1] + runs[n / 2]) / 2.0;
    return QJsonObject{{QStringLiteral("runs_ms"), all},
                       {QStringLiteral("median_ms"), median},
                       {QStringLiteral("min_ms"), n ? runs.front() : 0.0},
                       {QStringLiteral("max_ms"), n ? runs.back() : 0.0}};
}

/// Peak resident set of this process so far, in KiB.
inline qint64 peakRssKb()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

inline void printJson(const QJsonObject &object)
{
    std::printf("%s\n", QJsonDocument(object).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
}

} // namespace graft::bench
