#pragma once
// Shared plumbing of graft-cli's commands: exit codes, error printing, output streams.

#include <QString>
#include <QStringList>

#include <optional>

#include "base/result.h"

class QCommandLineParser;

namespace graft::cli {

/// Exit codes of every graft-cli command.
enum ExitCode : int { Success = 0, ProblemsFound = 1, BadInput = 2 };

/// Prints "graft-cli: error: <file>: <what>" on stderr.
void printError(const Error &error);
/// Prints "graft-cli: error: <message>" on stderr (usage errors).
void printUsageError(const QString &message);
void printOut(const QString &text);
void printWarning(const QString &text);

/// Adds --help to `parser` and parses "graft-cli COMMAND ARGUMENTS…". Returns the exit code to
/// stop with (BadInput after printing a usage error, Success after printing the help), or
/// nothing when the command should go on.
std::optional<int> parseArguments(QCommandLineParser &parser, const QString &command, const QStringList &arguments);

/// "575.3 MB", "864 B".
QString humanBytes(qint64 bytes);

} // namespace graft::cli
