#include "cli/convertcommand.h"

#include "checkpoint/checkpointwriter.h"
#include "cli/commandline.h"
#include "cli/mappingreport.h"
#include "mapping/conversionplan.h"
#include "mapping/mappingsetup.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>

#include <algorithm>

namespace graft::cli {

int runConvert(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Combine: write the target with the mapped source weights, "
                                                    "keeping the target's values elsewhere."));
    parser.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("source checkpoint"));
    parser.addPositionalArgument(QStringLiteral("TARGET"), QStringLiteral("target skeleton or checkpoint"));
    const QCommandLineOption outOption({QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("output file"), QStringLiteral("OUT"));
    const QCommandLineOption profileOption(QStringLiteral("profile"), QStringLiteral("apply a mapping profile"), QStringLiteral("P"));
    const QCommandLineOption formatOption(QStringLiteral("format"), QStringLiteral("eqx, safetensors, npz, pt or msgpack (Flax) (default: from OUT's suffix)"),
                                          QStringLiteral("FORMAT"));
    const QCommandLineOption keepOption(QStringLiteral("keep-unmapped"),
                                        QStringLiteral("leaves without a usable source keep the target's values"));
    const QCommandLineOption ruleOption(QStringLiteral("rule"), QStringLiteral("rename rule REGEX=>REPLACEMENT (repeatable)"), QStringLiteral("RULE"));
    const QCommandLineOption acceptOption(QStringLiteral("accept-guesses"),
                                          QStringLiteral("write the leaves matched by order and shape alone (status guessed)"));
    parser.addOptions({outOption, profileOption, formatOption, keepOption, ruleOption, acceptOption});
    if (const std::optional<int> stop = parseArguments(parser, QStringLiteral("convert"), arguments))
        return *stop;
    const QStringList files = parser.positionalArguments();
    if (files.size() != 2 || !parser.isSet(outOption)) {
        printUsageError(QStringLiteral("usage: graft-cli convert SOURCE TARGET -o OUT [--profile P] [--format eqx|safetensors|npz|pt|msgpack] [--keep-unmapped] [--accept-guesses]"));
        return BadInput;
    }
    const QString out = parser.value(outOption);
    const QString formatText = parser.isSet(formatOption) ? parser.value(formatOption) : QFileInfo(out).fileName();
    const std::optional<OutputFormat> format = outputFormatFromName(formatText);
    if (!format) {
        printUsageError(QStringLiteral("cannot tell the output format from '%1': use --format eqx|safetensors|npz|pt|msgpack").arg(formatText));
        return BadInput;
    }

    QElapsedTimer timer;
    timer.start();
    Result<MappingSetup> setup = loadMappingSetup(files[0], files[1], parser.value(profileOption), parser.values(ruleOption),
                                                  QStringLiteral("--rule"));
    if (!setup) {
        printError(setup.error());
        return BadInput;
    }
    if (*format == OutputFormat::Eqx && setup->target.format() != CheckpointFormat::GraftSkeleton
        && setup->target.format() != CheckpointFormat::Eqx) {
        printError({files[1], QStringLiteral("an .eqx output needs a Graft skeleton (or .eqx) target")});
        return BadInput;
    }
    for (const QString &warning : setup->warnings)
        printWarning(warning);
    const MappingResult mapping = matchCheckpoints(setup->source, setup->target, setup->options);
    for (const StaleEntry &stale : mapping.stale)
        printWarning(QStringLiteral("stale profile entry: %1: %2").arg(stale.entry, stale.reason));

    Result<ConversionPlan> plan = planConversion(setup->source, setup->target, mapping, parser.isSet(keepOption), parser.isSet(acceptOption));
    if (!plan) {
        printOut(mappingTable(mapping));
        printError(plan.error());
        return ProblemsFound;
    }
    // One line per kept leaf up to a screenful; a model with thousands of them would bury the
    // rest of the output (`graft-cli map` lists every leaf with its status).
    constexpr qsizetype kWarningsShown = 20;
    for (qsizetype i = 0; i < std::min(plan->warnings.size(), kWarningsShown); ++i)
        printWarning(plan->warnings[i]);
    if (plan->warnings.size() > kWarningsShown)
        printWarning(QStringLiteral("... and %1 more leaves keep the target's values (`graft-cli map` with the same "
                                    "files, rules and profile lists every leaf)").arg(plan->warnings.size() - kWarningsShown));

    const WriteOptions options = combinedWriteOptions(*format, setup->source, files[0], setup->target, files[1]);
    Result<WriteSummary> written = writeCheckpoint(out, plan->leaves, options);
    if (!written) {
        printError(written.error());
        return BadInput;
    }
    printOut(QStringLiteral("wrote %1 (%2): %3 leaves, %4 from the source, %5 kept from the target, %6 in %7 s\n")
                 .arg(out, outputFormatName(*format))
                 .arg(written->leaves)
                 .arg(plan->fromSource)
                 .arg(plan->keptFromTarget)
                 .arg(humanBytes(written->bytes))
                 .arg(static_cast<double>(timer.elapsed()) / 1000.0, 0, 'f', 3));
    if (*format == OutputFormat::Eqx)
        printOut(QStringLiteral("\nLoad it in Python:\n") + eqxLoadingSnippet(out));
    if (*format == OutputFormat::FlaxMsgpack)
        printOut(QStringLiteral("\nLoad it in Python:\n") + flaxLoadingSnippet(out));
    exitNow(Success);
}

} // namespace graft::cli
