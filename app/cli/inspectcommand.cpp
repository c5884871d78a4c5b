#include "cli/inspectcommand.h"

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointverifier.h"
#include "cli/commandline.h"
#include "cli/jsonwriter.h"

#include <QCommandLineParser>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

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

// The characters shapeToString(shape) gives, without making the string: "[a, b, c]".
qsizetype shapeTextLength(const Shape &shape)
{
    qsizetype length = 2 + 2 * std::max<qsizetype>(0, static_cast<qsizetype>(shape.size()) - 1);
    char digits[24];
    for (const qint64 dimension : shape)
        length += std::to_chars(digits, digits + sizeof digits, dimension).ptr - digits;
    return length;
}

// Prints the table as it is made, a few thousand lines at a time: a 100k-key file prints 100k
// lines, which held whole (the text, then its UTF-8) were 18 MB on top of the index.
void printInspectTable(const Checkpoint &checkpoint)
{
    const std::vector<TensorEntry> &tensors = checkpoint.tensors();
    qsizetype keyWidth = 3;
    qsizetype shapeWidth = 5;
    for (const TensorEntry &tensor : tensors) {
        keyWidth = std::max(keyWidth, tensor.key.size());
        shapeWidth = std::max(shapeWidth, shapeTextLength(tensor.shape));
    }
    keyWidth = std::min<qsizetype>(keyWidth, 80);
    constexpr qsizetype kChunkCharacters = qsizetype(1) << 17;
    QString out;
    out.reserve(kChunkCharacters + keyWidth + shapeWidth + 64);
    auto cell = [&out](QStringView text, qsizetype width, bool right) {
        const qsizetype padding = std::max<qsizetype>(0, width - text.size());
        if (right)
            out.resize(out.size() + padding, QLatin1Char(' '));
        out += text;
        if (!right)
            out.resize(out.size() + padding, QLatin1Char(' '));
    };
    auto line = [&](QStringView key, QStringView shape, QStringView dtype, QStringView size) {
        cell(key, keyWidth, false);
        out += QLatin1String("  ");
        cell(shape, shapeWidth, false);
        out += QLatin1String("  ");
        cell(dtype, 13, false);
        out += QLatin1String("  ");
        cell(size, 10, true);
        out += QLatin1Char('\n');
        if (out.size() >= kChunkCharacters) {
            printOut(out);
            out.resize(0); // keeps its capacity
        }
    };
    line(u"KEY", u"SHAPE", u"DTYPE", u"SIZE");
    // One string per dtype, per shape and per size, not one per line: a 100k-tensor model has
    // a few dozen of each (formatting them per line was a third of printing the table).
    std::map<DType, QString> dtypeNames;
    std::map<Shape, QString> shapeTexts;
    std::unordered_map<qint64, QString> sizeTexts;
    for (const TensorEntry &tensor : tensors) {
        auto name = dtypeNames.find(tensor.dtype);
        if (name == dtypeNames.end())
            name = dtypeNames.emplace(tensor.dtype, dtypeName(tensor.dtype)).first;
        auto shape = shapeTexts.find(tensor.shape);
        if (shape == shapeTexts.end())
            shape = shapeTexts.emplace(tensor.shape, shapeToString(tensor.shape)).first;
        const qint64 bytes = tensor.nbytes();
        auto size = sizeTexts.find(bytes);
        if (size == sizeTexts.end())
            size = sizeTexts.emplace(bytes, humanBytes(bytes)).first;
        line(tensor.key, shape->second, name->second, size->second);
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
    printOut(out);
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
        printInspectTable(*checkpoint);
        if (verification.report)
            printOut(verifyLine(*verification.report));
    }
    exitNow(verification.asked && !verification.report ? BadInput : Success);
}

} // namespace graft::cli
