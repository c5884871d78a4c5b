#include "cli/diffcommand.h"

#include "mapping/automatcher.h"
#include "diff/checkpointdiff.h"
#include "mapping/mappingsetup.h"
#include "cli/commandline.h"
#include "cli/diffreport.h"

#include <QCommandLineParser>

#include <cmath>
#include <optional>

namespace graft::cli {
namespace {

const char *kDiffUsage = "usage: graft-cli diff A B [--profile P] [--rtol R] [--atol A] [--json]";

/// A tolerance option's value: a finite number >= 0 (0 when not given).
std::optional<double> tolerance(const QCommandLineParser &parser, const QCommandLineOption &option)
{
    if (!parser.isSet(option))
        return 0.0;
    bool ok = false;
    const double value = parser.value(option).toDouble(&ok);
    if (!ok || !std::isfinite(value) || value < 0.0)
        return std::nullopt;
    return value;
}

} // namespace

int runDiff(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Compare two checkpoints tensor by tensor: keys only in one, shape and dtype "
                                                    "changes, and how far apart the values are. With --profile, A is first "
                                                    "brought into B's layout through the mapping (check a converted file "
                                                    "against its source)."));
    parser.addPositionalArgument(QStringLiteral("A"), QStringLiteral("first checkpoint (the source, with --profile)"));
    parser.addPositionalArgument(QStringLiteral("B"), QStringLiteral("second checkpoint (the converted file, with --profile)"));
    const QCommandLineOption profileOption(QStringLiteral("profile"), QStringLiteral("compare through this mapping profile of A onto B"),
                                           QStringLiteral("P"));
    const QCommandLineOption rtolOption(QStringLiteral("rtol"), QStringLiteral("relative tolerance, as numpy.allclose (default 0)"),
                                        QStringLiteral("R"));
    const QCommandLineOption atolOption(QStringLiteral("atol"), QStringLiteral("absolute tolerance, as numpy.allclose (default 0)"),
                                        QStringLiteral("A"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("print JSON"));
    parser.addOptions({profileOption, rtolOption, atolOption, jsonOption});
    if (const std::optional<int> stop = parseArguments(parser, QStringLiteral("diff"), arguments))
        return *stop;
    const QStringList files = parser.positionalArguments();
    if (files.size() != 2) {
        printUsageError(QStringLiteral("diff needs A and B (%1)").arg(QLatin1String(kDiffUsage)));
        return BadInput;
    }
    const std::optional<double> rtol = tolerance(parser, rtolOption);
    const std::optional<double> atol = tolerance(parser, atolOption);
    if (!rtol || !atol) {
        printUsageError(QStringLiteral("--%1 needs a number >= 0, not '%2'")
                            .arg(rtol ? QStringLiteral("atol") : QStringLiteral("rtol"),
                                 parser.value(rtol ? atolOption : rtolOption)));
        return BadInput;
    }

    DiffOptions options;
    options.tolerance = {*rtol, *atol};
    Result<MappingSetup> setup = loadMappingSetup(files[0], files[1], parser.value(profileOption), {});
    if (!setup) {
        printError(setup.error());
        return BadInput;
    }
    const Checkpoint &a = setup->source;
    const Checkpoint &b = setup->target;
    if (parser.isSet(profileOption)) {
        for (const QString &warning : setup->warnings)
            printWarning(warning);
        options.mapping = matchCheckpoints(a, b, setup->options);
        // A profile made against a skeleton names leaves a bare .eqx lacks: say so once.
        if (const auto &stale = options.mapping->stale; !stale.empty())
            printWarning(QStringLiteral("%1 profile entries do not apply to these files (first: %2: %3); the rest is matched automatically")
                             .arg(stale.size())
                             .arg(stale.front().entry, stale.front().reason));
    }

    Result<CheckpointDiff> diff = diffCheckpoints(a, b, options);
    if (!diff) {
        printError(diff.error());
        return BadInput;
    }
    const DiffContext context{files[0], files[1], parser.value(profileOption), options.tolerance};
    printOut(parser.isSet(jsonOption) ? diffJson(*diff, context) : diffReport(*diff, context));
    exitNow(diff->equal() ? Success : ProblemsFound);
}

} // namespace graft::cli
