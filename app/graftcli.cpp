// graft-cli: the scriptable front end. Each command lives in cli/<name>command.cpp and calls
// the same core functions as the GUI.

#include "cli/commandline.h"
#include "cli/convertcommand.h"
#include "cli/diffcommand.h"
#include "cli/inspectcommand.h"
#include "cli/mapcommand.h"

#include <QCoreApplication>

#include <new>

namespace {

const char *kUsage =
    "usage: graft-cli COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  inspect FILE [--json] [--verify]\n"
    "                               list the tensors of a checkpoint (--verify: read and check them)\n"
    "  map SOURCE TARGET [--profile P] [--rule 'REGEX=>REPL']... [--save-profile OUT] [--json]\n"
    "                               match source tensors to target leaves; report fixes\n"
    "  convert SOURCE TARGET -o OUT [--profile P] [--format eqx|safetensors|npz|pt|msgpack] [--keep-unmapped]\n"
    "                               write the target with the source's weights\n"
    "  diff A B [--profile P] [--rtol R] [--atol A] [--json]\n"
    "                               compare two checkpoints' tensors (A through a mapping with --profile)\n"
    "\n"
    "Exit codes: 0 success, 1 problems found, 2 bad usage or unreadable input.\n"
    "`graft-cli COMMAND --help` describes a command.\n";

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("graft-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GRAFT_VERSION));
    QStringList arguments = QCoreApplication::arguments().mid(1);
    if (arguments.isEmpty() || arguments.first() == QLatin1String("--help") || arguments.first() == QLatin1String("-h")) {
        graft::cli::printOut(QString::fromLatin1(kUsage));
        return arguments.isEmpty() ? graft::cli::BadInput : graft::cli::Success;
    }
    if (arguments.first() == QLatin1String("--version")) {
        graft::cli::printOut(QStringLiteral("graft-cli %1\n").arg(QCoreApplication::applicationVersion()));
        return graft::cli::Success;
    }
    const QString command = arguments.takeFirst();
    // Core turns std::bad_alloc into an error naming the file where it reads or writes one
    // (open, convert, diff); this is the last resort for the rest (matching, reports): an
    // error and exit 2, never an abort (exit 134).
    try {
        if (command == QLatin1String("inspect"))
            return graft::cli::runInspect(arguments);
        if (command == QLatin1String("convert"))
            return graft::cli::runConvert(arguments);
        if (command == QLatin1String("map"))
            return graft::cli::runMap(arguments);
        if (command == QLatin1String("diff"))
            return graft::cli::runDiff(arguments);
    } catch (const std::bad_alloc &) {
        graft::cli::printUsageError(QStringLiteral("not enough memory for '%1 %2'").arg(command, arguments.join(QLatin1Char(' '))));
        return graft::cli::BadInput;
    }
    graft::cli::printUsageError(QStringLiteral("unknown command '%1'\n%2").arg(command, QString::fromLatin1(kUsage)));
    return graft::cli::BadInput;
}
