#include "cli/inspectcommand.h"

#include "checkpoint/checkpointopener.h"
#include "cli/commandline.h"
#include "cli/jsonwriter.h"

#include <QCommandLineParser>

#include <algorithm>

namespace graft::cli {
namespace {

QString inspectJson(const Checkpoint &checkpoint)
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
        const QString padding(std::max<qsizetype>(0, width - text.size()), QLatin1Char(' '));
        if (right)
            out += padding;
        out += text;
        if (!right)
            out += padding;
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
    for (size_t i = 0; i < tensors.size(); ++i)
        line(tensors[i].key, shapes[i], dtypeName(tensors[i].dtype), humanBytes(tensors[i].nbytes()));
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
    parser.setApplicationDescription(QStringLiteral("List the tensors of a checkpoint without reading their data."));
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("checkpoint to inspect"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("print JSON"));
    parser.addOption(jsonOption);
    if (const std::optional<int> stop = parseArguments(parser, QStringLiteral("inspect"), arguments))
        return *stop;
    if (parser.positionalArguments().size() != 1) {
        printUsageError(QStringLiteral("inspect needs exactly one FILE (usage: graft-cli inspect FILE [--json])"));
        return BadInput;
    }
    Result<Checkpoint> checkpoint = openCheckpoint(parser.positionalArguments().first());
    if (!checkpoint) {
        printError(checkpoint.error());
        return BadInput;
    }
    printOut(parser.isSet(jsonOption) ? inspectJson(*checkpoint) : inspectTable(*checkpoint));
    return Success;
}

} // namespace graft::cli
