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

/// Ends the process with `code` once a command's work is done and written, without freeing what
/// it built one allocation at a time: the indexes, mapping and plan of a 100k-leaf checkpoint
/// took ~0.1 s to free (W6), and the kernel takes the whole address space back at once.
/// Standard output and error are flushed first. Only for the end of a command: every output
/// file is committed by then and every thread joined.
[[noreturn]] void exitNow(int code);

/// Adds --help to `parser` and parses "graft-cli COMMAND ARGUMENTS…". Returns the exit code to
/// stop with (BadInput after printing a usage error, Success after printing the help), or
/// nothing when the command should go on.
std::optional<int> parseArguments(QCommandLineParser &parser, const QString &command, const QStringList &arguments);

/// "575.3 MB", "864 B".
QString humanBytes(qint64 bytes);

} // namespace graft::cli
