// writeCheckpoint()'s format names and the checks it makes before any file exists.

#include "checkpoint/checkpointwriter.h"
#include "writercheck.h"

#include <QTemporaryDir>

using namespace graft;

class TestCheckpointWriter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void formatFromName_data();
    void formatFromName();
    void namesRoundTrip();
    void refusesImpossibleSpecs_data();
    void refusesImpossibleSpecs();
};

void TestCheckpointWriter::formatFromName_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("format"); // -1: unknown
    QTest::newRow("eqx") << "eqx" << int(OutputFormat::Eqx);
    QTest::newRow("safetensors") << "safetensors" << int(OutputFormat::Safetensors);
    QTest::newRow("npz") << "npz" << int(OutputFormat::Npz);
    QTest::newRow("pt") << "pt" << int(OutputFormat::Torch);
    QTest::newRow(".eqx") << ".eqx" << int(OutputFormat::Eqx);
    QTest::newRow(".SafeTensors") << ".SafeTensors" << int(OutputFormat::Safetensors);
    QTest::newRow(".pth") << ".pth" << int(OutputFormat::Torch);
    QTest::newRow(".bin") << ".bin" << int(OutputFormat::Torch);
    QTest::newRow("file name") << "out/model.v2.npz" << int(OutputFormat::Npz);
    QTest::newRow("pth is a suffix, not a name") << "pth" << -1;
    QTest::newRow("bin is a suffix, not a name") << "bin" << -1;
    QTest::newRow(".npy") << ".npy" << -1;
    QTest::newRow("empty") << "" << -1;
    QTest::newRow("trailing dot") << "model." << -1;
}

void TestCheckpointWriter::formatFromName()
{
    QFETCH(QString, text);
    QFETCH(int, format);
    const std::optional<OutputFormat> parsed = outputFormatFromName(text);
    QCOMPARE(parsed ? int(*parsed) : -1, format);
}

void TestCheckpointWriter::namesRoundTrip()
{
    for (OutputFormat format : {OutputFormat::Eqx, OutputFormat::Safetensors, OutputFormat::Npz, OutputFormat::Torch})
        QCOMPARE(outputFormatFromName(outputFormatName(format)), std::optional<OutputFormat>(format));
    QCOMPARE(outputFormatName(OutputFormat::Torch), QStringLiteral("pt"));
}

void TestCheckpointWriter::refusesImpossibleSpecs_data()
{
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("shape");
    QTest::addColumn<QString>("expectedError");
    QTest::newRow("negative dim") << int(OutputFormat::Safetensors) << "3,-1" << "impossible shape [3, -1]";
    QTest::newRow("byte size overflows") << int(OutputFormat::Eqx) << "4294967296,4294967296" << "impossible shape";
    QTest::newRow("65 dims for .npy") << int(OutputFormat::Npz) << QString("1,").repeated(64) + "1" << "65 dimensions";
}

void TestCheckpointWriter::refusesImpossibleSpecs()
{
    QFETCH(int, format);
    QFETCH(QString, shape);
    QFETCH(QString, expectedError);
    Shape dims;
    for (const QString &dim : shape.split(QLatin1Char(',')))
        dims.push_back(dim.toLongLong());
    int produced = 0;
    std::vector<OutputLeaf> leaves{{QStringLiteral("w"), TensorSpec{DType::Float32, dims}, [&produced]() -> Result<TensorBytes> {
                                        ++produced;
                                        return TensorBytes();
                                    }}};
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out"));
    WriteOptions options;
    options.format = OutputFormat(format);
    Result<WriteSummary> summary = writeCheckpoint(output, leaves, options);
    QVERIFY(!summary.ok());
    QCOMPARE(summary.error().file, output);
    QVERIFY2(summary.error().message.contains(expectedError), qPrintable(summary.error().message));
    QVERIFY2(summary.error().message.contains(QStringLiteral("'w'")), qPrintable(summary.error().message));
    QCOMPARE(produced, 0);
    QCOMPARE(test::directoryListing(dir.path()), QStringList());
}

QTEST_GUILESS_MAIN(TestCheckpointWriter)
#include "tst_checkpointwriter.moc"
