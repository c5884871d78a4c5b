#include "cli/commandline.h"

#include <QCommandLineParser>

#include <cstdio>

namespace graft::cli {

void printError(const Error &error)
{
    std::fprintf(stderr, "graft-cli: error: %s\n", qUtf8Printable(error.toString()));
}

void printUsageError(const QString &message)
{
    std::fprintf(stderr, "graft-cli: error: %s\n", qUtf8Printable(message));
}

void printWarning(const QString &text)
{
    std::fprintf(stderr, "graft-cli: warning: %s\n", qUtf8Printable(text));
}

void printOut(const QString &text)
{
    const QByteArray bytes = text.toUtf8();
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
    if (unit == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 1).arg(QLatin1String(kUnits[unit]));
}

} // namespace graft::cli
