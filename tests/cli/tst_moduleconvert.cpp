// A pickled whole model (torch.save(model)) and a TorchScript archive as conversion sources:
// `graft-cli convert` from either must write the very bytes it writes from the model's
// state_dict, and those values must be the ones torch saved (the fixture manifests' hashes).

#include "clirun.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace graft;

class TestModuleConvert : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void convertsLikeTheStateDict_data();
    void convertsLikeTheStateDict();
    void inspectJsonReportsTheFormat_data();
    void inspectJsonReportsTheFormat();

private:
    QTemporaryDir m_dir;
};

void TestModuleConvert::convertsLikeTheStateDict_data()
{
    QTest::addColumn<QString>("source");    // a whole model
    QTest::addColumn<QString>("stateDict"); // the same model's state_dict, saved by torch
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("suffix");
    QTest::newRow("pickled TinyVGG onto its Equinox skeleton")
        << "module_tiny_vgg.pth" << "tiny_vgg.pth" << "tiny_vgg.skeleton.json" << "eqx";
    QTest::newRow("scripted TinyVGG onto its Equinox skeleton")
        << "script_tiny_vgg.pt" << "tiny_vgg.pth" << "tiny_vgg.skeleton.json" << "eqx";
    QTest::newRow("pickled resnet18 (a user's class) to safetensors")
        << "module_resnet18.pth" << "legacy_resnet18.pth" << "legacy_resnet18.pth" << "safetensors";
    QTest::newRow("scripted mobilenet_v3_small to safetensors")
        << "script_mobilenet.pt" << "module_mobilenet.pth" << "module_mobilenet.pth" << "safetensors";
}

void TestModuleConvert::convertsLikeTheStateDict()
{
    QFETCH(QString, source);
    QFETCH(QString, stateDict);
    QFETCH(QString, target);
    QFETCH(QString, suffix);
    const QString fromModule = m_dir.filePath(QStringLiteral("from_module.") + suffix);
    const QString fromStateDict = m_dir.filePath(QStringLiteral("from_state_dict.") + suffix);
    CliRun run = runCli({QStringLiteral("convert"), test::fixturePath(source), test::fixturePath(target), QStringLiteral("-o"), fromModule});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    run = runCli({QStringLiteral("convert"), test::fixturePath(stateDict), test::fixturePath(target), QStringLiteral("-o"), fromStateDict});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));

    // The same file, but for safetensors' __metadata__, which names the source file.
    const QByteArray written = test::readBytes(fromModule);
    const QByteArray reference = test::readBytes(fromStateDict);
    QVERIFY(written.size() > 1000);
    if (suffix == QLatin1String("eqx"))
        QVERIFY2(written == reference, "converting the whole model wrote other bytes than its state_dict");
    Result<Checkpoint> output = openCheckpoint(fromModule);
    QVERIFY2(output.ok(), output.ok() ? "" : qPrintable(output.error().toString()));
    Result<Checkpoint> expected = openCheckpoint(fromStateDict);
    QVERIFY2(expected.ok(), expected.ok() ? "" : qPrintable(expected.error().toString()));
    QCOMPARE(output->tensors().size(), expected->tensors().size());
    for (size_t i = 0; i < output->tensors().size(); ++i) {
        QCOMPARE(output->tensors()[i].key, expected->tensors()[i].key);
        Result<TensorBytes> ours = output->read(int(i));
        Result<TensorBytes> theirs = expected->read(int(i));
        QVERIFY(ours.ok() && theirs.ok());
        QVERIFY2(QByteArrayView(ours->data(), ours->size()) == QByteArrayView(theirs->data(), theirs->size()), qPrintable(output->tensors()[i].key));
    }

    // And the values are torch's: every tensor of the output hashes as the source manifest says.
    if (suffix != QLatin1String("safetensors"))
        return; // an .eqx reshapes conv biases; the comparisons above cover it
    const QJsonObject manifest = test::loadManifest(test::fixturePath(source));
    int checked = 0;
    for (const QJsonValue &value : manifest.value(QStringLiteral("tensors")).toArray()) {
        const QJsonObject want = value.toObject();
        const int index = output->indexOf(want.value(QStringLiteral("key")).toString());
        QVERIFY2(index >= 0, qPrintable(want.value(QStringLiteral("key")).toString()));
        Result<TensorBytes> bytes = output->read(index);
        QVERIFY(bytes.ok());
        QCOMPARE(test::sha256Hex(*bytes), want.value(QStringLiteral("sha256")).toString());
        ++checked;
    }
    QCOMPARE(checked, int(output->tensors().size()));
}

void TestModuleConvert::inspectJsonReportsTheFormat_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("firstKey");
    QTest::newRow("pickled model") << "module_mobilenet.pth" << "pytorch-module" << "features.0.0.weight";
    QTest::newRow("pickled model, legacy format") << "legacy_module.pth" << "pytorch-module" << "temperature";
    QTest::newRow("TorchScript") << "script_mobilenet.pt" << "torchscript" << "features.0.0.weight";
    QTest::newRow("state_dict") << "tiny_vgg.pth" << "pytorch-zip" << "features.0.weight";
}

void TestModuleConvert::inspectJsonReportsTheFormat()
{
    QFETCH(QString, file);
    QFETCH(QString, format);
    QFETCH(QString, firstKey);
    const CliRun run = runCli({QStringLiteral("inspect"), test::fixturePath(file), QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject root = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(root.value(QStringLiteral("format")).toString(), format);
    const QJsonArray tensors = root.value(QStringLiteral("tensors")).toArray();
    QVERIFY(!tensors.isEmpty());
    QCOMPARE(tensors.first().toObject().value(QStringLiteral("key")).toString(), firstKey);
    for (const QJsonValue &value : tensors) {
        const QString key = value.toObject().value(QStringLiteral("key")).toString();
        QVERIFY2(!key.contains(QLatin1String("_modules")) && !key.contains(QLatin1String("_parameters")), qPrintable(key));
    }
}

QTEST_GUILESS_MAIN(TestModuleConvert)
#include "tst_moduleconvert.moc"
