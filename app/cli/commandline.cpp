#include "cli/commandline.h"

#include <QCommandLineParser>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace graft::cli {

namespace {

// Names and paths in messages come from the files read: a NUL would cut a printed line short
// (the file named, the problem lost), and an escape sequence would drive the user's terminal.
// Control characters are shown as \xNN; `keepLines` keeps newlines and tabs (tables, JSON).
QByteArray terminalSafe(const QString &text, bool keepLines)
{
    QByteArray bytes = text.toUtf8();
    const auto isControl = [keepLines](uchar c) {
        return (c < 0x20 && !(keepLines && (c == '\n' || c == '\t'))) || c == 0x7f;
    };
    if (std::none_of(bytes.cbegin(), bytes.cend(), [&](char c) { return isControl(static_cast<uchar>(c)); }))
        return bytes;
    QByteArray escaped;
    escaped.reserve(bytes.size() + 16);
    for (const char c : std::as_const(bytes)) {
        if (isControl(static_cast<uchar>(c)))
            escaped += "\\x" + QByteArray::number(static_cast<uchar>(c), 16).rightJustified(2, '0');
        else
            escaped += c;
    }
    return escaped;
}

void printLine(const char *prefix, const QString &text)
{
    const QByteArray line = prefix + terminalSafe(text, false) + '\n';
    std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
}

} // namespace

void printError(const Error &error)
{
    printLine("graft-cli: error: ", error.toString());
}

void printUsageError(const QString &message)
{
    printLine("graft-cli: error: ", message);
}

void printWarning(const QString &text)
{
    printLine("graft-cli: warning: ", text);
}

void exitNow(int code)
{
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
}

void printOut(const QString &text)
{
    const QByteArray bytes = terminalSafe(text, true);
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stdout);
}

std::optional<int> parseArguments(QCommandLineParser &parser, const QString &command, const QStringList &arguments)
{
    parser.addHelpOption();
    if (!parser.parse(QStringList{QStringLiteral("graft-cli ") + command} + arguments)) {
        printUsageError(parser.errorText());
        return BadInput;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        printOut(parser.helpText());
        return Success;
    }
    return std::nullopt;
}

QString humanBytes(qint64 bytes)
{
    static const char *kUnits[] = {"B", "KB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1000.0 && unit < 4) {
        value /= 1000.0;
        ++unit;
    }
    // Written with to_chars (locale-independent, correctly rounded like QString::arg): one
    // string per call, where two arg() calls parsed a format each (inspect prints a size a line).
    char text[48];
    char *end = nullptr;
    if (unit == 0)
        end = std::to_chars(text, text + sizeof text - 4, bytes).ptr;
    else
        end = std::to_chars(text, text + sizeof text - 4, value, std::chars_format::fixed, 1).ptr;
    *end++ = ' ';
    for (const char *u = kUnits[unit]; *u != '\0'; ++u)
        *end++ = *u;
    return QString::fromLatin1(text, static_cast<qsizetype>(end - text));
}

} // namespace graft::cli
