// Checkpoint diff (core/checkpointdiff): the crafted pairs of tests/fixtures/diff_fixtures.py
// (one tensor nudged, one scaled, one removed, one added, one reshaped, one retyped) give exact
// lists and figures — from the construction and from numpy (tests/python/tensor_stats.py);
// comparing through a mapping: the example converted to .eqx/.safetensors diffs to zero against
// its .pth, a nudged output reports exactly that leaf, and a Flax layout (transposes) compares
// through the tensor engine. Then tolerances, progress/cancel and errors.

#include "mapping/automatcher.h"
#include "diff/checkpointdiff.h"
#include "checkpoint/checkpointopener.h"
#include "mapping/conversionplan.h"
#include "mapping/profile.h"
#include "hostilebuilders.h"
#include "hostileinput.h"
#include "statscheck.h"
#include "writercheck.h"

#include <QTemporaryDir>

#include <cstring>

using namespace graft;
using namespace graft::test;

namespace {

QString diffFixture(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/diff/") + name; }
QString example(const QString &name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + name; }

Checkpoint openOrDie(const QString &path)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!checkpoint)
        qFatal("%s", qPrintable(checkpoint.error().toString()));
    return *checkpoint;
}

const DiffRow *rowOf(const CheckpointDiff &diff, const QString &key)
{
    for (const DiffRow &row : diff.compared) {
        if (row.key == key)
            return &row;
    }
    return nullptr;
}

QJsonObject entryOf(const QJsonObject &figures, const char *list, const QString &key)
{
    for (const QJsonValue &value : figures.value(QLatin1String(list)).toArray()) {
        const QJsonObject entry = value.toObject();
        if (entry.value(QStringLiteral("a")).toString() == key || entry.value(QStringLiteral("key")).toString() == key)
            return entry;
    }
    return {};
}

/// The example's .pth written into the skeleton's layout as `format`; `nudgeKey`'s first
/// float32 element gets + 1e-3 on the way out (a conversion gone slightly wrong).
QString convertExample(const QTemporaryDir &dir, OutputFormat format, const QString &nudgeKey = QString())
{
    const Checkpoint source = openOrDie(example(QStringLiteral("tiny_vgg.pth")));
    const Checkpoint target = openOrDie(example(QStringLiteral("tiny_vgg.skeleton.json")));
    Result<ConversionPlan> plan = planConversion(source, target, matchCheckpoints(source, target, {}), false);
    if (!plan)
        qFatal("%s", qPrintable(plan.error().toString()));
    for (OutputLeaf &leaf : plan->leaves) {
        if (leaf.key != nudgeKey)
            continue;
        leaf.produce = [produce = leaf.produce]() -> Result<TensorBytes> {
            Result<TensorBytes> bytes = produce();
            if (!bytes)
                return bytes;
            std::vector<uchar> copy(bytes->data(), bytes->data() + bytes->size());
            float first;
            std::memcpy(&first, copy.data(), 4);
            first += 1e-3f;
            std::memcpy(copy.data(), &first, 4);
            return TensorBytes::owned(std::move(copy));
        };
    }
    const QString path = dir.filePath(QStringLiteral("tiny_vgg_out.") + outputFormatName(format));
    WriteOptions options;
    options.format = format;
    Result<WriteSummary> written = writeCheckpoint(path, plan->leaves, options);
    if (!written)
        qFatal("%s", qPrintable(written.error().toString()));
    return path;
}

/// A torch zip holding one float32 tensor 'w' of `n` values i * scale that fills its record;
/// with `flipAt` >= 0, that byte of the record is flipped after its CRC-32 was computed.
QByteArray oneRecordTorchZip(qint64 n, float scale, qint64 flipAt = -1)
{
    QByteArray storage(n * 4, Qt::Uninitialized);
    for (qint64 i = 0; i < n; ++i) {
        const float value = float(i) * scale;
        std::memcpy(storage.data() + i * 4, &value, 4);
    }
    QByteArray zip = hostile::storedZip({{"archive/data.pkl", hostile::dictPickle({{"w", hostile::tensor(n, 0, {n}, {1})}})},
                                         {"archive/data/0", storage},
                                         {"archive/version", "3\n"}});
    if (flipAt >= 0) {
        const qint64 start = zip.indexOf("archive/data/0") + qint64(sizeof("archive/data/0") - 1); // after the local header
        zip[start + flipAt] = char(zip[start + flipAt] ^ 0x10);
    }
    return zip;
}

