// The torch.save readers (zip >= 1.6 and 2.x, legacy < 1.6) against what torch.load sees.

#include "checkpoint/checkpointopener.h"
#include "hostilebuilders.h"
#include "hostileinput.h"
#include "manifestcheck.h"
#include "tensor/tensorengine.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace graft;

class TestTorchReaders : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesTorch_data();
    void listingMatchesTorch();
    void storagesAreMappedNotCopied();
    void sharedStoragesShareOneSegment();
    void oneRecordReadAsTwoTypes();
    void storageKeysOfEveryForm();
    void foreignObjectsAreSummarised();
    void moduleAttributesAreFoldedPerModule();
    void torchScriptListsStateNotConstants();
    void listingNeverLoadsLibTorch();
};

void TestTorchReaders::listingMatchesTorch_data()
{
    QTest::addColumn<QString>("file");
    for (const char *name : {"resnet18.pth", "tiny_vgg.pth", "wrapped.pth", "dtypes.pth", "views.pth", "params.pth",
                             "one_key.pth", "nested.pth", "empty_tensor.pth", "torch2_style.pth", "shared.pth",
                             "legacy_resnet18.pth", "legacy_dtypes.pth", "legacy_views.pth", "legacy_shared.pth", "legacy_many.pth",
                             "module_resnet18.pth", "module_mobilenet.pth", "module_wrapped.pth", "module_dataparallel.pth",
                             "legacy_module.pth", "script_mobilenet.pt", "script_custom.pt", "trace_custom.pt"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestTorchReaders::listingMatchesTorch()
{
    QFETCH(QString, file);
    test::checkAgainstManifest(file);
}

void TestTorchReaders::storagesAreMappedNotCopied()
{
    Result<Checkpoint> checkpoint = openCheckpoint(test::fixturePath(QStringLiteral("resnet18.pth")));
    QVERIFY(checkpoint.ok());
    const int conv = checkpoint->indexOf(QStringLiteral("conv1.weight"));
    QVERIFY(conv >= 0);
    Result<TensorBytes> bytes = checkpoint->read(conv);
    QVERIFY(bytes.ok());
    QVERIFY(bytes->isZeroCopy());
    const uchar *mapStart = checkpoint->files().front()->data();
    QVERIFY(bytes->data() >= mapStart && bytes->data() < mapStart + checkpoint->files().front()->size());
    // torch.save aligns every storage record on 64 bytes.
    QCOMPARE((bytes->data() - mapStart) % 64, 0);
}

void TestTorchReaders::sharedStoragesShareOneSegment()
{
    Result<Checkpoint> checkpoint = openCheckpoint(test::fixturePath(QStringLiteral("views.pth")));
    QVERIFY(checkpoint.ok());
    const TensorEntry &base = checkpoint->tensors()[checkpoint->indexOf(QStringLiteral("base"))];
    const TensorEntry &column = checkpoint->tensors()[checkpoint->indexOf(QStringLiteral("col"))];
    const TensorEntry &transposed = checkpoint->tensors()[checkpoint->indexOf(QStringLiteral("t"))];
    QCOMPARE(column.segment, base.segment);
    QCOMPARE(transposed.segment, base.segment);
    QVERIFY(!column.isContiguous());
    QVERIFY(!checkpoint->read(checkpoint->indexOf(QStringLiteral("col")))->isZeroCopy());
}

// One storage record named by tensors of two storage classes (a float tensor and an int view of
// its bytes): each gets its class's dtype, a third of the first class shares the first's
// segment, and all read the record's own bytes.
void TestTorchReaders::oneRecordReadAsTwoTypes()
{
    using namespace test::hostile;
    const QByteArray asFloat = tensor(4, 0, {4}, {1});
    QByteArray asInt = asFloat;
    asInt.replace("FloatStorage", "IntStorage");
    QVERIFY(asInt != asFloat);
    QByteArray storage(16, Qt::Uninitialized);
    for (int i = 0; i < storage.size(); ++i)
        storage[i] = char(i * 7 + 1);
    const QByteArray zip = storedZip({{"archive/data.pkl", dictPickle({{"f", asFloat}, {"i", asInt}, {"g", asFloat}})},
                                      {"archive/data/0", storage},
                                      {"archive/version", "3\n"}});
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = test::writeFile(dir, QStringLiteral("two_types.pth"), zip);
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().message));
    const TensorEntry &f = checkpoint->tensors()[size_t(checkpoint->indexOf(QStringLiteral("f")))];
    const TensorEntry &i = checkpoint->tensors()[size_t(checkpoint->indexOf(QStringLiteral("i")))];
    const TensorEntry &g = checkpoint->tensors()[size_t(checkpoint->indexOf(QStringLiteral("g")))];
    QCOMPARE(f.dtype, DType::Float32);
    QCOMPARE(i.dtype, DType::Int32);
    QCOMPARE(g.dtype, DType::Float32);
    QCOMPARE(g.segment, f.segment);
    for (const char *key : {"f", "i", "g"}) {
        Result<TensorBytes> bytes = checkpoint->read(checkpoint->indexOf(QString::fromLatin1(key)));
        QVERIFY(bytes.ok());
        QCOMPARE(bytes->size(), qint64(16));
        QVERIFY(std::memcmp(bytes->data(), storage.constData(), 16) == 0);
    }
}

// torch.save numbers storages 0, 1, 2... and the reader finds those by number; keys of any other
// form (a leading zero, a number past the record count, not a number) are found by name.
void TestTorchReaders::storageKeysOfEveryForm()
{
    using namespace test::hostile;
    const QList<QByteArray> keys{"0", "1", "07", "12345", "key"};
    QList<QPair<QByteArray, QByteArray>> tensors;
    QList<QPair<QByteArray, QByteArray>> members{{"archive/data.pkl", QByteArray()}};
    for (qsizetype k = 0; k < keys.size(); ++k) {
        QByteArray value = tensor(4, 0, {4}, {1});
        value.replace(str("0") + str("cpu"), str(keys[k]) + str("cpu"));
        tensors.append({"t" + QByteArray::number(k), value});
        members.append({"archive/data/" + keys[k], QByteArray(16, char('a' + k))});
    }
    members[0].second = dictPickle(tensors);
    members.append(qMakePair(QByteArray("archive/version"), QByteArray("3\n")));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Result<Checkpoint> checkpoint = openCheckpoint(test::writeFile(dir, QStringLiteral("keys.pth"), storedZip(members)));
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().message));
    for (qsizetype k = 0; k < keys.size(); ++k) {
        Result<TensorBytes> bytes = checkpoint->read(checkpoint->indexOf(QStringLiteral("t%1").arg(k)));
        QVERIFY(bytes.ok());
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(bytes->data()), 16), QByteArray(16, char('a' + k)));
    }
    // A numbered key without its record is refused, naming the record.
    QByteArray missing = tensor(4, 0, {4}, {1});
    missing.replace(str("0") + str("cpu"), str("3") + str("cpu"));
    const QByteArray zip = storedZip({{"archive/data.pkl", dictPickle({{"m", missing}})}, {"archive/data/0", QByteArray(16, 'x')}});
    Result<Checkpoint> refused = openCheckpoint(test::writeFile(dir, QStringLiteral("missing.pth"), zip));
    QVERIFY(!refused.ok());
    QVERIFY2(refused.error().message.contains(QStringLiteral("no record archive/data/3")), qPrintable(refused.error().message));
}

