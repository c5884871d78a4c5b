// planConversion at scale and its leaves' lifetime: a 100k-leaf checkpoint, written with
// Graft's own writer, converts onto itself (open, match, plan, write, read back) — it must
// simply finish (the ctest TIMEOUT guards it: before the index was shared, each leaf copied the
// whole index and 20k leaves took minutes); the output holds every leaf with its values. A plan's leaves keep producing after the checkpoints they came from are gone (the
// GUI hands them to a background job).

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "mapping/automatcher.h"
#include "mapping/conversionplan.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace graft;

namespace {

constexpr int kLeaves = 100000;

QString keyOf(int i) { return QStringLiteral("blocks.%1.weight").arg(i); }

/// Leaf i: float32 [2] = {i, -0.5 i}, distinct per leaf.
std::vector<float> valuesOf(int i) { return {static_cast<float>(i), -0.5f * static_cast<float>(i)}; }

std::vector<OutputLeaf> generatedLeaves(int count)
{
    std::vector<OutputLeaf> leaves;
    leaves.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
        leaves.push_back({keyOf(i), TensorSpec{DType::Float32, {2}}, [i]() -> Result<TensorBytes> {
                              const std::vector<float> values = valuesOf(i);
                              std::vector<uchar> bytes(values.size() * sizeof(float));
                              std::memcpy(bytes.data(), values.data(), bytes.size());
                              return TensorBytes::owned(std::move(bytes));
                          }});
    }
    return leaves;
}

std::vector<float> floatsOf(const Checkpoint &checkpoint, int index)
{
    Result<TensorBytes> bytes = checkpoint.read(index);
    if (!bytes)
        return {};
    std::vector<float> values(static_cast<size_t>(bytes->size()) / sizeof(float));
    std::memcpy(values.data(), bytes->data(), values.size() * sizeof(float));
    return values;
}

} // namespace

class TestConversionPlan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void convertsHundredThousandLeavesOntoItself_data();
    void convertsHundredThousandLeavesOntoItself();
    void leavesOutliveTheirCheckpoints();
    void loadingSnippetNamesThePathWritten();
};

void TestConversionPlan::loadingSnippetNamesThePathWritten()
{
    // The path as written (not its bare file name), quoted for Python.
    const QString snippet = eqxLoadingSnippet(QStringLiteral("out/run 1/model \"v2\".eqx"));
    QVERIFY2(snippet.contains(QStringLiteral("eqx.tree_deserialise_leaves(\"out/run 1/model \\\"v2\\\".eqx\", like=model)")), qPrintable(snippet));
    QVERIFY(eqxLoadingSnippet(QStringLiteral("C:\\m.eqx")).contains(QStringLiteral("\"C:\\\\m.eqx\"")));
}

void TestConversionPlan::convertsHundredThousandLeavesOntoItself_data()
{
    QTest::addColumn<int>("format");
    QTest::newRow("pt") << static_cast<int>(OutputFormat::Torch);
    QTest::newRow("safetensors") << static_cast<int>(OutputFormat::Safetensors);
}

void TestConversionPlan::convertsHundredThousandLeavesOntoItself()
{
    QFETCH(int, format);
    const auto outputFormat = static_cast<OutputFormat>(format);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString suffix = QLatin1Char('.') + outputFormatName(outputFormat);
    const QString inputPath = dir.filePath(QStringLiteral("keys") + suffix);
    WriteOptions options;
    options.format = outputFormat;
    Result<WriteSummary> written = writeCheckpoint(inputPath, generatedLeaves(kLeaves), options);
    QVERIFY2(written, qPrintable(written ? QString() : written.error().toString()));
    QCOMPARE(written->leaves, kLeaves);

    Result<Checkpoint> source = openCheckpoint(inputPath);
    QVERIFY2(source, qPrintable(source ? QString() : source.error().toString()));
    Result<Checkpoint> target = openCheckpoint(inputPath);
    QVERIFY(target);
    QCOMPARE(static_cast<int>(source->tensors().size()), kLeaves);

    const MappingResult mapping = matchCheckpoints(*source, *target, {});
    QVERIFY(mapping.complete());
    Result<ConversionPlan> plan = planConversion(*source, *target, mapping, false);
    QVERIFY2(plan, qPrintable(plan ? QString() : plan.error().toString()));
    QCOMPARE(static_cast<int>(plan->leaves.size()), kLeaves);
    QCOMPARE(plan->fromSource, kLeaves);
    QCOMPARE(plan->keptFromTarget, 0);

    const QString outputPath = dir.filePath(QStringLiteral("converted") + suffix);
    Result<WriteSummary> converted =
        writeCheckpoint(outputPath, plan->leaves, combinedWriteOptions(outputFormat, *source, inputPath, *target, inputPath));
    QVERIFY2(converted, qPrintable(converted ? QString() : converted.error().toString()));
    QCOMPARE(converted->leaves, kLeaves);

    Result<Checkpoint> output = openCheckpoint(outputPath);
    QVERIFY2(output, qPrintable(output ? QString() : output.error().toString()));
    QCOMPARE(static_cast<int>(output->tensors().size()), kLeaves);
    for (int i : {0, 1, 4097, 54321, kLeaves - 1}) {
        const int index = output->indexOf(keyOf(i)); // safetensors lists its keys sorted
        QVERIFY2(index >= 0, qPrintable(keyOf(i)));
        const TensorEntry &entry = output->tensors()[static_cast<size_t>(index)];
        QCOMPARE(entry.dtype, DType::Float32);
        QCOMPARE(entry.shape, Shape{2});
        QCOMPARE(floatsOf(*output, index), valuesOf(i));
    }
}

void TestConversionPlan::leavesOutliveTheirCheckpoints()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("small.safetensors"));
    QVERIFY(writeCheckpoint(path, generatedLeaves(5), WriteOptions{}));
    std::vector<OutputLeaf> leaves;
    {
        Result<Checkpoint> source = openCheckpoint(path);
        Result<Checkpoint> target = openCheckpoint(path);
        QVERIFY(source && target);
        Result<ConversionPlan> plan = planConversion(*source, *target, matchCheckpoints(*source, *target, {}), false);
        QVERIFY(plan);
        leaves = std::move(plan->leaves);
    } // the checkpoints the plan came from are gone: the leaves hold their own handles
    QCOMPARE(static_cast<int>(leaves.size()), 5);
    for (int i = 0; i < 5; ++i) {
        Result<TensorBytes> bytes = leaves[static_cast<size_t>(i)].produce();
        QVERIFY(bytes);
        QCOMPARE(bytes->size(), qint64(2 * sizeof(float)));
        std::vector<float> values(2);
        std::memcpy(values.data(), bytes->data(), 2 * sizeof(float));
        QCOMPARE(values, valuesOf(i));
    }
}

QTEST_GUILESS_MAIN(TestConversionPlan)
#include "tst_conversionplan.moc"
