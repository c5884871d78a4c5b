#include "cli/inspectcommand.h"

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointverifier.h"
#include "cli/commandline.h"
#include "cli/jsonwriter.h"

#include <QCommandLineParser>

#include <algorithm>
#include <map>

namespace graft::cli {
namespace {

// What --verify found: nothing asked (no verify), a report, or the first failure.
struct Verification {
    bool asked = false;
    std::optional<VerifyReport> report;
    QString error;
};

QString verifyLine(const VerifyReport &report)
{
    return QStringLiteral("verified: %1 tensors read (%2), %3 zip records with a matching CRC-32\n")
        .arg(report.tensors).arg(humanBytes(report.bytes)).arg(report.checkedRecords);
}

QString inspectJson(const Checkpoint &checkpoint, const Verification &verification)
{
    JsonWriter json;
    json.beginObject();
    json.key(QStringLiteral("file")).value(checkpoint.path());
    json.key(QStringLiteral("format")).value(formatName(checkpoint.format()));
    json.key(QStringLiteral("tensors")).beginArray();
    for (const TensorEntry &tensor : checkpoint.tensors()) {
        json.beginObject();
        json.key(QStringLiteral("key")).value(tensor.key);
        json.key(QStringLiteral("shape")).value(tensor.shape);
        json.key(QStringLiteral("dtype")).value(dtypeName(tensor.dtype));
        json.key(QStringLiteral("nbytes")).value(tensor.nbytes());
        json.endObject();
    }
    json.endArray();
    json.key(QStringLiteral("other")).beginArray();
    for (const OtherEntry &other : checkpoint.others()) {
        json.beginObject();
        json.key(QStringLiteral("key")).value(other.key);
        json.key(QStringLiteral("type")).value(other.type);
        json.key(QStringLiteral("summary")).value(other.summary);
        json.endObject();
    }
    json.endArray();
    if (verification.asked) {
        json.key(QStringLiteral("verify")).beginObject();
        json.key(QStringLiteral("ok")).value(verification.report.has_value());
        if (verification.report) {
            json.key(QStringLiteral("tensors")).value(verification.report->tensors);
            json.key(QStringLiteral("bytes")).value(verification.report->bytes);
            json.key(QStringLiteral("checked_records")).value(verification.report->checkedRecords);
        } else {
            json.key(QStringLiteral("error")).value(verification.error);
        }
        json.endObject();
    }
    json.endObject();
    return json.text() + QLatin1Char('\n');
}

QString inspectTable(const Checkpoint &checkpoint)
{
    // Built by appending into one reserved string (a 100k-key file prints 100k lines: four
    // QString::arg temporaries per line were a tenth of `inspect`'s time).
    const std::vector<TensorEntry> &tensors = checkpoint.tensors();
    std::vector<QString> shapes;
    shapes.reserve(tensors.size());
    qsizetype keyWidth = 3;
    qsizetype shapeWidth = 5;
    for (const TensorEntry &tensor : tensors) {
        keyWidth = std::max(keyWidth, tensor.key.size());
        shapes.push_back(shapeToString(tensor.shape));
        shapeWidth = std::max(shapeWidth, shapes.back().size());
    }
    keyWidth = std::min<qsizetype>(keyWidth, 80);
    QString out;
    out.reserve(static_cast<qsizetype>(tensors.size() + 1) * (keyWidth + shapeWidth + 32));
    auto cell = [&out](const QString &text, qsizetype width, bool right) {
        const qsizetype padding = std::max<qsizetype>(0, width - text.size());
        if (right)
            out.resize(out.size() + padding, QLatin1Char(' '));
        out += text;
        if (!right)
            out.resize(out.size() + padding, QLatin1Char(' '));
    };
    auto line = [&](const QString &key, const QString &shape, const QString &dtype, const QString &size) {
        cell(key, keyWidth, false);
        out += QLatin1String("  ");
        cell(shape, shapeWidth, false);
        out += QLatin1String("  ");
        cell(dtype, 13, false);
        out += QLatin1String("  ");
        cell(size, 10, true);
        out += QLatin1Char('\n');
    };
    line(QStringLiteral("KEY"), QStringLiteral("SHAPE"), QStringLiteral("DTYPE"), QStringLiteral("SIZE"));
    std::map<DType, QString> dtypeNames; // one string per dtype, not one per line
    for (size_t i = 0; i < tensors.size(); ++i) {
        auto name = dtypeNames.find(tensors[i].dtype);
        if (name == dtypeNames.end())
            name = dtypeNames.emplace(tensors[i].dtype, dtypeName(tensors[i].dtype)).first;
        line(tensors[i].key, shapes[i], name->second, humanBytes(tensors[i].nbytes()));
    }
    qint64 parameters = 0;
    for (const TensorEntry &tensor : checkpoint.tensors())
        parameters += tensor.numel();
    out += QStringLiteral("\n%1: %2 tensors, %3 elements, %4\n")
               .arg(formatName(checkpoint.format()))
               .arg(checkpoint.tensors().size())
               .arg(parameters)
               .arg(humanBytes(checkpoint.totalBytes()));
    if (!checkpoint.others().empty()) {
        out += QStringLiteral("\nOther entries (%1, not tensors; shown, never executed):\n").arg(checkpoint.others().size());
        for (const OtherEntry &other : checkpoint.others())
            out += QStringLiteral("  %1  %2  %3\n").arg(other.key, other.type, other.summary);
    }
    for (const auto &[key, value] : checkpoint.metadata())
        out += QStringLiteral("metadata %1 = %2\n").arg(key, value);
    return out;
}

} // namespace

int runInspect(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("List the tensors of a checkpoint without reading their data (--verify reads and checks them)."));
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("checkpoint to inspect"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("print JSON"));
    parser.addOption(jsonOption);
    const QCommandLineOption verifyOption(QStringLiteral("verify"),
                                          QStringLiteral("also read every tensor's bytes once and check them (zip CRC-32s); "
                                                         "exit 2 naming the file and record when one fails"));
    parser.addOption(verifyOption);
    if (const std::optional<int> stop = parseArguments(parser, QStringLiteral("inspect"), arguments))
        return *stop;
    if (parser.positionalArguments().size() != 1) {
        printUsageError(QStringLiteral("inspect needs exactly one FILE (usage: graft-cli inspect FILE [--json] [--verify])"));
        return BadInput;
    }
    Result<Checkpoint> checkpoint = openCheckpoint(parser.positionalArguments().first());
    if (!checkpoint) {
        printError(checkpoint.error());
        return BadInput;
    }
    Verification verification;
    verification.asked = parser.isSet(verifyOption);
    if (verification.asked) {
        Result<VerifyReport> report = verifyCheckpoint(*checkpoint);
        if (report)
            verification.report = *report;
        else
            verification.error = report.error().toString();
        if (!report)
            printError(report.error());
    }
    if (parser.isSet(jsonOption)) {
        printOut(inspectJson(*checkpoint, verification));
    } else {
        QString text = inspectTable(*checkpoint);
        if (verification.report)
            text += verifyLine(*verification.report);
        printOut(text);
    }
    exitNow(verification.asked && !verification.report ? BadInput : Success);
}

} // namespace graft::cli