void TestTorchReaders::foreignObjectsAreSummarised()
{
    Result<Checkpoint> checkpoint = openCheckpoint(test::fixturePath(QStringLiteral("wrapped.pth")));
    QVERIFY(checkpoint.ok());
    QHash<QString, OtherEntry> others;
    for (const OtherEntry &other : checkpoint->others())
        others.insert(other.key, other);
    QCOMPARE(others.value(QStringLiteral("epoch")).summary, QStringLiteral("3"));
    QCOMPARE(others.value(QStringLiteral("epoch")).type, QStringLiteral("int"));
    QCOMPARE(others.value(QStringLiteral("args")).type, QStringLiteral("argparse.Namespace"));
    QVERIFY2(others.value(QStringLiteral("args")).summary.contains(QStringLiteral("lr=0.1")),
             qPrintable(others.value(QStringLiteral("args")).summary));
    QCOMPARE(others.value(QStringLiteral("best_acc")).type, QStringLiteral("numpy.float64"));
    QCOMPARE(others.value(QStringLiteral("best_acc")).summary, QStringLiteral("0.75"));
    QCOMPARE(others.value(QStringLiteral("note")).type, QStringLiteral("NoneType"));
}

void TestTorchReaders::moduleAttributesAreFoldedPerModule()
{
    Result<Checkpoint> checkpoint = openCheckpoint(test::fixturePath(QStringLiteral("module_wrapped.pth")));
    QVERIFY(checkpoint.ok());
    QCOMPARE(checkpoint->format(), CheckpointFormat::PyTorchModule);
    QHash<QString, OtherEntry> others;
    for (const OtherEntry &other : checkpoint->others()) {
        QVERIFY2(other.summary.size() <= 200, qPrintable(other.summary));
        others.insert(other.key, other);
    }
    // One entry per module: its class and its public attributes; hooks, _buffers... folded away.
    const OtherEntry conv = others.value(QStringLiteral("model.stem.0"));
    QCOMPARE(conv.type, QStringLiteral("torch.nn.modules.conv.Conv2d"));
    QVERIFY2(conv.summary.startsWith(QStringLiteral("Conv2d(in_channels=3, out_channels=8, kernel_size=(3, 3), stride=(1, 1)")), qPrintable(conv.summary));
    const OtherEntry model = others.value(QStringLiteral("model"));
    QCOMPARE(model.type, QStringLiteral("module_fixtures.UserNet"));
    // The plain tensor attribute is shown, not listed as state; the hook is not an entry.
    QVERIFY2(model.summary.contains(QStringLiteral("anchors=tensor[2, 3]")) && model.summary.contains(QStringLiteral("num_classes=4")),
             qPrintable(model.summary));
    for (const OtherEntry &other : checkpoint->others())
        QVERIFY2(!other.key.contains(QLatin1Char('_')) && !other.key.endsWith(QLatin1String("training")), qPrintable(other.key));
    // The non-persistent buffer and the None parameter / buffer are left out, as state_dict() does.
    QCOMPARE(checkpoint->indexOf(QStringLiteral("model.scratch")), -1);
    QCOMPARE(checkpoint->indexOf(QStringLiteral("model.unused")), -1);
    QCOMPARE(checkpoint->indexOf(QStringLiteral("model.anchors")), -1);
    QVERIFY(checkpoint->indexOf(QStringLiteral("model.class_weights")) >= 0);
}

