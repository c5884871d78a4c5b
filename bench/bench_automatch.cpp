// W3: automatic matching of a ~100k-key transformer state_dict onto a ~100k-leaf Equinox
// skeleton (KeySpec lists from bench/make_workloads.py), timed in process.
//
//   bench_automatch SOURCE.tsv TARGET.tsv [--rules FILE] [--reps N]
//
// Prints one JSON line: key counts, the matching summary (exact/fixable/... counts) and the
// timings of autoMatch() with the rename rules, plus the time to read the lists (not part of
// the target: a GUI or CLI has the keys from the opened files).

#include "benchsupport.h"

#include <QCoreApplication>
#include <QStringList>

using namespace graft;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    QString rulesPath;
    int reps = 5;
    QStringList files;
    for (int i = 0; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--rules") && i + 1 < args.size())
            rulesPath = args[++i];
        else if (args[i] == QLatin1String("--reps") && i + 1 < args.size())
            reps = std::max(1, args[++i].toInt());
        else
            files << args[i];
    }
    if (files.size() != 2)
        bench::fail(QStringLiteral("usage: bench_automatch SOURCE.tsv TARGET.tsv [--rules FILE] [--reps N]"));

    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    const double readMs = bench::timeMs([&] {
        sources = bench::readKeySpecs(files[0]);
        targets = bench::readKeySpecs(files[1]);
    });
    MatchOptions options;
    options.rules = bench::readRules(rulesPath);

    std::vector<double> runs;
    MappingResult result;
    for (int rep = 0; rep < reps; ++rep)
        runs.push_back(bench::timeMs([&] { result = autoMatch(sources, targets, options, Convention::Equinox); }));

    const MappingSummary summary = result.summary();
    QJsonObject counts{{QStringLiteral("targets"), summary.targets},     {QStringLiteral("exact"), summary.exact},
                       {QStringLiteral("fixable"), summary.fixable},     {QStringLiteral("incompatible"), summary.incompatible},
                       {QStringLiteral("unmapped"), summary.unmapped},   {QStringLiteral("kept"), summary.kept},
                       {QStringLiteral("ambiguous"), summary.ambiguous}, {QStringLiteral("unused_sources"), summary.unusedSources}};
    int byOrder = 0;
    int byRule = 0;
    for (const Mapping &mapping : result.mappings) {
        byOrder += mapping.origin == MatchOrigin::OrderShape ? 1 : 0;
        byRule += mapping.origin == MatchOrigin::RenameRule ? 1 : 0;
    }
    counts.insert(QStringLiteral("by_rename_rule"), byRule);
    counts.insert(QStringLiteral("by_order_shape"), byOrder);
    bench::printJson({{QStringLiteral("workload"), QStringLiteral("automatch")},
                      {QStringLiteral("sources"), static_cast<qint64>(sources.size())},
                      {QStringLiteral("targets"), static_cast<qint64>(targets.size())},
                      {QStringLiteral("rules"), static_cast<qint64>(options.rules.size())},
                      {QStringLiteral("read_lists_ms"), readMs},
                      {QStringLiteral("automatch"), bench::timings(runs)},
                      {QStringLiteral("result"), counts},
                      {QStringLiteral("peak_rss_kb"), bench::peakRssKb()}});
    return 0;
}
