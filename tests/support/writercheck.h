#pragma once
// Support for the writer tests: leaves read from a fixture checkpoint, the manifest of what
// they must read back as, the real consumer run on the output (tests/python/read_*.py with
// GRAFT_PYTHON), and the round trip through Graft's own reader. Header-only test support.

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "manifestcheck.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include <functional>

namespace graft::test {

using TensorFilter = std::function<bool(const TensorEntry &)>;

/// One leaf per tensor of `checkpoint` (those `filter` accepts), produced on demand by
/// Checkpoint::read (zero-copy views into the map where the layout allows).
inline std::vector<OutputLeaf> leavesOf(const Checkpoint &checkpoint, const TensorFilter &filter = {})
{
    std::vector<OutputLeaf> leaves;
    for (int i = 0; i < static_cast<int>(checkpoint.tensors().size()); ++i) {
        const TensorEntry &tensor = checkpoint.tensors()[i];
        if (filter && !filter(tensor))
            continue;
        leaves.push_back({tensor.key, TensorSpec{tensor.dtype, tensor.shape}, [checkpoint, i] { return checkpoint.read(i); }});
    }
    return leaves;
}

/// {"leaves": [{"key", "dtype", "shape", "sha256"}]}: what a consumer must read back, with the
/// hashes taken from the leaves' own produce() (the source of truth for the bytes).
inline QJsonObject expectedManifest(const std::vector<OutputLeaf> &leaves)
{
    QJsonArray array;
    for (const OutputLeaf &leaf : leaves) {
        Result<TensorBytes> bytes = leaf.produce();
        if (!bytes)
            qFatal("cannot read leaf %s: %s", qPrintable(leaf.key), qPrintable(bytes.error().toString()));
        QJsonArray shape;
        for (qint64 dim : leaf.spec.shape)
            shape.append(dim);
        array.append(QJsonObject{{QStringLiteral("key"), leaf.key},
                                 {QStringLiteral("dtype"), dtypeName(leaf.spec.dtype)},
                                 {QStringLiteral("shape"), shape},
                                 {QStringLiteral("sha256"), sha256Hex(*bytes)}});
    }
    return QJsonObject{{QStringLiteral("leaves"), array}};
}

inline bool writeJson(const QString &path, const QJsonObject &object)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(QJsonDocument(object).toJson()) > 0;
}

struct PythonRun {
    int exitCode = -1;
    QString output;
};

/// Runs GRAFT_PYTHON tests/python/<script> <arguments> and returns its exit code and output.
inline PythonRun runPython(const QString &script, const QStringList &arguments, int timeoutMs = 240'000)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral(GRAFT_PYTHON),
                  QStringList{QStringLiteral(GRAFT_SOURCE_DIR "/tests/python/") + script} + arguments);
    PythonRun run;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        run.output = QStringLiteral("timed out or failed to start: ") + process.errorString();
        return run;
    }
    run.output = QString::fromUtf8(process.readAll());
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    return run;
}

/// Writes `manifest` beside `output` and has the real consumer (tests/python/<script>) check
/// `output` against it.
inline void checkWithPython(const QString &script, const QString &output, const QJsonObject &manifest,
                            const QStringList &options = {})
{
    const QString manifestPath = output + QStringLiteral(".manifest.json");
    QVERIFY(writeJson(manifestPath, manifest));
    const PythonRun run = runPython(script, QStringList{output, manifestPath} + options);
    QVERIFY2(run.exitCode == 0, qPrintable(script + QStringLiteral(" said:\n") + run.output));
    QVERIFY2(run.output.startsWith(QStringLiteral("ok: ")), qPrintable(run.output));
}

/// Opens `path` with Graft's reader and compares it, key by key and bit by bit, with `manifest`.
inline void checkRoundTrip(const QString &path, const QJsonObject &manifest)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    const QJsonArray leaves = manifest.value(QStringLiteral("leaves")).toArray();
    QCOMPARE(static_cast<qsizetype>(checkpoint->tensors().size()), leaves.size());
    for (qsizetype i = 0; i < leaves.size(); ++i) {
        const QJsonObject want = leaves[i].toObject();
        const TensorEntry &tensor = checkpoint->tensors()[static_cast<size_t>(i)];
        QCOMPARE(tensor.key, want.value(QStringLiteral("key")).toString());
        QCOMPARE(dtypeName(tensor.dtype), want.value(QStringLiteral("dtype")).toString());
        Shape shape;
        for (const QJsonValue &dim : want.value(QStringLiteral("shape")).toArray())
            shape.push_back(dim.toInteger());
        QCOMPARE(shapeToString(tensor.shape), shapeToString(shape));
        Result<TensorBytes> bytes = checkpoint->read(static_cast<int>(i));
        QVERIFY2(bytes.ok(), bytes.ok() ? "" : qPrintable(bytes.error().toString()));
        QVERIFY2(sha256Hex(*bytes) == want.value(QStringLiteral("sha256")).toString(),
                 qPrintable(QStringLiteral("bytes of '%1' differ after the round trip").arg(tensor.key)));
    }
}

/// Opens a fixture or fails the test.
inline Checkpoint openFixture(const QString &name)
{
    Result<Checkpoint> checkpoint = openCheckpoint(fixturePath(name));
    if (!checkpoint)
        qFatal("cannot open fixture %s: %s", qPrintable(name), qPrintable(checkpoint.error().toString()));
    return std::move(checkpoint).value();
}

/// Names in `directory`, hidden ones included (a leftover temporary would be one).
inline QStringList directoryListing(const QString &directory)
{
    return QDir(directory).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace graft::test