/// The options a profile saved from mapping the example onto its skeleton re-applies.
MatchOptions exampleProfileOptions()
{
    const Checkpoint source = openOrDie(example(QStringLiteral("tiny_vgg.pth")));
    const Checkpoint target = openOrDie(example(QStringLiteral("tiny_vgg.skeleton.json")));
    return profileFromResult(matchCheckpoints(source, target, {}), source, target, {}).toMatchOptions();
}

} // namespace

class TestCheckpointDiff : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QHash<QString, QJsonObject> m_pairFigures;  ///< B file → numpy pair figures of a.pth vs B
    QHash<QString, QJsonObject> m_statistics;   ///< file → numpy statistics

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString a = diffFixture(QStringLiteral("a.pth"));
        const QStringList others = {diffFixture(QStringLiteral("b.pth")), diffFixture(QStringLiteral("b.safetensors"))};
        QStringList arguments;
        for (const QString &b : others)
            arguments << QStringLiteral("diff") << a << b << QStringLiteral("+");
        for (const QString &file : QStringList{a} + others)
            arguments << QStringLiteral("stats") << file << QStringLiteral("+");
        arguments.removeLast();
        const QJsonArray results = numpyFigures(arguments).value(QStringLiteral("results")).toArray();
        QCOMPARE(results.size(), 5);
        m_pairFigures.insert(others[0], results.at(0).toObject());
        m_pairFigures.insert(others[1], results.at(1).toObject());
        m_statistics.insert(a, results.at(2).toObject());
        m_statistics.insert(others[0], results.at(3).toObject());
        m_statistics.insert(others[1], results.at(4).toObject());
    }

    void craftedPair_data()
    {
        QTest::addColumn<QString>("fileB");
        QTest::newRow("torch") << diffFixture(QStringLiteral("b.pth"));
        QTest::newRow("safetensors") << diffFixture(QStringLiteral("b.safetensors"));
    }

    void craftedPair()
    {
        QFETCH(QString, fileB);
        const QString fileA = diffFixture(QStringLiteral("a.pth"));
        Result<CheckpointDiff> diff = diffCheckpoints(openOrDie(fileA), openOrDie(fileB));
        QVERIFY2(diff.ok(), diff.ok() ? "" : qPrintable(diff.error().toString()));

        QCOMPARE(diff->onlyInA, QStringList{QStringLiteral("removed.bias")});
        QCOMPARE(diff->onlyInB, QStringList{QStringLiteral("added.bias")});
        QCOMPARE(diff->shapeChanged.size(), size_t(1));
        QCOMPARE(diff->shapeChanged[0].key, QStringLiteral("reshaped.weight"));
        QCOMPARE(diff->shapeChanged[0].a, (Shape{2, 6}));
        QCOMPARE(diff->shapeChanged[0].b, (Shape{6, 2}));
        QCOMPARE(diff->dtypeChanged.size(), size_t(1));
        QCOMPARE(diff->dtypeChanged[0].key, QStringLiteral("retyped.weight"));
        QCOMPARE(diff->dtypeChanged[0].a, DType::Float32);
        QCOMPARE(diff->dtypeChanged[0].b, DType::Float16);
        QVERIFY(diff->kept.isEmpty());
        QVERIFY(!diff->throughMapping);

        QStringList keys;
        for (const DiffRow &row : diff->compared)
            keys << row.key;
        QCOMPARE(keys.size(), 6);
        // Largest relative difference first: ×2 gives exactly 1; identical rows last, file order.
        QCOMPARE(keys.first(), QStringLiteral("scaled.weight"));
        QCOMPARE(keys.mid(3), (QStringList{QStringLiteral("same.weight"), QStringLiteral("ints.index"), QStringLiteral("nan.mixed")}));
        for (size_t k = 1; k < diff->compared.size(); ++k)
            QVERIFY(diff->compared[k - 1].pair.relL2 >= diff->compared[k].pair.relL2);
        QCOMPARE(diff->differingRows(), 3);
        QVERIFY(!diff->equal());

        // Identical bytes: equal with no difference, NaN or not.
        for (const QString &key : keys.mid(3)) {
            const DiffRow *row = rowOf(*diff, key);
            QVERIFY(row->pair.identical && row->equal);
            QCOMPARE(row->pair.maxAbsDiff, 0.0);
            QCOMPARE(row->pair.cosine, 1.0);
        }
        QCOMPARE(rowOf(*diff, QStringLiteral("nan.mixed"))->a->nan, qint64(1));

        // From the construction.
        const DiffRow *nudged = rowOf(*diff, QStringLiteral("nudged.weight"));
        QCOMPARE(nudged->pair.differing, qint64(1));
        QCOMPARE(nudged->pair.count, qint64(20));
        QVERIFY(std::fabs(nudged->pair.maxAbsDiff - 1e-3) < 1e-6); // + 1e-3 in float32
        QVERIFY(!nudged->equal);
        const DiffRow *scaled = rowOf(*diff, QStringLiteral("scaled.weight"));
        GRAFT_COMPARE_FIGURE(scaled->pair.relL2, 1.0);
        GRAFT_COMPARE_FIGURE(scaled->pair.cosine, 1.0);
        QCOMPARE(scaled->pair.differing, qint64(12));
        GRAFT_COMPARE_FIGURE(scaled->b->l2, 2.0 * scaled->a->l2);
        GRAFT_COMPARE_FIGURE(scaled->pair.maxAbsDiff, scaled->a->maxAbs);
        const DiffRow *retyped = rowOf(*diff, QStringLiteral("retyped.weight"));
        QCOMPARE(retyped->aDtype, DType::Float32);
        QCOMPARE(retyped->dtype, DType::Float16);
        QVERIFY(retyped->pair.maxAbsDiff > 0.0 && retyped->pair.maxAbsDiff < 1e-3); // float16 rounding

        // From numpy: every figure of the differing rows, and both sides' statistics.
        for (const QString &key : keys.mid(0, 3)) {
            const DiffRow *row = rowOf(*diff, key);
            comparePair(row->pair, entryOf(m_pairFigures.value(fileB), "pairs", key), 0);
            compareStatistics(*row->a, entryOf(m_statistics.value(fileA), "tensors", key).value(QStringLiteral("stats")).toObject());
            compareStatistics(*row->b, entryOf(m_statistics.value(fileB), "tensors", key).value(QStringLiteral("stats")).toObject());
            if (QTest::currentTestFailed())
                return;
        }
    }

    void identicalCopy()
    {
        Result<CheckpointDiff> diff = diffCheckpoints(openOrDie(diffFixture(QStringLiteral("a.pth"))), openOrDie(diffFixture(QStringLiteral("a_copy.pth"))));
        QVERIFY(diff.ok());
        QVERIFY(diff->equal());
        QCOMPARE(diff->compared.size(), size_t(8));
        for (const DiffRow &row : diff->compared)
            QVERIFY2(row.pair.identical && row.equal, qPrintable(row.key));
    }

    // A diff checks the CRC-32 of every record it reads in its own pass over the bytes (both
    // the statistics' pass and the pass that finds identical tensors): a flipped byte in the
    // third of four 64k-value chunks is refused, naming the file and the record; intact records
    // pass, so the chunks' CRCs are joined right.
    void corruptRecordIsRefused_data()
    {
        QTest::addColumn<QByteArray>("bytesA");
        QTest::addColumn<QByteArray>("bytesB");
        QTest::addColumn<int>("corruptSide"); // 0: none, 1: A, 2: B
        constexpr qint64 n = 200'000;
        constexpr qint64 flip = 150'000 * 4 + 1;
        QTest::newRow("intact, values differ") << oneRecordTorchZip(n, 1.0f) << oneRecordTorchZip(n, 2.0f) << 0;
        QTest::newRow("intact, identical") << oneRecordTorchZip(n, 1.0f) << oneRecordTorchZip(n, 1.0f) << 0;
        QTest::newRow("A corrupt, values differ") << oneRecordTorchZip(n, 1.0f, flip) << oneRecordTorchZip(n, 2.0f) << 1;
        QTest::newRow("B corrupt, values differ") << oneRecordTorchZip(n, 1.0f) << oneRecordTorchZip(n, 2.0f, flip) << 2;
        QTest::newRow("both corrupt alike (identical bytes)") << oneRecordTorchZip(n, 1.0f, flip) << oneRecordTorchZip(n, 1.0f, flip) << 1;
        QTest::newRow("B corrupt, A identical to B's intact bytes") << oneRecordTorchZip(n, 1.0f) << oneRecordTorchZip(n, 1.0f, flip) << 2;
    }

    void corruptRecordIsRefused()
    {
        QFETCH(QByteArray, bytesA);
        QFETCH(QByteArray, bytesB);
        QFETCH(int, corruptSide);
        const QString pathA = writeFile(m_dir, QStringLiteral("crc_a.pth"), bytesA);
        const QString pathB = writeFile(m_dir, QStringLiteral("crc_b.pth"), bytesB);
        const Checkpoint a = openOrDie(pathA);
        const Checkpoint b = openOrDie(pathB);
        Result<CheckpointDiff> diff = diffCheckpoints(a, b);
        if (corruptSide == 0) {
            QVERIFY2(diff.ok(), diff.ok() ? "" : qPrintable(diff.error().toString()));
            QCOMPARE(diff->compared.size(), size_t(1));
            // The check was made in the diff's pass and remembered: nothing is left to check.
            Result<TensorBytes> again = a.read(0, Checkpoint::RecordCheck::ByReader);
            QVERIFY(again.ok());
            QCOMPARE(again->segmentToCheck(), -1);
            return;
        }
        QVERIFY(!diff.ok());
        QCOMPARE(diff.error().file, corruptSide == 1 ? pathA : pathB);
        QVERIFY2(diff.error().message.startsWith(QStringLiteral("tensor 'w': record 'archive/data/0' is corrupt: its CRC-32 is ")),
                 qPrintable(diff.error().message));
    }

    void tolerance_data()
    {
        QTest::addColumn<double>("rtol");
        QTest::addColumn<double>("atol");
        QTest::addColumn<bool>("equal");
        QTest::newRow("exact") << 0.0 << 0.0 << false;
        QTest::newRow("atol 1e-2") << 0.0 << 1e-2 << true;
        QTest::newRow("atol 1e-4") << 0.0 << 1e-4 << false;
        QTest::newRow("rtol 1e-5 atol 1e-8") << 1e-5 << 1e-8 << false;
    }

    void tolerance()
    {
        QFETCH(double, rtol);
        QFETCH(double, atol);
        QFETCH(bool, equal);
        DiffOptions options;
        options.tolerance = {rtol, atol};
        Result<CheckpointDiff> diff = diffCheckpoints(openOrDie(diffFixture(QStringLiteral("a.pth"))), openOrDie(diffFixture(QStringLiteral("a_nudged.pth"))), options);
        QVERIFY(diff.ok());
        QCOMPARE(diff->equal(), equal);
        QCOMPARE(diff->differingRows(), equal ? 0 : 1);
        QCOMPARE(diff->compared.front().key, QStringLiteral("nudged.weight"));
        QCOMPARE(diff->compared.front().pair.differing, qint64(1)); // the figures do not depend on the tolerance
    }

    void throughMapping_data()
    {
        QTest::addColumn<OutputFormat>("format");
        QTest::addColumn<bool>("withProfile");
        QTest::addColumn<QString>("biasKey");
        QTest::newRow("eqx") << OutputFormat::Eqx << false << QStringLiteral("[1]");
        QTest::newRow("eqx, profile") << OutputFormat::Eqx << true << QStringLiteral("[1]");
        QTest::newRow("safetensors") << OutputFormat::Safetensors << false << QStringLiteral(".features[0].bias");
        QTest::newRow("safetensors, profile") << OutputFormat::Safetensors << true << QStringLiteral(".features[0].bias");
    }

    void throughMapping()
    {
        QFETCH(OutputFormat, format);
        QFETCH(bool, withProfile);
        QFETCH(QString, biasKey);
        const QString output = convertExample(m_dir, format);
        const Checkpoint source = openOrDie(example(QStringLiteral("tiny_vgg.pth")));
        const Checkpoint converted = openOrDie(output);
        DiffOptions options;
        options.mapping = matchCheckpoints(source, converted, withProfile ? exampleProfileOptions() : MatchOptions());
        Result<CheckpointDiff> diff = diffCheckpoints(source, converted, options);
        QVERIFY2(diff.ok(), diff.ok() ? "" : qPrintable(diff.error().toString()));
        QVERIFY(diff->throughMapping);
        QVERIFY(diff->onlyInA.isEmpty());
        QVERIFY2(diff->onlyInB.isEmpty(), qPrintable(diff->onlyInB.join(QLatin1Char(' '))));
        QVERIFY(diff->shapeChanged.empty() && diff->dtypeChanged.empty());
        QCOMPARE(diff->kept.size(), 6); // MaxPool init, Dropout p/inference: the target's own
        QCOMPARE(diff->compared.size(), size_t(12));
        for (const DiffRow &row : diff->compared) {
            QVERIFY2(row.equal && row.pair.identical, qPrintable(row.key));
            QCOMPARE(row.pair.maxAbsDiff, 0.0);
            QCOMPARE(row.pair.relL2, 0.0);
            QCOMPARE(row.a->l2, row.b->l2);
        }
        QCOMPARE(rowOf(*diff, biasKey)->source, QStringLiteral("features.0.bias[:, None, None]"));
        QCOMPARE(rowOf(*diff, biasKey)->shape, (Shape{8, 1, 1}));
        QVERIFY(diff->equal());
    }

    void nudgedOutput_data()
    {
        QTest::addColumn<OutputFormat>("format");
        QTest::addColumn<QString>("key");
        QTest::newRow("safetensors") << OutputFormat::Safetensors << QStringLiteral(".classifier[0].weight");
        QTest::newRow("eqx") << OutputFormat::Eqx << QStringLiteral("[8]");
    }

    void nudgedOutput()
    {
        QFETCH(OutputFormat, format);
        QFETCH(QString, key);
        QTemporaryDir dir;
        const QString output = convertExample(dir, format, QStringLiteral(".classifier[0].weight"));
        const Checkpoint source = openOrDie(example(QStringLiteral("tiny_vgg.pth")));
        const Checkpoint converted = openOrDie(output);
        DiffOptions options;
        options.mapping = matchCheckpoints(source, converted, {});
        Result<CheckpointDiff> diff = diffCheckpoints(source, converted, options);
        QVERIFY(diff.ok());
        QVERIFY(!diff->equal());
        QCOMPARE(diff->differingRows(), 1);
        const DiffRow &first = diff->compared.front();
        QCOMPARE(first.key, key);
        QCOMPARE(first.source, QStringLiteral("classifier.0.weight"));
        QCOMPARE(first.pair.differing, qint64(1));
        QCOMPARE(first.pair.count, qint64(32 * 64));
        QVERIFY(std::fabs(first.pair.maxAbsDiff - 1e-3) < 1e-6);
        QVERIFY(first.pair.relL2 > 0.0);
        for (size_t k = 1; k < diff->compared.size(); ++k)
            QVERIFY(diff->compared[k].pair.identical);
    }

    // Flax layout: kernels are transposed by the tensor engine before comparing.
    void transposedThroughMapping_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<int>("differing");
        QTest::newRow("the correct result") << QStringLiteral("mlp_flax_expected.npz") << 0;
        QTest::newRow("random weights") << QStringLiteral("mlp_flax.npz") << 8;
    }

    void transposedThroughMapping()
    {
        QFETCH(QString, target);
        QFETCH(int, differing);
        const Checkpoint source = openOrDie(QStringLiteral(GRAFT_FIXTURE_DIR "/mapping/mlp.pth"));
        const Checkpoint converted = openOrDie(QStringLiteral(GRAFT_FIXTURE_DIR "/mapping/") + target);
        DiffOptions options;
        options.mapping = matchCheckpoints(source, converted, {});
        Result<CheckpointDiff> diff = diffCheckpoints(source, converted, options);
        QVERIFY2(diff.ok(), diff.ok() ? "" : qPrintable(diff.error().toString()));
        QCOMPARE(diff->compared.size(), size_t(8));
        QCOMPARE(diff->differingRows(), differing);
        const DiffRow *kernel = rowOf(*diff, QStringLiteral("params/conv/kernel"));
        QVERIFY(kernel);
        QCOMPARE(kernel->source, QStringLiteral("conv.weight.transpose(2, 3, 1, 0)"));
        if (differing == 0)
            QCOMPARE(kernel->pair.maxAbsDiff, 0.0);
    }

    void progressAndCancel()
    {
        const Checkpoint a = openOrDie(diffFixture(QStringLiteral("a.pth"))), b = openOrDie(diffFixture(QStringLiteral("b.pth")));
        DiffOptions options;
        std::vector<std::pair<qint64, qint64>> calls;
        options.progress = [&calls](qint64 done, qint64 total) {
            calls.emplace_back(done, total);
            return true;
        };
        QVERIFY(diffCheckpoints(a, b, options).ok());
        const qint64 total = 12 + 20 + 12 + 9 + 10 + 5; // every compared row's values
        QVERIFY(!calls.empty());
        QCOMPARE(calls.back().first, total);
        for (size_t k = 0; k < calls.size(); ++k) {
            QCOMPARE(calls[k].second, total);
            if (k > 0)
                QVERIFY(calls[k].first >= calls[k - 1].first);
        }

        options.progress = [](qint64, qint64) { return false; };
        Result<CheckpointDiff> cancelled = diffCheckpoints(a, b, options);
        QVERIFY(!cancelled.ok());
        QCOMPARE(cancelled.error().message, QStringLiteral("the diff was cancelled"));
    }

    void mappingNamingAMissingSourceFails()
    {
        const Checkpoint a = openOrDie(diffFixture(QStringLiteral("a.pth"))), b = openOrDie(diffFixture(QStringLiteral("b.pth")));
        MappingResult mapping;
        Mapping ghost;
        ghost.target = QStringLiteral("same.weight");
        ghost.sources = {QStringLiteral("ghost.weight")};
        ghost.status = MatchStatus::Exact;
        mapping.mappings.push_back(ghost);
        DiffOptions options;
        options.mapping = mapping;
        Result<CheckpointDiff> diff = diffCheckpoints(a, b, options);
        QVERIFY(!diff.ok());
        QCOMPARE(diff.error().file, a.path());
        QVERIFY2(diff.error().message.contains(QLatin1String("'ghost.weight'")), qPrintable(diff.error().message));
    }

    // complex64 → float32 of the same shape: a dtype change, not compared (values don't line up).
    void complexAgainstRealIsNotCompared()
    {
        const Checkpoint a = openOrDie(QStringLiteral(GRAFT_FIXTURE_DIR "/dtypes.pth"));
        // safetensors has no complex128: that one stays behind (only in A).
        std::vector<OutputLeaf> leaves = leavesOf(a, [](const TensorEntry &tensor) { return tensor.dtype != DType::Complex128; });
        for (OutputLeaf &leaf : leaves) {
            if (leaf.key == QLatin1String("complex64")) {
                leaf.spec.dtype = DType::Float32;
                leaf.produce = [] { return Result<TensorBytes>(TensorBytes::owned(std::vector<uchar>(12 * 4, 0))); };
            }
        }
        const QString path = m_dir.filePath(QStringLiteral("retyped_complex.safetensors"));
        WriteOptions writeOptions;
        QVERIFY(writeCheckpoint(path, leaves, writeOptions).ok());
        Result<CheckpointDiff> diff = diffCheckpoints(a, openOrDie(path));
        QVERIFY(diff.ok());
        QCOMPARE(diff->dtypeChanged.size(), size_t(1));
        QCOMPARE(diff->dtypeChanged[0].key, QStringLiteral("complex64"));
        QVERIFY(!rowOf(*diff, QStringLiteral("complex64")));
        QCOMPARE(diff->onlyInA, QStringList{QStringLiteral("complex128")});
        QCOMPARE(diff->compared.size(), a.tensors().size() - 2);
        QCOMPARE(diff->differingRows(), 0); // the rest went through safetensors unchanged
    }
};

QTEST_GUILESS_MAIN(TestCheckpointDiff)
#include "tst_checkpointdiff.moc"
