#include "cli/mapcommand.h"

#include "cli/commandline.h"
#include "cli/mappingreport.h"
#include "mapping/mappingsetup.h"

#include <QCommandLineParser>

namespace graft::cli {

int runMap(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Map a source checkpoint's tensors onto a target's leaves and report how."));
    parser.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("source checkpoint"));
    parser.addPositionalArgument(QStringLiteral("TARGET"), QStringLiteral("target skeleton or checkpoint"));
    const QCommandLineOption profileOption(QStringLiteral("profile"), QStringLiteral("apply a mapping profile"), QStringLiteral("P"));
    const QCommandLineOption ruleOption(QStringLiteral("rule"), QStringLiteral("rename rule on source keys, REGEX=>REPLACEMENT (repeatable)"),
                                        QStringLiteral("RULE"));
    const QCommandLineOption saveOption(QStringLiteral("save-profile"), QStringLiteral("save the resulting mapping as a profile"),
                                        QStringLiteral("OUT"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("print JSON"));
    const QCommandLineOption acceptOption(QStringLiteral("accept-guesses"),
                                          QStringLiteral("accept the leaves matched by order and shape alone (saved as explicit pairs)"));
    parser.addOptions({profileOption, ruleOption, saveOption, jsonOption, acceptOption});
    if (const std::optional<int> stop = parseArguments(parser, QStringLiteral("map"), arguments))
        return *stop;
    const QStringList files = parser.positionalArguments();
    if (files.size() != 2) {
        printUsageError(QStringLiteral("map needs SOURCE and TARGET (usage: graft-cli map SOURCE TARGET [--profile P] "
                                       "[--rule 'REGEX=>REPLACEMENT']... [--save-profile OUT] [--accept-guesses] [--json])"));
        return BadInput;
    }
    Result<MappingSetup> setup = loadMappingSetup(files[0], files[1], parser.value(profileOption), parser.values(ruleOption),
                                                  QStringLiteral("--rule"));
    if (!setup) {
        printError(setup.error());
        return BadInput;
    }
    for (const QString &warning : setup->warnings)
        printWarning(warning);
    MappingResult result = matchCheckpoints(setup->source, setup->target, setup->options);
    if (parser.isSet(acceptOption))
        acceptGuesses(result);
    printOut(parser.isSet(jsonOption) ? mappingJson(result, files[0], files[1]) : mappingTable(result));

    if (parser.isSet(saveOption)) {
        const Profile profile = profileFromResult(result, setup->source, setup->target, setup->options.rules,
                                                  setup->profile ? setup->profile->notes : QString());
        Status saved = saveProfile(profile, parser.value(saveOption));
        if (!saved) {
            printError(saved.error());
            return BadInput;
        }
    }
    exitNow(result.complete() ? Success : ProblemsFound);
}

} // namespace graft::cli