void TestTorchReaders::torchScriptListsStateNotConstants()
{
    Result<Checkpoint> scripted = openCheckpoint(test::fixturePath(QStringLiteral("script_custom.pt")));
    QVERIFY(scripted.ok());
    QCOMPARE(scripted->format(), CheckpointFormat::TorchScript);
    // A scripted module's state_dict() keeps its non-persistent buffer; a plain tensor attribute is not state.
    QVERIFY(scripted->indexOf(QStringLiteral("cache")) >= 0);
    QCOMPARE(scripted->indexOf(QStringLiteral("extra")), -1);
    QHash<QString, OtherEntry> others;
    for (const OtherEntry &other : scripted->others())
        others.insert(other.key, other);
    QCOMPARE(others.value(QStringLiteral("conv")).type, QStringLiteral("torch.nn.modules.conv.Conv2d"));
    // Final constants of the class source complete the attributes data.pkl holds.
    QVERIFY2(others.value(QStringLiteral("conv")).summary.contains(QStringLiteral("in_channels=3")), qPrintable(others.value(QStringLiteral("conv")).summary));
    QVERIFY2(others.value(QStringLiteral("(root)")).summary.contains(QStringLiteral("extra=tensor[3]")), qPrintable(others.value(QStringLiteral("(root)")).summary));

    Result<Checkpoint> traced = openCheckpoint(test::fixturePath(QStringLiteral("trace_custom.pt")));
    QVERIFY(traced.ok());
    int constants = 0;
    for (const OtherEntry &other : traced->others()) {
        if (!other.key.startsWith(QLatin1String("CONSTANTS.")))
            continue;
        ++constants;
        QCOMPARE(other.type, QStringLiteral("torch.Tensor (constant)"));
    }
    QCOMPARE(constants, 2); // torch.tensor([1.5, 2.5]) and the plain attribute `extra`, captured by tracing
    for (const TensorEntry &tensor : traced->tensors())
        QVERIFY2(!tensor.key.startsWith(QLatin1String("CONSTANTS")), qPrintable(tensor.key));
    QCOMPARE(traced->tensors().size(), scripted->tensors().size());
}

void TestTorchReaders::listingNeverLoadsLibTorch()
{
    // Everything above (every torch fixture opened and read back) ran without the tensor
    // engine: LibTorch's start-up cost is paid only by transforms that need it.
    QVERIFY(!tensorEngineLoaded());
    const QString maps = [] {
        QFile file(QStringLiteral("/proc/self/maps"));
        return file.open(QIODevice::ReadOnly) ? QString::fromLatin1(file.readAll()) : QString();
    }();
    QVERIFY(!maps.isEmpty());
    QVERIFY2(!maps.contains(QStringLiteral("libtorch")) && !maps.contains(QStringLiteral("libc10")), "LibTorch is mapped into a listing process");
}

QTEST_GUILESS_MAIN(TestTorchReaders)
#include "tst_torchreaders.moc"
