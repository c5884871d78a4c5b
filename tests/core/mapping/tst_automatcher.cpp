// Automatic matching on golden pairs made by tests/fixtures/mapping_fixtures.py (torchvision
// VGG / ResNet against Equinox skeletons, a torch model against Flax params, a module.-prefixed
// checkpoint, fused attention), and on small hand-made key lists for ambiguity and alignment.
// Every proposed mapping is applied to the real source bytes through the tensor engine.

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "hostilebuilders.h"
#include "hostileinput.h"
#include "mapping/keynames.h"
#include "mappingcheck.h"

#include <QTemporaryDir>
#include <QTest>

using namespace graft;
using graft::test::chainText;
using graft::test::describe;
using graft::test::mappingFor;
using graft::test::mappingFixture;
using graft::test::openOrFail;
using graft::test::spec;

namespace {

struct Pair {
    Checkpoint source;
    Checkpoint target;
    MappingResult result;
};

Pair matchFixtures(const QString &sourcePath, const QString &targetName, const MatchOptions &options = {})
{
    Pair pair{openOrFail(sourcePath), openOrFail(mappingFixture(targetName)), {}};
    pair.result = matchCheckpoints(pair.source, pair.target, options);
    return pair;
}



// Decided, or guessed (a guess must still produce the target's shape from real data if accepted).
bool isMapped(const Mapping &m)
{
    return m.status == MatchStatus::Exact || m.status == MatchStatus::Fixable || m.status == MatchStatus::Guessed;
}

KeySpec key(const QString &name, const QString &tensorSpec, LeafKind kind = LeafKind::Array) { return test::keySpec(name, tensorSpec, kind); }

} // namespace

class TestAutoMatcher : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void tiedTensorsInFileOrder();
    void stopBetweenPasses();

    void everyMappingAppliesToRealData_data();
    void everyMappingAppliesToRealData();

    void vggMirroredNames();
    void vggRenamedByOrderAndShape();
    void resnetBatchNormState();
    void flaxConventionValues();
    void modulePrefixIsStripped();
    void fusedAttentionIsSliced();
    void bfloat16SourceIsCast();

    void detectsConvention_data();
    void detectsConvention();
    void detectsConventionFromKeyNames_data();
    void detectsConventionFromKeyNames();

    void ambiguityIsReportedNotGuessed();
    void nameAmbiguityIsReported();
    void twoTargetsForOneSourceAreReported();
    void extraTargetBlockIsReported();
    void targetsWithOneNormalisedNameAreReported();
    void extraSourceEntryDoesNotShiftAlignment();
    void missingSourceEntryDoesNotShiftAlignment();
    void anchorsSplitTheAlignment();
    void incompatibleNameMatchIsReported();
    void oneBasedNumberedNamesAreNotListIndexes();
    void perHeadFusedQkvIsNeverSliced();
    void linearLayoutCAttnIsCutOnlyWhenItsLayoutIsKnown_data();
    void linearLayoutCAttnIsCutOnlyWhenItsLayoutIsKnown();
    void groupedWqkvIsNeverMadeOfQkv();
    void aCheckpointOntoItselfIsMatchedAsByThePasses_data();
    void aCheckpointOntoItselfIsMatchedAsByThePasses();
    void ontoItselfEveryLeafIsItsOwnSource();
    void qkRowsAreNotCopiedBetweenRotaryOrders_data();
    void qkRowsAreNotCopiedBetweenRotaryOrders();
    void blocksInAnotherOrderAreNotPairedByIndex();
    void towersNeverLearnFromEachOther();
    void blocksNeverLearnFromOtherBlocks();
    void codeGenQkvIsNeverSliced();
    void renumberedLayersAreNotMatchedByNumber();
    void orderNeverGuessesATranspose();
    void qwenOneMlpNamesAreItsOwn();
    void unetBlocksNeverCrossUpAndDown();
    void torchDecoderNormsAreReadForWhatTheyAre();
    void renameRulesApplyBeforeMatching();
    void explicitKeptAndIgnored();
    void staleExplicitEntries();
    void namesOnlyAndOrderOnly();
};

void TestAutoMatcher::initTestCase()
{
    Result<TensorEngine *> engine = tensorEngine();
    QVERIFY2(engine.ok(), engine.ok() ? "" : qPrintable(engine.error().toString()));
}

// ---------------------------------------------------------------------------------------------
// Every golden pair: each exact/fixable chain yields the target spec, on shapes and on data
// ---------------------------------------------------------------------------------------------

void TestAutoMatcher::everyMappingAppliesToRealData_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("mapped");

    QTest::newRow("vgg11 -> equinox, mirrored names") << mappingFixture("vgg11.pth") << "vgg11_eqx.skeleton.json" << 22;
    QTest::newRow("vgg11 -> equinox, other names") << mappingFixture("vgg11.pth") << "vgg11_renamed.skeleton.json" << 22;
    QTest::newRow("vgg11 bf16 -> equinox f32") << mappingFixture("vgg11_bf16.pth") << "vgg11_eqx.skeleton.json" << 22;
    QTest::newRow("resnet18 -> equinox (model, state)") << test::fixturePath("resnet18.pth") << "resnet18_eqx.skeleton.json" << 102;
    QTest::newRow("torch mlp -> flax") << mappingFixture("mlp.pth") << "mlp_flax.npz" << 8;
    QTest::newRow("module. prefix -> plain") << mappingFixture("module_prefixed.pth") << "tiny_vgg_plain.pth" << 12;
    QTest::newRow("fused attention -> q/k/v") << mappingFixture("mha.pth") << "mha_eqx.skeleton.json" << 4;
}

void TestAutoMatcher::everyMappingAppliesToRealData()
{
    QFETCH(QString, source);
    QFETCH(QString, target);
    QFETCH(int, mapped);

    const Pair pair = matchFixtures(source, target);
    QCOMPARE(pair.result.mappings.size(), pair.target.tensors().size());
    int count = 0;
    for (size_t i = 0; i < pair.result.mappings.size(); ++i) {
        const Mapping &m = pair.result.mappings[i];
        const TensorEntry &targetEntry = pair.target.tensors()[i];
        QCOMPARE(m.target, targetEntry.key); // one mapping per target, in target order
        if (!isMapped(m))
            continue;
        ++count;
        std::vector<TensorSpec> sourceSpecs;
        for (const QString &key : m.sources) {
            const int s = pair.source.indexOf(key);
            QVERIFY2(s >= 0, qPrintable(describe(m)));
            sourceSpecs.push_back({pair.source.tensors()[static_cast<size_t>(s)].dtype, pair.source.tensors()[static_cast<size_t>(s)].shape});
        }
        const TensorSpec wanted{targetEntry.dtype, targetEntry.shape};
        Result<TensorSpec> inferred = inferTransforms(sourceSpecs, m.transforms);
        QVERIFY2(inferred.ok(), qPrintable(describe(m)));
        QVERIFY2(*inferred == wanted, qPrintable(describe(m)));
        if (m.status != MatchStatus::Guessed)
            QCOMPARE(m.status == MatchStatus::Exact, m.transforms.empty());
        QVERIFY2(m.confidence > 0.0 && m.confidence <= 1.0, qPrintable(describe(m)));
        QVERIFY2(!m.reason.isEmpty(), qPrintable(describe(m)));

        TensorOutput output;
        const QString error = test::applyMapping(pair.source, m, output);
        QVERIFY2(error.isEmpty(), qPrintable(describe(m) + QStringLiteral(": ") + error));
        QVERIFY2(output.spec == wanted, qPrintable(describe(m)));
        QCOMPARE(static_cast<qint64>(output.bytes.size()), targetEntry.nbytes());
    }
    QCOMPARE(count, mapped);
}

// ---------------------------------------------------------------------------------------------
// Pair by pair
// ---------------------------------------------------------------------------------------------

void TestAutoMatcher::vggMirroredNames()
{
    const Pair pair = matchFixtures(mappingFixture("vgg11.pth"), "vgg11_eqx.skeleton.json");
    const MappingResult &result = pair.result;
    QCOMPARE(result.convention, Convention::Equinox);
    QVERIFY(result.complete());
    QVERIFY(result.ambiguous.empty());
    QVERIFY(result.stale.empty());
    QCOMPARE(result.unusedSources, QStringList());

    int scalars = 0;
    for (size_t i = 0; i < result.mappings.size(); ++i) {
        const Mapping &m = result.mappings[i];
        if (pair.target.tensors()[i].kind == LeafKind::Scalar) {
            ++scalars;
            QCOMPARE(m.status, MatchStatus::Kept);
            QVERIFY(m.sources.isEmpty());
            continue;
        }
        // ".features[3].bias" <- "features.3.bias"
        const QString torchKey = canonicalKey(m.target);
        QVERIFY2(m.sources == QStringList{torchKey}, qPrintable(describe(m)));
        QCOMPARE(m.origin, MatchOrigin::Name);
        if (m.target.endsWith(QLatin1String(".bias")) && m.target.startsWith(QLatin1String(".features"))) {
            QCOMPARE(m.status, MatchStatus::Fixable);
            const qint64 channels = pair.target.tensors()[i].shape[0];
            QCOMPARE(chainText(m.transforms), chainText({Transform::reshape({channels, 1, 1})}));
            QCOMPARE(m.expression(), QStringLiteral("w[:, None, None]"));
        } else {
            QVERIFY2(m.status == MatchStatus::Exact, qPrintable(describe(m)));
        }
    }
    QCOMPARE(scalars, 9); // 5 MaxPool init, 2 x Dropout (p, inference)
    const MappingSummary s = result.summary();
    QCOMPARE(s.exact, 14);
    QCOMPARE(s.fixable, 8);
    QCOMPARE(s.kept, 9);
    QCOMPARE(s.unmapped + s.incompatible + s.ambiguous + s.unusedSources, 0);

    // A byte-preserving reshape: the bias values arrive unchanged.
    TensorOutput output;
    QVERIFY(test::applyMapping(pair.source, mappingFor(result, QStringLiteral(".features[3].bias")), output).isEmpty());
    QCOMPARE(test::outputBytes(output), test::tensorBytes(pair.source, QStringLiteral("features.3.bias")));
}

void TestAutoMatcher::vggRenamedByOrderAndShape()
{
    const Pair pair = matchFixtures(mappingFixture("vgg11.pth"), "vgg11_renamed.skeleton.json");
    const MappingResult &result = pair.result;
    // Names say little here: a leaf is decided only where structure backs it (`.head[0]`:
    // classifier and head are one role; runs of modules alike in parameters and shapes between
    // those); the rest is a guess, right but never silently "exact".
    QVERIFY(!result.complete());
    QVERIFY(result.summary().guessed > 0);
    QVERIFY(result.ambiguous.empty());
    QCOMPARE(result.unusedSources, QStringList());

    // The i-th array leaf gets the i-th torch tensor.
    int arrayIndex = 0;
    for (size_t i = 0; i < result.mappings.size(); ++i) {
        const Mapping &m = result.mappings[i];
        if (pair.target.tensors()[i].kind == LeafKind::Scalar) {
            QCOMPARE(m.status, MatchStatus::Kept);
            continue;
        }
        const QString expected = pair.source.tensors()[static_cast<size_t>(arrayIndex++)].key;
        QVERIFY2(m.sources == QStringList{expected}, qPrintable(describe(m) + QStringLiteral(" expected ") + expected));
        if (m.origin == MatchOrigin::Structure) {
            QVERIFY(m.status == MatchStatus::Exact || m.status == MatchStatus::Fixable);
            continue;
        }
        QCOMPARE(m.origin, MatchOrigin::OrderShape);
        QCOMPARE(m.status, MatchStatus::Guessed);
        QVERIFY2(m.reason.contains(QStringLiteral("by order and shape")), qPrintable(m.reason));
        QVERIFY(m.confidence < 0.9); // less sure than a name match
    }
    QCOMPARE(arrayIndex, static_cast<int>(pair.source.tensors().size()));
    QCOMPARE(chainText(mappingFor(result, QStringLiteral(".convs[7].b")).transforms), chainText({Transform::reshape({64, 1, 1})}));
    QCOMPARE(mappingFor(result, QStringLiteral(".head[2].w")).sources, QStringList{QStringLiteral("classifier.6.weight")});
}

void TestAutoMatcher::resnetBatchNormState()
{
    const Pair pair = matchFixtures(test::fixturePath("resnet18.pth"), "resnet18_eqx.skeleton.json");
    const MappingResult &result = pair.result;
    QVERIFY(result.complete());
    QVERIFY(result.ambiguous.empty());

    QStringList numBatchesTracked;
    for (const TensorEntry &tensor : pair.source.tensors()) {
        if (tensor.key.endsWith(QLatin1String(".num_batches_tracked")))
            numBatchesTracked << tensor.key;
    }
    QCOMPARE(numBatchesTracked.size(), 20);
    // Step counters are buffers, not problems: listed apart from the unused sources.
    QCOMPARE(result.unusedSources, QStringList());
    QStringList buffers;
    for (const BufferEntry &buffer : result.unusedBuffers) {
        buffers << buffer.key;
        QCOMPARE(buffer.reason, QStringLiteral("BatchNorm step counter"));
    }
    QCOMPARE(buffers, numBatchesTracked);

    int stateLeaves = 0;
    for (const Mapping &m : result.mappings) {
        if (!m.target.endsWith(QLatin1String(".running_mean")) && !m.target.endsWith(QLatin1String(".running_var")))
            continue;
        ++stateLeaves;
        QCOMPARE(m.status, MatchStatus::Exact);
        QCOMPARE(m.sources.size(), 1);
        QVERIFY2(m.origin == MatchOrigin::Name || m.origin == MatchOrigin::LooseName || m.origin == MatchOrigin::Structure,
                 qPrintable(describe(m)));
        QCOMPARE(looseKey(m.sources.front()), looseKey(m.target));
    }
    QCOMPARE(stateLeaves, 40);
    QCOMPARE(mappingFor(result, QStringLiteral("[0].bn1.running_mean")).sources, QStringList{QStringLiteral("bn1.running_mean")});
    QCOMPARE(mappingFor(result, QStringLiteral("[0].layer4[1].bn2.running_var")).sources,
             QStringList{QStringLiteral("layer4.1.bn2.running_var")});
    const Mapping &downsample = mappingFor(result, QStringLiteral("[0].layer2[0].downsample.layers[1].running_mean"));
    QCOMPARE(downsample.sources, QStringList{QStringLiteral("layer2.0.downsample.1.running_mean")});
    QVERIFY2(downsample.origin == MatchOrigin::LooseName || downsample.origin == MatchOrigin::Structure, qPrintable(describe(downsample)));
    QCOMPARE(mappingFor(result, QStringLiteral("[0].layer3[0].downsample.layers[0].weight")).sources,
             QStringList{QStringLiteral("layer3.0.downsample.0.weight")});
    QCOMPARE(mappingFor(result, QStringLiteral("[0].fc.weight")).sources, QStringList{QStringLiteral("fc.weight")});
    QCOMPARE(mappingFor(result, QStringLiteral("[0].maxpool.init")).status, MatchStatus::Kept);
    QCOMPARE(mappingFor(result, QStringLiteral("[0].layer1[0].bn1.inference")).status, MatchStatus::Kept);
}

void TestAutoMatcher::flaxConventionValues()
{
    const Pair pair = matchFixtures(mappingFixture("mlp.pth"), "mlp_flax.npz");
    const MappingResult &result = pair.result;
    QCOMPARE(result.convention, Convention::Flax);
    QVERIFY(result.complete());
    QCOMPARE(result.unusedSources, QStringList());

    const Mapping &conv = mappingFor(result, QStringLiteral("params/conv/kernel"));
    QCOMPARE(conv.sources, QStringList{QStringLiteral("conv.weight")});
    QCOMPARE(chainText(conv.transforms), chainText({Transform::transpose({2, 3, 1, 0})}));
    QCOMPARE(conv.expression(), QStringLiteral("w.transpose(2, 3, 1, 0)"));
    const Mapping &fc2 = mappingFor(result, QStringLiteral("params/fc2/kernel"));
    QCOMPARE(fc2.sources, QStringList{QStringLiteral("fc2.weight")});
    QCOMPARE(chainText(fc2.transforms), chainText({Transform::transpose({1, 0})})); // square, still transposed
    QCOMPARE(fc2.expression(), QStringLiteral("w.T"));
    QCOMPARE(mappingFor(result, QStringLiteral("params/norm/scale")).sources, QStringList{QStringLiteral("norm.weight")});
    QCOMPARE(mappingFor(result, QStringLiteral("params/norm/scale")).status, MatchStatus::Exact);
    QCOMPARE(mappingFor(result, QStringLiteral("params/fc1/bias")).status, MatchStatus::Exact);

    // The ported values equal a correct conversion, bit for bit.
    const Checkpoint expected = openOrFail(mappingFixture("mlp_flax_expected.npz"));
    QCOMPARE(expected.tensors().size(), result.mappings.size());
    for (const Mapping &m : result.mappings) {
        TensorOutput output;
        const QString error = test::applyMapping(pair.source, m, output);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QByteArray want = test::tensorBytes(expected, m.target);
        QVERIFY(!want.isEmpty());
        QVERIFY2(test::outputBytes(output) == want, qPrintable(QStringLiteral("values of %1 differ from a correct port").arg(m.target)));
        // ...and differ from what the target held before (the check has teeth).
        QVERIFY(test::outputBytes(output) != test::tensorBytes(pair.target, m.target));
    }
}

void TestAutoMatcher::modulePrefixIsStripped()
{
    const Pair pair = matchFixtures(mappingFixture("module_prefixed.pth"), "tiny_vgg_plain.pth");
    QCOMPARE(pair.result.convention, Convention::Torch);
    QVERIFY(pair.result.complete());
    QCOMPARE(pair.result.unusedSources, QStringList());
    for (const Mapping &m : pair.result.mappings) {
        QVERIFY2(m.status == MatchStatus::Exact, qPrintable(describe(m)));
        QCOMPARE(m.sources, QStringList{QStringLiteral("module.") + m.target});
        QCOMPARE(m.origin, MatchOrigin::Name);
    }
}

void TestAutoMatcher::fusedAttentionIsSliced()
{
    const Pair pair = matchFixtures(mappingFixture("mha.pth"), "mha_eqx.skeleton.json");
    const MappingResult &result = pair.result;
    QVERIFY(result.complete());
    const QString fused = QStringLiteral("attn.in_proj_weight");
    const QByteArray fusedBytes = test::tensorBytes(pair.source, fused);
    QCOMPARE(fusedBytes.size(), 48 * 16 * 4);
    const QStringList projections{QStringLiteral(".attn.query_proj.weight"), QStringLiteral(".attn.key_proj.weight"),
                                  QStringLiteral(".attn.value_proj.weight")};
    for (int part = 0; part < 3; ++part) {
        const Mapping &m = mappingFor(result, projections[part]);
        QCOMPARE(m.sources, QStringList{fused});
        QCOMPARE(m.status, MatchStatus::Fixable);
        QCOMPARE(m.origin, MatchOrigin::FusedSlice);
        QCOMPARE(chainText(m.transforms), chainText({Transform::slice(0, 16 * part, 16 * (part + 1))}));
        QCOMPARE(m.expression(), QStringLiteral("w[%1:%2]").arg(16 * part).arg(16 * (part + 1)));
        TensorOutput output;
        QVERIFY(test::applyMapping(pair.source, m, output).isEmpty());
        QCOMPARE(test::outputBytes(output), fusedBytes.mid(part * 16 * 16 * 4, 16 * 16 * 4)); // rows 16p..16p+15
    }
    const Mapping &output = mappingFor(result, QStringLiteral(".attn.output_proj.weight"));
    QCOMPARE(output.sources, QStringList{QStringLiteral("attn.out_proj.weight")});
    QCOMPARE(output.status, MatchStatus::Exact);
    QCOMPARE(result.unusedSources, (QStringList{QStringLiteral("attn.in_proj_bias"), QStringLiteral("attn.out_proj.bias")}));
}

void TestAutoMatcher::bfloat16SourceIsCast()
{
    const Pair pair = matchFixtures(mappingFixture("vgg11_bf16.pth"), "vgg11_eqx.skeleton.json");
    QVERIFY(pair.result.complete());
    const Checkpoint f32 = openOrFail(mappingFixture("vgg11.pth"));
    int arrays = 0;
    for (const Mapping &m : pair.result.mappings) {
        if (m.status == MatchStatus::Kept)
            continue;
        ++arrays;
        QCOMPARE(m.status, MatchStatus::Fixable);
        QVERIFY2(!m.transforms.empty() && m.transforms.back() == Transform::cast(DType::Float32), qPrintable(describe(m)));
        // Widening is exact: the result is the float32 original rounded to bf16 and back,
        // i.e. its top 16 bits (torch rounds to nearest even when casting to bf16).
        TensorOutput output;
        QVERIFY(test::applyMapping(pair.source, m, output).isEmpty());
        const QByteArray original = test::tensorBytes(f32, m.sources.front());
        const QByteArray widened = test::outputBytes(output);
        QCOMPARE(widened.size(), original.size());
        for (qsizetype i = 0; i < widened.size(); i += 4) {
            quint32 a = 0, b = 0;
            std::memcpy(&a, widened.constData() + i, 4);
            std::memcpy(&b, original.constData() + i, 4);
            QCOMPARE(a & 0xFFFFu, 0u);
            const quint32 rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u;
            QCOMPARE(a, rounded);
        }
    }
    QCOMPARE(arrays, 22);
    QCOMPARE(mappingFor(pair.result, QStringLiteral(".features[0].bias")).expression(), QStringLiteral("w[:, None, None].astype(np.float32)"));
}

// ---------------------------------------------------------------------------------------------
// Convention and hand-made cases
// ---------------------------------------------------------------------------------------------

void TestAutoMatcher::detectsConvention_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("convention");
    QTest::newRow("skeleton") << mappingFixture("vgg11_eqx.skeleton.json") << int(Convention::Equinox);
    QTest::newRow("bare .eqx") << mappingFixture("vgg11_eqx.eqx") << int(Convention::Equinox);
    QTest::newRow("flax npz") << mappingFixture("mlp_flax.npz") << int(Convention::Flax);
    QTest::newRow("torch") << mappingFixture("vgg11.pth") << int(Convention::Torch);
}

void TestAutoMatcher::detectsConvention()
{
    QFETCH(QString, file);
    QFETCH(int, convention);
    QCOMPARE(int(detectConvention(openOrFail(file))), convention);
}

void TestAutoMatcher::detectsConventionFromKeyNames_data()
{
    // A Flax "kernel" token in any case makes a Flax target; the word inside another token does
    // not. Keys with a non-ASCII character go through Qt's Unicode case folding.
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("convention");
    QTest::newRow("kernel") << QStringLiteral("Dense_0.kernel") << int(Convention::Flax);
    QTest::newRow("Kernel") << QStringLiteral("Dense_0.Kernel") << int(Convention::Flax);
    QTest::newRow("KERNEL") << QStringLiteral("Dense_0.KERNEL") << int(Convention::Flax);
    QTest::newRow("inside a token") << QStringLiteral("encoder.kernelnet.weight") << int(Convention::Torch);
    QTest::newRow("non-ASCII key, Kernel") << QStringLiteral("modèle.Kernel") << int(Convention::Flax);
    QTest::newRow("non-ASCII key, weight") << QStringLiteral("modèle.weight") << int(Convention::Torch);
    QTest::newRow("weight") << QStringLiteral("encoder.layer.weight") << int(Convention::Torch);
}

void TestAutoMatcher::detectsConventionFromKeyNames()
{
    QFETCH(QString, key);
    QFETCH(int, convention);
    // A real safetensors file holding the key (and a torch-named neighbour).
    std::vector<OutputLeaf> leaves;
    for (const QString &name : {QStringLiteral("head.bias"), key}) {
        leaves.push_back({name, TensorSpec{DType::Float32, {2}}, [] { return Result<TensorBytes>(TensorBytes::owned(std::vector<uchar>(8, 0))); }});
    }
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("target.safetensors"));
    WriteOptions options;
    options.format = OutputFormat::Safetensors;
    const Result<WriteSummary> written = writeCheckpoint(path, leaves, options);
    QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().toString()));
    QCOMPARE(int(detectConvention(openOrFail(path))), convention);
}

void TestAutoMatcher::ambiguityIsReportedNotGuessed()
{
    // Two same-shape sources, one renamed target: order and shape cannot decide.
    const std::vector<KeySpec> sources{key("encoder.a.weight", "float32[4,4]"), key("encoder.b.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key(".proj.w", "float32[4,4]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    QCOMPARE(result.ambiguous.size(), size_t(1));
    QCOMPARE(result.ambiguous[0].target, QStringLiteral(".proj.w"));
    QCOMPARE(result.ambiguous[0].candidates, (QStringList{QStringLiteral("encoder.a.weight"), QStringLiteral("encoder.b.weight")}));
    QVERIFY(result.ambiguous[0].reason.contains(QStringLiteral("2 sources fit equally well")));
    QCOMPARE(result.mappings[0].status, MatchStatus::Unmapped);
    QVERIFY(result.mappings[0].sources.isEmpty());
    QVERIFY(result.mappings[0].reason.contains(QStringLiteral("ambiguous")));
    QCOMPARE(result.unusedSources.size(), 2);
    QVERIFY(!result.complete());
    QCOMPARE(result.summary().ambiguous, 1);
}

void TestAutoMatcher::nameAmbiguityIsReported()
{
    // `module.fc.weight` and `model.fc.weight` both normalise to `fc.weight`.
    const std::vector<KeySpec> sources{key("module.fc.weight", "float32[4,4]"), key("model.fc.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key("fc.weight", "float32[4,4]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Torch);
    QCOMPARE(result.ambiguous.size(), size_t(1));
    QCOMPARE(result.ambiguous[0].candidates.size(), 2);
    QVERIFY(result.ambiguous[0].reason.contains(QStringLiteral("same normalised name")));
    QCOMPARE(result.mappings[0].status, MatchStatus::Unmapped);
    QVERIFY(!result.complete());
}

void TestAutoMatcher::twoTargetsForOneSourceAreReported()
{
    // The mirror case: one source, two same-shape targets. Giving it to the first would be a
    // guess (and calling the second "nothing fits" would be false).
    const std::vector<KeySpec> sources{key("a.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key(".x.w", "float32[4,4]"), key(".y.w", "float32[4,4]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    QCOMPARE(result.ambiguous.size(), size_t(2));
    for (size_t t = 0; t < 2; ++t) {
        QCOMPARE(result.ambiguous[t].target, targets[t].key);
        QCOMPARE(result.ambiguous[t].candidates, QStringList{QStringLiteral("a.weight")});
        QCOMPARE(result.ambiguous[t].reason, QStringLiteral("another target fits this source equally well by order and shape"));
        QCOMPARE(result.mappings[t].status, MatchStatus::Unmapped);
        QVERIFY(result.mappings[t].sources.isEmpty());
        QVERIFY2(result.mappings[t].reason.startsWith(QStringLiteral("ambiguous: another target")), qPrintable(result.mappings[t].reason));
    }
    QCOMPARE(result.unusedSources, QStringList{QStringLiteral("a.weight")});
    QVERIFY(!result.complete());
}

void TestAutoMatcher::extraTargetBlockIsReported()
{
    // The target has two blocks where the source has one: which block gets the weights is the
    // user's call. The uniquely shaped head still maps.
    const std::vector<KeySpec> sources{key("l0.weight", "float32[8,8]"), key("l0.bias", "float32[8]"), key("out.weight", "float32[2,8]")};
    const std::vector<KeySpec> targets{key(".l[0].w", "float32[8,8]"), key(".l[0].b", "float32[8]"), key(".l[1].w", "float32[8,8]"),
                                       key(".l[1].b", "float32[8]"),   key(".out.w", "float32[2,8]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    QCOMPARE(result.ambiguous.size(), size_t(4));
    for (size_t t = 0; t < 4; ++t)
        QCOMPARE(result.mappings[t].status, MatchStatus::Unmapped);
    QCOMPARE(result.ambiguous[2].candidates, QStringList{QStringLiteral("l0.weight")});
    QCOMPARE(result.mappings[4].sources, QStringList{QStringLiteral("out.weight")});
    QCOMPARE(result.mappings[4].status, MatchStatus::Exact);
}

void TestAutoMatcher::targetsWithOneNormalisedNameAreReported()
{
    const std::vector<KeySpec> sources{key("fc.weight", "float32[4,4]"), key("fc.bias", "float32[4]")};
    const std::vector<KeySpec> targets{key("module.fc.weight", "float32[4,4]"), key("fc.weight", "float32[4,4]"), key("fc.bias", "float32[4]")};
    MatchOptions namesOnly;
    namesOnly.useOrder = false;
    const MappingResult result = autoMatch(sources, targets, namesOnly, Convention::Torch);
    QCOMPARE(result.ambiguous.size(), size_t(2));
    QCOMPARE(result.ambiguous[0].target, QStringLiteral("module.fc.weight"));
    QCOMPARE(result.ambiguous[0].candidates, QStringList{QStringLiteral("fc.weight")});
    QCOMPARE(result.ambiguous[0].reason, QStringLiteral("2 target keys have the same normalised name"));
    QCOMPARE(result.mappings[0].status, MatchStatus::Unmapped);
    QCOMPARE(result.mappings[1].status, MatchStatus::Unmapped);
    QCOMPARE(result.mappings[2].sources, QStringList{QStringLiteral("fc.bias")});
}

void TestAutoMatcher::extraSourceEntryDoesNotShiftAlignment()
{
    // A zip would give b.w <- bn.num_batches_tracked and shift everything after it.
    const std::vector<KeySpec> sources{key("l0.weight", "float32[8,4]"),           key("l0.bias", "float32[8]"),
                                       key("bn.num_batches_tracked", "int64[]"),   key("l1.weight", "float32[8,8]"),
                                       key("l1.bias", "float32[8]"),               key("l2.weight", "float32[2,8]"),
                                       key("l2.bias", "float32[2]")};
    const std::vector<KeySpec> targets{key(".a.w", "float32[8,4]"), key(".a.b", "float32[8]"), key(".b.w", "float32[8,8]"),
                                       key(".b.b", "float32[8]"),   key(".c.w", "float32[2,8]"), key(".c.b", "float32[2]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    const QStringList expected{"l0.weight", "l0.bias", "l1.weight", "l1.bias", "l2.weight", "l2.bias"};
    for (size_t t = 0; t < targets.size(); ++t) {
        QCOMPARE(result.mappings[t].sources, QStringList{expected[static_cast<int>(t)]});
        // Three modules of one weight and one bias each, in order, no two alike: structure.
        QCOMPARE(result.mappings[t].status, MatchStatus::Exact);
        QCOMPARE(result.mappings[t].origin, MatchOrigin::Structure);
    }
    QCOMPARE(result.unusedSources, QStringList());
    QCOMPARE(result.unusedBuffers.size(), size_t(1));
    QCOMPARE(result.unusedBuffers[0].key, QStringLiteral("bn.num_batches_tracked"));
    QVERIFY(result.complete());
}

void TestAutoMatcher::missingSourceEntryDoesNotShiftAlignment()
{
    // The target has a head the source lacks, in the middle: it stays unmapped, the rest aligns.
    const std::vector<KeySpec> sources{key("conv.weight", "float32[8,3,3,3]"), key("conv.bias", "float32[8]"),
                                       key("fc.weight", "float32[10,8]"), key("fc.bias", "float32[10]")};
    const std::vector<KeySpec> targets{key(".c.w", "float32[8,3,3,3]"), key(".c.b", "float32[8,1,1]"), key(".aux.w", "float32[5,8]"),
                                       key(".head.w", "float32[10,8]"), key(".head.b", "float32[10]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    QCOMPARE(result.mappings[0].sources, QStringList{QStringLiteral("conv.weight")});
    QCOMPARE(result.mappings[1].sources, QStringList{QStringLiteral("conv.bias")});
    QCOMPARE(chainText(result.mappings[1].transforms), chainText({Transform::reshape({8, 1, 1})}));
    QCOMPARE(result.mappings[2].status, MatchStatus::Unmapped);
    QCOMPARE(result.mappings[3].sources, QStringList{QStringLiteral("fc.weight")});
    QCOMPARE(result.mappings[4].sources, QStringList{QStringLiteral("fc.bias")});
    QVERIFY(result.unusedSources.isEmpty());
    QVERIFY(!result.complete());
}

void TestAutoMatcher::anchorsSplitTheAlignment()
{
    // Name matches anchor the alignment: the same-shape gaps on either side stay separate, so
    // `.x.w` can only take `a.weight` (before the anchor) and `.y.w` only `b.weight`.
    const std::vector<KeySpec> sources{key("a.weight", "float32[4,4]"), key("mid.weight", "float32[3,3]"), key("b.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key(".x.w", "float32[4,4]"), key(".mid.weight", "float32[3,3]"), key(".y.w", "float32[4,4]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    QCOMPARE(result.mappings[1].origin, MatchOrigin::Name);
    QCOMPARE(result.mappings[0].sources, QStringList{QStringLiteral("a.weight")});
    QCOMPARE(result.mappings[2].sources, QStringList{QStringLiteral("b.weight")});
    QVERIFY(result.ambiguous.empty());
    // Each gap holds one module on either side, alike: decided by structure.
    QCOMPARE(result.mappings[0].origin, MatchOrigin::Structure);
    QCOMPARE(result.mappings[2].origin, MatchOrigin::Structure);
    QVERIFY(result.complete());
}

void TestAutoMatcher::incompatibleNameMatchIsReported()
{
    // Same name, other class count: incompatible with the reason, never applied, and the
    // source is not listed as unused (it is the one the user will look at).
    const std::vector<KeySpec> sources{key("fc.weight", "float32[10,64]"), key("fc.bias", "float32[10]")};
    const std::vector<KeySpec> targets{key("fc.weight", "float32[20,64]"), key("fc.bias", "float32[20]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Torch);
    QCOMPARE(result.mappings[0].status, MatchStatus::Incompatible);
    QCOMPARE(result.mappings[0].sources, QStringList{QStringLiteral("fc.weight")});
    QVERIFY2(result.mappings[0].reason.contains(QStringLiteral("names match but shape [10, 64] cannot become [20, 64]")),
             qPrintable(result.mappings[0].reason));
    QCOMPARE(result.mappings[1].status, MatchStatus::Incompatible);
    QVERIFY(result.unusedSources.isEmpty());
    QCOMPARE(result.summary().incompatible, 2);
    QVERIFY(!result.complete());
}

namespace {

// Every decided (exact or fixable) mapping takes the source `want` names for its target; a
// target `want` does not list may be left undecided, never filled.
void checkDecidedAreRight(const MappingResult &result, const QHash<QString, QString> &want)
{
    for (const Mapping &mapping : result.mappings) {
        if (mapping.status != MatchStatus::Exact && mapping.status != MatchStatus::Fixable)
            continue;
        QVERIFY2(want.contains(mapping.target), qPrintable(QStringLiteral("%1 was filled from %2 (%3)")
                                                               .arg(mapping.target, mapping.sources.join(QLatin1Char(',')), mapping.reason)));
        QVERIFY2(mapping.sources == QStringList{want.value(mapping.target)},
                 qPrintable(QStringLiteral("%1 was filled from %2, not %3 (%4)")
                                .arg(mapping.target, mapping.sources.join(QLatin1Char(',')), want.value(mapping.target), mapping.reason)));
    }
}

} // namespace

// torchvision's Inception names its convolutions branch3x3dbl_1.._3; an Equinox port keeps them
// in a list [0]..[2]. Taking `_2` for index 2 filled entry [2] with the tensor of entry [1] under
// "names match" (the shapes agree). A name counted from 1 is not an index.
void TestAutoMatcher::oneBasedNumberedNamesAreNotListIndexes()
{
    const std::vector<KeySpec> sources{key("Mixed_5b.branch3x3dbl_1.conv.weight", "float32[8,4,1,1]"),
                                       key("Mixed_5b.branch3x3dbl_2.conv.weight", "float32[8,8,3,3]"),
                                       key("Mixed_5b.branch3x3dbl_3.conv.weight", "float32[8,8,3,3]")};
    const std::vector<KeySpec> targets{key("[0].mixed_5b.branch3x3dbl[0].conv.weight", "float32[8,4,1,1]"),
                                       key("[0].mixed_5b.branch3x3dbl[1].conv.weight", "float32[8,8,3,3]"),
                                       key("[0].mixed_5b.branch3x3dbl[2].conv.weight", "float32[8,8,3,3]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    checkDecidedAreRight(result, {{targets[0].key, sources[0].key}, {targets[1].key, sources[1].key}, {targets[2].key, sources[2].key}});
}

// GPT-NeoX and BLOOM fuse q, k, v head by head ([heads, 3, head_dim] rows) in query_key_value;
// contiguous thirds would be wrong tensors, and the head count is in no checkpoint: never sliced.
void TestAutoMatcher::perHeadFusedQkvIsNeverSliced()
{
    const std::vector<KeySpec> sources{key("gpt_neox.layers.0.attention.query_key_value.weight", "float32[96,32]"),
                                       key("gpt_neox.layers.0.attention.query_key_value.bias", "float32[96]"),
                                       key("gpt_neox.layers.0.attention.dense.weight", "float32[32,32]")};
    const std::vector<KeySpec> targets{key(".layers[0].attn.query_proj.weight", "float32[32,32]"),
                                       key(".layers[0].attn.query_proj.bias", "float32[32]"),
                                       key(".layers[0].attn.key_proj.weight", "float32[32,32]"),
                                       key(".layers[0].attn.key_proj.bias", "float32[32]"),
                                       key(".layers[0].attn.value_proj.weight", "float32[32,32]"),
                                       key(".layers[0].attn.value_proj.bias", "float32[32]"),
                                       key(".layers[0].attn.output_proj.weight", "float32[32,32]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    for (const Mapping &mapping : result.mappings) {
        if (mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable)
            QVERIFY2(!mapping.sources.join(QLatin1Char(',')).contains(QStringLiteral("query_key_value")),
                     qPrintable(mapping.target + QStringLiteral(" <- ") + mapping.sources.join(QLatin1Char(',')) + QStringLiteral(": ")
                                + mapping.reason));
    }
}

// A `c_attn` (3D, D) in torch's Linear layout is GPTBigCode's (rows head by head, multi_query
// False), nanoGPT's or Qwen-1's (three blocks): the same names and shapes. Cut into thirds, the
// GPTBigCode one filled q, k and v with rows of all three. It is cut (or made of q, k, v) only
// where the layout is known: GPT-2's Conv1D (D, 3D), or a checkpoint whose blocks hold Qwen-1's
// mlp.w1 and mlp.w2.
void TestAutoMatcher::linearLayoutCAttnIsCutOnlyWhenItsLayoutIsKnown_data()
{
    QTest::addColumn<QString>("fusedShape");  // the c_attn weight's
    QTest::addColumn<bool>("qwenMlp");        // the checkpoint holding c_attn has h.0.mlp.w1 / w2
    QTest::addColumn<bool>("fusedIsSource");  // c_attn is the source (cut) or the target (made)
    QTest::addColumn<bool>("cut");            // q, k, v taken from / put into c_attn
    QTest::newRow("GPTBigCode / nanoGPT source: left alone") << "float32[96,32]" << false << true << false;
    QTest::newRow("GPT-2 Conv1D source: cut") << "float32[32,96]" << false << true << true;
    QTest::newRow("Qwen-1 source: cut") << "float32[96,32]" << true << true << true;
    QTest::newRow("GPTBigCode / nanoGPT target: not made") << "float32[96,32]" << false << false << false;
    QTest::newRow("Qwen-1 target: made") << "float32[96,32]" << true << false << true;
}

// InternLM2's attention.wqkv holds, per key/value head, that group's q heads then its k and v:
// [q; k; v] concatenated filled it with the wrong rows (as "fixable"). MPT's attn.Wqkv is [q; k; v].
void TestAutoMatcher::groupedWqkvIsNeverMadeOfQkv()
{
    std::vector<KeySpec> separate;
    for (const auto &[projection, shape] : {std::pair{"q_proj", "float32[32,32]"}, std::pair{"k_proj", "float32[16,32]"},
                                           std::pair{"v_proj", "float32[16,32]"}, std::pair{"o_proj", "float32[32,32]"}})
        separate.push_back(key(QStringLiteral("model.layers.0.self_attn.%1.weight").arg(QLatin1String(projection)), QLatin1String(shape)));
    for (const char *fused : {"model.layers.0.attention.wqkv.weight", "model.layers.0.attn.Wqkv.weight"}) {
        const std::vector<KeySpec> targets{key(fused, "float32[64,32]"), key("model.layers.0.attention.wo.weight", "float32[32,32]")};
        const MappingResult result = autoMatch(separate, targets, {}, Convention::Torch);
        const Mapping &mapping = mappingFor(result, QString::fromLatin1(fused));
        const bool made = (mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable) && mapping.sources.size() == 3;
        const QString what = mapping.target + QStringLiteral(" <- ") + mapping.sources.join(QLatin1Char(',')) + QStringLiteral(": ") + mapping.reason;
        QVERIFY2(made == QString::fromLatin1(fused).contains(QStringLiteral("Wqkv")), qPrintable(what)); // MPT's: made; InternLM2's: not
    }
}

void TestAutoMatcher::linearLayoutCAttnIsCutOnlyWhenItsLayoutIsKnown()
{
    QFETCH(QString, fusedShape);
    QFETCH(bool, qwenMlp);
    QFETCH(bool, fusedIsSource);
    QFETCH(bool, cut);
    std::vector<KeySpec> fused{key("transformer.h.0.attn.c_attn.weight", fusedShape), key("transformer.h.0.attn.c_attn.bias", "float32[96]"),
                               key("transformer.h.0.attn.c_proj.weight", "float32[32,32]")};
    if (qwenMlp) {
        fused.push_back(key("transformer.h.0.mlp.w1.weight", "float32[48,32]"));
        fused.push_back(key("transformer.h.0.mlp.w2.weight", "float32[48,32]"));
    }
    std::vector<KeySpec> separate;
    for (const char *projection : {"q_proj", "k_proj", "v_proj"}) {
        separate.push_back(key(QStringLiteral("model.layers.0.self_attn.%1.weight").arg(QLatin1String(projection)), "float32[32,32]"));
        separate.push_back(key(QStringLiteral("model.layers.0.self_attn.%1.bias").arg(QLatin1String(projection)), "float32[32]"));
    }
    separate.push_back(key("model.layers.0.self_attn.o_proj.weight", "float32[32,32]"));
    if (qwenMlp) {
        separate.push_back(key("model.layers.0.mlp.up_proj.weight", "float32[48,32]"));
        separate.push_back(key("model.layers.0.mlp.gate_proj.weight", "float32[48,32]"));
    }
    const MappingResult result = fusedIsSource ? autoMatch(fused, separate, {}, Convention::Torch)
                                               : autoMatch(separate, fused, {}, Convention::Torch);
    int made = 0;
    for (const Mapping &mapping : result.mappings) {
        const bool decided = mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable;
        const bool throughFused = (fusedIsSource ? mapping.sources.join(QLatin1Char(',')) : mapping.target).contains(QStringLiteral("c_attn"));
        if (decided && throughFused && (fusedIsSource ? mapping.target.contains(QStringLiteral("_proj")) : mapping.sources.size() == 3))
            ++made;
    }
    // Cut: q, k, v weights and biases each from their third (6); made: the weight and the bias
    // of c_attn each from three (2).
    QCOMPARE(made, cut ? (fusedIsSource ? 6 : 2) : 0);
    if (!cut && fusedIsSource) {
        const Mapping &query = mappingFor(result, QStringLiteral("model.layers.0.self_attn.q_proj.weight"));
        QVERIFY2(query.reason.contains(QStringLiteral("GPTBigCode holds its rows head by head")), qPrintable(query.reason));
    }
}

// Hugging Face's Llama-family q_proj / k_proj order each head's rows for rotate_half; Meta's code,
// mistral-inference, EasyLM and llama.cpp (wq / wk, attn_q / attn_k) for interleaved pairs, and
// their converters permute the rows head by head. Copied as they were, HF's q and k filled
// mistral-inference's wq / wk and llama.cpp's attn_k under "exact". v and o are never permuted.
void TestAutoMatcher::qkRowsAreNotCopiedBetweenRotaryOrders_data()
{
    QTest::addColumn<QStringList>("sourceNames"); // q, k, v, o module paths of layer 0
    QTest::addColumn<QStringList>("targetNames");
    QTest::addColumn<bool>("qkCopied");
    const QStringList hf{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj",
                         "model.layers.0.self_attn.o_proj"};
    const QStringList meta{"layers.0.attention.wq", "layers.0.attention.wk", "layers.0.attention.wv", "layers.0.attention.wo"};
    const QStringList gguf{"blk.0.attn_q", "blk.0.attn_k", "blk.0.attn_v", "blk.0.attn_output"};
    const QStringList equinoxHf{".layers[0].self_attn.q_proj", ".layers[0].self_attn.k_proj", ".layers[0].self_attn.v_proj",
                                ".layers[0].self_attn.o_proj"};
    QTest::newRow("HF -> mistral-inference: not copied") << hf << meta << false;
    QTest::newRow("HF -> llama.cpp: not copied") << hf << gguf << false;
    QTest::newRow("Meta -> HF names: not copied") << meta << equinoxHf << false;
    QTest::newRow("HF -> HF names: copied") << hf << equinoxHf << true;
    QTest::newRow("Meta -> llama.cpp: copied") << meta << gguf << true;
}

void TestAutoMatcher::qkRowsAreNotCopiedBetweenRotaryOrders()
{
    QFETCH(QStringList, sourceNames);
    QFETCH(QStringList, targetNames);
    QFETCH(bool, qkCopied);
    const char *shapes[] = {"float32[32,32]", "float32[16,32]", "float32[16,32]", "float32[32,32]"}; // q, k (2 kv heads), v, o
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    for (int i = 0; i < 4; ++i) {
        sources.push_back(key(sourceNames[i] + QStringLiteral(".weight"), QLatin1String(shapes[i])));
        targets.push_back(key(targetNames[i] + QStringLiteral(".weight"), QLatin1String(shapes[i])));
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Torch);
    for (int i = 0; i < 4; ++i) {
        const Mapping &mapping = mappingFor(result, targets[static_cast<size_t>(i)].key);
        const bool copied = mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable
                            || mapping.status == MatchStatus::Guessed;
        const QString what = mapping.target + QStringLiteral(" <- ") + mapping.sources.join(QLatin1Char(',')) + QStringLiteral(": ") + mapping.reason;
        if (i >= 2 || qkCopied) { // v and o, or q and k of one row order: the same tensor
            QVERIFY2(copied && mapping.sources == QStringList{sources[static_cast<size_t>(i)].key}, qPrintable(what));
        } else {
            QVERIFY2(!copied, qPrintable(what));
            QVERIFY2(mapping.reason.contains(QStringLiteral("the head count is in no file")), qPrintable(what));
        }
    }
}

// diffusers numbers a VAE decoder's up blocks in the reverse of latent diffusion's order: block i
// of one is block 3 - i of the other. Where the widths agree, pairing block i with block i looked
// right; the blocks whose widths disagree show the order is another, so no leaf is paired so.
void TestAutoMatcher::blocksInAnotherOrderAreNotPairedByIndex()
{
    const int widths[4] = {32, 16, 16, 8}; // diffusers' up_blocks.0..3; the target's up[i] is up_blocks[3 - i]
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    for (int i = 0; i < 4; ++i) {
        const QString width = QString::number(widths[i]);
        for (const char *leaf : {"norm1.weight", "norm1.bias"})
            sources.push_back(key(QStringLiteral("decoder.up_blocks.%1.resnets.0.%2").arg(i).arg(QLatin1String(leaf)),
                                  QStringLiteral("float32[%1]").arg(width)));
        sources.push_back(key(QStringLiteral("decoder.up_blocks.%1.resnets.0.conv1.weight").arg(i),
                              QStringLiteral("float32[%1,%1,3,3]").arg(width)));
    }
    for (int i = 0; i < 4; ++i) {
        const QString width = QString::number(widths[3 - i]);
        for (const char *leaf : {"norm1.weight", "norm1.bias"}) {
            targets.push_back(key(QStringLiteral(".decoder.up[%1].block[0].%2").arg(i).arg(QLatin1String(leaf)),
                                  QStringLiteral("float32[%1]").arg(width)));
            want.insert(targets.back().key, QStringLiteral("decoder.up_blocks.%1.resnets.0.%2").arg(3 - i).arg(QLatin1String(leaf)));
        }
        targets.push_back(key(QStringLiteral(".decoder.up[%1].block[0].conv1.weight").arg(i), QStringLiteral("float32[%1,%1,3,3]").arg(width)));
        want.insert(targets.back().key, QStringLiteral("decoder.up_blocks.%1.resnets.0.conv1.weight").arg(3 - i));
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    checkDecidedAreRight(result, want);
}

// A CLIP whose towers have one width, from HF names onto OpenAI's (visual.*, transformer.*,
// ln_final): no rewrite may take the text tower's `text_model` for the image tower's `visual`
// (it filled visual.ln_post from text_model.final_layer_norm under "exact").
void TestAutoMatcher::towersNeverLearnFromEachOther()
{
    std::vector<KeySpec> sources;
    for (const char *tower : {"text_model", "vision_model"}) {
        for (int i = 0; i < 2; ++i) {
            for (const char *norm : {"layer_norm1", "layer_norm2"})
                sources.push_back(key(QStringLiteral("%1.encoder.layers.%2.%3.weight").arg(QLatin1String(tower)).arg(i).arg(QLatin1String(norm)),
                                      "float32[32]"));
        }
    }
    sources.push_back(key("text_model.final_layer_norm.weight", "float32[32]"));
    sources.push_back(key("vision_model.post_layernorm.weight", "float32[32]"));
    // OpenAI's CLIP declares the image tower first, the text tower's final norm last.
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    for (const auto &[prefix, tower] : {std::pair{".visual.transformer", "vision_model"}, std::pair{".transformer", "text_model"}}) {
        for (int i = 0; i < 2; ++i) {
            for (const auto &[norm, ln] : {std::pair{"layer_norm1", "ln_1"}, std::pair{"layer_norm2", "ln_2"}}) {
                targets.push_back(key(QStringLiteral("%1.resblocks[%2].%3.weight").arg(QLatin1String(prefix)).arg(i).arg(QLatin1String(ln)),
                                      "float32[32]"));
                want.insert(targets.back().key,
                            QStringLiteral("%1.encoder.layers.%2.%3.weight").arg(QLatin1String(tower)).arg(i).arg(QLatin1String(norm)));
            }
        }
        if (QLatin1String(tower) == QLatin1String("vision_model")) {
            targets.push_back(key(".visual.ln_post.weight", "float32[32]"));
            want.insert(targets.back().key, QStringLiteral("vision_model.post_layernorm.weight"));
        }
    }
    targets.push_back(key(".ln_final.weight", "float32[32]"));
    want.insert(targets.back().key, QStringLiteral("text_model.final_layer_norm.weight"));
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    checkDecidedAreRight(result, want);
}

// torchvision GoogLeNet (inception3a.. with branch1..4, BasicConv2d = conv + bn) onto an Equinox
// port with a list of branches: a rewrite learned from equal shapes took `inception4a.branch2` for
// inception3b's branches; both names exist on both sides, so no rewrite may cross them.
void TestAutoMatcher::blocksNeverLearnFromOtherBlocks()
{
    struct Block {
        const char *name;
        int in, b1, b2r, b2, b3r, b3, b4;
    };
    const Block blocks[] = {{"inception3a", 16, 8, 8, 16, 4, 8, 8}, {"inception3b", 40, 16, 8, 16, 4, 8, 8},
                            {"inception4a", 48, 8, 8, 16, 4, 8, 8}};
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    const auto basicConv = [&](const QString &source, const QString &target, int out, int in, int k) {
        const QString kernel = QStringLiteral("float32[%1,%2,%3,%3]").arg(out).arg(in).arg(k);
        const QString vector = QStringLiteral("float32[%1]").arg(out);
        sources.push_back(key(source + QStringLiteral(".conv.weight"), kernel));
        targets.push_back(key(target + QStringLiteral(".conv.weight"), kernel));
        want.insert(targets.back().key, sources.back().key);
        for (const char *bn : {"weight", "bias", "running_mean", "running_var"}) {
            sources.push_back(key(source + QStringLiteral(".bn.") + QLatin1String(bn), vector));
            targets.push_back(key(target + QStringLiteral(".bn.") + QLatin1String(bn), vector));
            want.insert(targets.back().key, sources.back().key);
        }
    };
    for (const Block &block : blocks) {
        const QString s = QLatin1String(block.name);
        const QString t = QStringLiteral("[0].") + s + QStringLiteral(".branches");
        basicConv(s + QStringLiteral(".branch1"), t + QStringLiteral("[0]"), block.b1, block.in, 1);
        basicConv(s + QStringLiteral(".branch2.0"), t + QStringLiteral("[1].layers[0]"), block.b2r, block.in, 1);
        basicConv(s + QStringLiteral(".branch2.1"), t + QStringLiteral("[1].layers[1]"), block.b2, block.b2r, 3);
        basicConv(s + QStringLiteral(".branch3.0"), t + QStringLiteral("[2].layers[0]"), block.b3r, block.in, 1);
        basicConv(s + QStringLiteral(".branch3.1"), t + QStringLiteral("[2].layers[1]"), block.b3, block.b3r, 3);
        basicConv(s + QStringLiteral(".branch4.1"), t + QStringLiteral("[3]"), block.b4, block.in, 1);
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    checkDecidedAreRight(result, want);
}

// CodeGen's attention fuses q, v, k in model-parallel groups (transformer.h.N.attn.qkv_proj):
// never cut into contiguous thirds. Phi-3's self_attn.qkv_proj is contiguous and still is sliced.
void TestAutoMatcher::codeGenQkvIsNeverSliced()
{
    const std::vector<KeySpec> codegen{key("transformer.h.0.attn.qkv_proj.weight", "float32[96,32]"),
                                       key("transformer.h.0.attn.out_proj.weight", "float32[32,32]")};
    const std::vector<KeySpec> separate{key(".blocks[0].attn.q_proj.weight", "float32[32,32]"),
                                        key(".blocks[0].attn.k_proj.weight", "float32[32,32]"),
                                        key(".blocks[0].attn.v_proj.weight", "float32[32,32]"),
                                        key(".blocks[0].attn.out_proj.weight", "float32[32,32]")};
    const MappingResult fromCodeGen = autoMatch(codegen, separate, {}, Convention::Equinox);
    for (const Mapping &mapping : fromCodeGen.mappings) {
        if (mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable)
            QVERIFY2(!mapping.sources.join(QLatin1Char(',')).contains(QStringLiteral("qkv_proj")), qPrintable(mapping.target + QStringLiteral(": ") + mapping.reason));
    }
    const std::vector<KeySpec> phi3{key("model.layers.0.self_attn.qkv_proj.weight", "float32[96,32]"),
                                    key("model.layers.0.self_attn.o_proj.weight", "float32[32,32]")};
    const MappingResult fromPhi3 = autoMatch(phi3, separate, {}, Convention::Equinox);
    QCOMPARE(mappingFor(fromPhi3, separate[1].key).status, MatchStatus::Fixable);
    QCOMPARE(mappingFor(fromPhi3, separate[1].key).sources, QStringList{phi3[0].key});
}

// A refactor that dropped AlexNet's ReLUs and pools renumbers its convolutions: features.{0,3,6,
// 8,10} become features.{0,2,4,6,8}, and with equal widths `features.6` has the same shape on both
// sides but is another layer. Same-number name matches across such sets are refused.
void TestAutoMatcher::renumberedLayersAreNotMatchedByNumber()
{
    const int sourceIndexes[] = {0, 3, 6, 8, 10};
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    for (int i = 0; i < 5; ++i) {
        const QString kernel = i == 0 ? QStringLiteral("float32[8,3,3,3]") : QStringLiteral("float32[8,8,3,3]");
        for (const char *parameter : {"weight", "bias"}) {
            const bool weight = QLatin1String(parameter) == QLatin1String("weight");
            sources.push_back(key(QStringLiteral("features.%1.%2").arg(sourceIndexes[i]).arg(QLatin1String(parameter)),
                                  weight ? kernel : QStringLiteral("float32[8]")));
        }
    }
    for (int i = 0; i < 5; ++i) {
        const QString kernel = i == 0 ? QStringLiteral("float32[8,3,3,3]") : QStringLiteral("float32[8,8,3,3]");
        for (const char *parameter : {"weight", "bias"}) {
            const bool weight = QLatin1String(parameter) == QLatin1String("weight");
            targets.push_back(key(QStringLiteral("features.%1.%2").arg(2 * i).arg(QLatin1String(parameter)),
                                  weight ? kernel : QStringLiteral("float32[8]")));
            want.insert(targets.back().key, QStringLiteral("features.%1.%2").arg(sourceIndexes[i]).arg(QLatin1String(parameter)));
        }
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Torch);
    checkDecidedAreRight(result, want);
    const Mapping &six = mappingFor(result, QStringLiteral("features.6.weight"));
    QVERIFY2(six.reason.contains(QStringLiteral("may be another layer")) || six.status == MatchStatus::Guessed
                 || six.status == MatchStatus::Unmapped || six.sources == QStringList{QStringLiteral("features.8.weight")},
             qPrintable(six.reason));
}

// Modules in the same order with the same parameters may be paired by position, but never
// through a transpose the order pass would have to guess: DeepSeek's shared expert w1/w2/w3 are
// gate/down/up, and pairing by position gave w2 up_proj transposed and w3 down_proj transposed.
void TestAutoMatcher::orderNeverGuessesATranspose()
{
    const std::vector<KeySpec> sources{key("model.layers.1.mlp.shared_experts.gate_proj.weight", "float32[16,32]"),
                                       key("model.layers.1.mlp.shared_experts.up_proj.weight", "float32[16,32]"),
                                       key("model.layers.1.mlp.shared_experts.down_proj.weight", "float32[32,16]")};
    const std::vector<KeySpec> targets{key(".layers[1].ffn.shared_experts.w1.weight", "float32[16,32]"),
                                       key(".layers[1].ffn.shared_experts.w2.weight", "float32[32,16]"),
                                       key(".layers[1].ffn.shared_experts.w3.weight", "float32[16,32]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    checkDecidedAreRight(result, {{targets[0].key, sources[0].key}, {targets[1].key, sources[2].key}, {targets[2].key, sources[1].key}});
    for (const Mapping &mapping : result.mappings)
        QVERIFY2(!(mapping.status == MatchStatus::Exact || mapping.status == MatchStatus::Fixable) || mapping.transforms.empty(),
                 qPrintable(mapping.target + QStringLiteral(": ") + mapping.reason));
}

// Qwen-1's MLP is c_proj(w1(x) * silu(w2(x))): its w1 is up_proj and w2 gate_proj, not Meta's
// w1 (gate) and w2 (down); taking Meta's reading filled w1 from gate_proj and w2 from down_proj.T.
void TestAutoMatcher::qwenOneMlpNamesAreItsOwn()
{
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    for (int i = 0; i < 2; ++i) {
        const QString s = QStringLiteral("model.layers.%1.mlp.").arg(i);
        const QString t = QStringLiteral("transformer.h.%1.mlp.").arg(i);
        sources.push_back(key(s + QStringLiteral("gate_proj.weight"), "float32[48,32]"));
        sources.push_back(key(s + QStringLiteral("up_proj.weight"), "float32[48,32]"));
        sources.push_back(key(s + QStringLiteral("down_proj.weight"), "float32[32,48]"));
        targets.push_back(key(t + QStringLiteral("w1.weight"), "float32[48,32]"));
        want.insert(targets.back().key, s + QStringLiteral("up_proj.weight"));
        targets.push_back(key(t + QStringLiteral("w2.weight"), "float32[48,32]"));
        want.insert(targets.back().key, s + QStringLiteral("gate_proj.weight"));
        targets.push_back(key(t + QStringLiteral("c_proj.weight"), "float32[32,48]"));
        want.insert(targets.back().key, s + QStringLiteral("down_proj.weight"));
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Torch);
    checkDecidedAreRight(result, want);
}

// A diffusers UNet onto latent diffusion's names: a learned rewrite never takes an up block or the
// mid block for an input (down) block ('up_blocks.#.attentions' -> 'input_blocks.#' filled down
// block 0's attention from up block 1's, whose shapes agree).
void TestAutoMatcher::unetBlocksNeverCrossUpAndDown()
{
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    for (const char *part : {"norm", "proj_in", "proj_out"}) {
        const QString shape = QLatin1String(part) == QLatin1String("norm") ? QStringLiteral("float32[16]") : QStringLiteral("float32[16,16]");
        for (const char *block : {"down_blocks.0", "up_blocks.1"})
            sources.push_back(key(QStringLiteral("%1.attentions.0.%2.weight").arg(QLatin1String(block), QLatin1String(part)), shape));
        targets.push_back(key(QStringLiteral(".input_blocks[1][1].%1.weight").arg(QLatin1String(part)), shape));
        want.insert(targets.back().key, QStringLiteral("down_blocks.0.attentions.0.%1.weight").arg(QLatin1String(part)));
        targets.push_back(key(QStringLiteral(".output_blocks[4][1].%1.weight").arg(QLatin1String(part)), shape));
        want.insert(targets.back().key, QStringLiteral("up_blocks.1.attentions.0.%1.weight").arg(QLatin1String(part)));
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    checkDecidedAreRight(result, want);
}

// torch's nn.TransformerDecoderLayer (DETR) names its norms norm1 / norm2 / norm3: self-attention,
// cross-attention, MLP. transformers' DETR calls them self_attn_layer_norm, encoder_attn_layer_norm,
// final_layer_norm; reading norm2 as the norm before the MLP filled final_layer_norm from norm2.
void TestAutoMatcher::torchDecoderNormsAreReadForWhatTheyAre()
{
    std::vector<KeySpec> sources;
    std::vector<KeySpec> targets;
    QHash<QString, QString> want;
    for (int i = 0; i < 2; ++i) {
        const QString s = QStringLiteral("transformer.decoder.layers.%1.").arg(i);
        const QString t = QStringLiteral("model.decoder.layers.%1.").arg(i);
        sources.push_back(key(s + QStringLiteral("multihead_attn.in_proj_weight"), "float32[96,32]"));
        for (const auto &[norm, name] : {std::pair{"norm1", "self_attn_layer_norm"}, std::pair{"norm2", "encoder_attn_layer_norm"},
                                         std::pair{"norm3", "final_layer_norm"}}) {
            sources.push_back(key(s + QLatin1String(norm) + QStringLiteral(".weight"), "float32[32]"));
            targets.push_back(key(t + QLatin1String(name) + QStringLiteral(".weight"), "float32[32]"));
            want.insert(targets.back().key, sources.back().key);
        }
    }
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Torch);
    checkDecidedAreRight(result, want);
    QCOMPARE(mappingFor(result, QStringLiteral("model.decoder.layers.0.final_layer_norm.weight")).sources,
             QStringList{QStringLiteral("transformer.decoder.layers.0.norm3.weight")});
}

void TestAutoMatcher::renameRulesApplyBeforeMatching()
{
    const std::vector<KeySpec> sources{key("backbone.stem.weight", "float32[8,3,3,3]"), key("backbone.stem.bias", "float32[8]")};
    const std::vector<KeySpec> targets{key(".encoder.conv.weight", "float32[8,3,3,3]"), key(".encoder.conv.bias", "float32[8,1,1]")};
    MatchOptions options;
    options.useOrder = false; // only names may decide here
    Result<RenameRule> rule = RenameRule::parse(QStringLiteral("^backbone\\.stem\\.(.*)=>encoder.conv.\\1"));
    QVERIFY(rule.ok());
    options.rules.push_back(*rule);
    const MappingResult result = autoMatch(sources, targets, options, Convention::Equinox);
    QCOMPARE(result.mappings[0].sources, QStringList{QStringLiteral("backbone.stem.weight")}); // original key reported
    QCOMPARE(result.mappings[0].origin, MatchOrigin::RenameRule);
    QVERIFY(result.mappings[0].reason.contains(QStringLiteral("after rename rules")));
    QCOMPARE(result.mappings[1].status, MatchStatus::Fixable);
    QVERIFY(result.complete());

    const MappingResult without = autoMatch(sources, targets, MatchOptions{true, false, {}, {}, {}, {}, {}}, Convention::Equinox);
    QCOMPARE(without.mappings[0].status, MatchStatus::Unmapped);
}

void TestAutoMatcher::explicitKeptAndIgnored()
{
    const std::vector<KeySpec> sources{key("gru.bias_ih", "float32[12]"), key("gru.bias_hh", "float32[12]"),
                                       key("head.weight", "float32[4,4]"), key("extra.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key(".cell.bias", "float32[12]"), key(".head.weight", "float32[4,4]"),
                                       key(".head.bias", "float32[4]"), key(".drop.p", "float64[]", LeafKind::Scalar)};
    MatchOptions options;
    options.explicitMappings.push_back({QStringLiteral(".cell.bias"), {QStringLiteral("gru.bias_ih"), QStringLiteral("gru.bias_hh")},
                                        {Transform::sum()}, true});
    options.keptTargets << QStringLiteral(".head.bias");
    options.ignoredSources << QStringLiteral("extra.weight");
    const MappingResult result = autoMatch(sources, targets, options, Convention::Equinox);

    const Mapping &cell = result.mappings[0];
    QCOMPARE(cell.origin, MatchOrigin::Explicit);
    QCOMPARE(cell.status, MatchStatus::Fixable);
    QCOMPARE(cell.confidence, 1.0);
    QCOMPARE(cell.expression(), QStringLiteral("w0 + w1"));
    QCOMPARE(result.mappings[1].sources, QStringList{QStringLiteral("head.weight")}); // not extra.weight (ignored)
    QCOMPARE(result.mappings[2].status, MatchStatus::Kept);
    QVERIFY(result.mappings[2].reason.contains(QStringLiteral("kept")));
    QCOMPARE(result.mappings[3].status, MatchStatus::Kept);
    QVERIFY(result.unusedSources.isEmpty());
    QVERIFY(result.complete());
}

void TestAutoMatcher::staleExplicitEntries()
{
    const std::vector<KeySpec> sources{key("a.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key(".a.weight", "float32[4,4]")};
    MatchOptions options;
    options.explicitMappings.push_back({QStringLiteral(".gone"), {QStringLiteral("a.weight")}, {}, true});
    options.explicitMappings.push_back({QStringLiteral(".a.weight"), {QStringLiteral("b.weight")}, {}, true});
    options.explicitMappings.push_back({QStringLiteral(".a.weight"), {QStringLiteral("a.weight")}, {Transform::transpose({1, 0, 2})}, true});
    options.keptTargets << QStringLiteral(".kept.gone");
    options.ignoredSources << QStringLiteral("ignored.gone");
    const MappingResult result = autoMatch(sources, targets, options, Convention::Equinox);
    QCOMPARE(result.stale.size(), size_t(5));
    auto reasonOf = [&](const QString &entry) {
        for (const StaleEntry &stale : result.stale) {
            if (stale.entry == entry)
                return stale.reason;
        }
        return QStringLiteral("<no stale entry '%1'>").arg(entry);
    };
    QCOMPARE(reasonOf(QStringLiteral("mapping .gone <- a.weight")), QStringLiteral("target key '.gone' is gone"));
    QCOMPARE(reasonOf(QStringLiteral("mapping .a.weight <- b.weight")), QStringLiteral("source key 'b.weight' is gone"));
    QVERIFY(reasonOf(QStringLiteral("mapping .a.weight <- a.weight")).startsWith(QStringLiteral("shape changed: transpose (1, 0, 2)")));
    QCOMPARE(reasonOf(QStringLiteral("kept target .kept.gone")), QStringLiteral("target key '.kept.gone' is gone"));
    QCOMPARE(reasonOf(QStringLiteral("ignored source ignored.gone")), QStringLiteral("source key 'ignored.gone' is gone"));
    // Stale entries are reported, the rest still maps by name.
    QCOMPARE(result.mappings[0].sources, QStringList{QStringLiteral("a.weight")});
    QCOMPARE(result.mappings[0].origin, MatchOrigin::Name);
    QCOMPARE(result.summary().stale, 5);
}

void TestAutoMatcher::namesOnlyAndOrderOnly()
{
    const std::vector<KeySpec> sources{key("x.weight", "float32[4,4]"), key("y.weight", "float32[2,4]")};
    const std::vector<KeySpec> targets{key(".x.weight", "float32[4,4]"), key(".z.w", "float32[2,4]")};
    MatchOptions namesOnly;
    namesOnly.useOrder = false;
    MappingResult result = autoMatch(sources, targets, namesOnly, Convention::Equinox);
    QCOMPARE(result.mappings[0].origin, MatchOrigin::Name);
    QCOMPARE(result.mappings[1].status, MatchStatus::Unmapped);
    QCOMPARE(result.unusedSources, QStringList{QStringLiteral("y.weight")});

    MatchOptions orderOnly;
    orderOnly.useNames = false;
    result = autoMatch(sources, targets, orderOnly, Convention::Equinox);
    QCOMPARE(result.mappings[0].origin, MatchOrigin::OrderShape);
    QCOMPARE(result.mappings[1].sources, QStringList{QStringLiteral("y.weight")});
    QCOMPARE(result.summary().guessed, 2);
    QVERIFY(!result.complete());
}

// One tensor saved under several names (the same view of one storage): each group of names in
// file order, the groups in the order their second name appears; other views, even of the same
// storage or with the same shape, are not ties.
void TestAutoMatcher::tiedTensorsInFileOrder()
{
    using namespace graft::test::hostile;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray half = tensor(16, 8, {8}, {1});    // bytes 32..63 of storage 0
    const QByteArray square = tensor(16, 0, {4, 4}, {4, 1});
    const QString path = graft::test::writeFile(dir, QStringLiteral("tied.pth"),
                                                torchZip(dictPickle({{"e", half},
                                                                     {"w1", square},
                                                                     {"f", half},
                                                                     {"alone", tensor(16, 0, {16}, {1})},
                                                                     {"transposed", tensor(16, 0, {4, 4}, {1, 4})},
                                                                     {"w2", square},
                                                                     {"g", half}})));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().message));
    const std::vector<QStringList> ties = tiedTensors(*checkpoint);
    QCOMPARE(ties.size(), size_t(2));
    QCOMPARE(ties[0], (QStringList{QStringLiteral("e"), QStringLiteral("f"), QStringLiteral("g")}));
    QCOMPARE(ties[1], (QStringList{QStringLiteral("w1"), QStringLiteral("w2")}));
}

// MatchOptions::stop is asked between passes; true stops the match there, marked cancelled,
// with only what the passes before decided.
void TestAutoMatcher::stopBetweenPasses()
{
    const std::vector<KeySpec> sources{key("a.weight", "float32[4,4]"), key("b.weight", "float32[2,4]")};
    const std::vector<KeySpec> targets{key(".a.weight", "float32[4,4]"), key(".b.weight", "float32[2,4]")};
    int asked = 0;
    MatchOptions options;
    options.stop = [&asked] {
        ++asked;
        return false;
    };
    MappingResult full = autoMatch(sources, targets, options, Convention::Equinox);
    QVERIFY(!full.cancelled);
    const int passes = asked;
    QVERIFY(passes >= 3); // asked at every pass boundary
    QCOMPARE(full.mappings[0].origin, MatchOrigin::Name);
    QVERIFY(full.complete());

    // Stopped before the first pass: nothing decided by name.
    asked = 0;
    options.stop = [&asked] { return ++asked >= 1; };
    MappingResult stopped = autoMatch(sources, targets, options, Convention::Equinox);
    QVERIFY(stopped.cancelled);
    QCOMPARE(asked, 1);
    for (const Mapping &mapping : stopped.mappings)
        QCOMPARE(mapping.status, MatchStatus::Unmapped);

    // Stopped after the exact-name pass: its decisions are there, no later pass ran.
    asked = 0;
    options.stop = [&asked] { return ++asked >= 2; };
    stopped = autoMatch(sources, targets, options, Convention::Equinox);
    QVERIFY(stopped.cancelled);
    QCOMPARE(asked, 2);
    QCOMPARE(stopped.mappings[0].origin, MatchOrigin::Name);
    QCOMPARE(stopped.mappings[1].origin, MatchOrigin::Name);
}

// A checkpoint onto itself (one index on both sides: a re-save, a format change) is matched
// leaf to leaf without the passes (matcherself.cpp). The same file opened twice (two indexes)
// goes through the passes: both results must be the same, field by field, on every kind of
// fixture (torch, legacy, modules, TorchScript, safetensors, npz, .eqx, skeletons, Flax).
void TestAutoMatcher::aCheckpointOntoItselfIsMatchedAsByThePasses_data()
{
    QTest::addColumn<QString>("name");
    for (const char *name : {"resnet18.pth", "tiny_vgg.pth", "dtypes.pth", "views.pth", "shared.pth", "nested.pth", "params.pth",
                             "torch2_style.pth", "legacy_resnet18.pth", "module_mobilenet.pth", "module_dataparallel.pth",
                             "script_mobilenet.pt", "trace_custom.pt", "tiny_vgg.safetensors", "dtypes.safetensors",
                             "stored.npz", "deflated.npz", "tiny_vgg.eqx", "tiny_vgg.skeleton.json", "bf16_skeleton.skeleton.json",
                             "flax_cnn.msgpack", "flax_mixed.msgpack", "scalar.npy", "empty_tensor.pth"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestAutoMatcher::aCheckpointOntoItselfIsMatchedAsByThePasses()
{
    QFETCH(QString, name);
    const Checkpoint once = openOrFail(test::fixturePath(name));
    const Checkpoint again = openOrFail(test::fixturePath(name));
    QVERIFY(once.sharesIndexWith(once) && !once.sharesIndexWith(again));
    const MappingResult itself = matchCheckpoints(once, once, {});
    const MappingResult passes = matchCheckpoints(once, again, {});
    QCOMPARE(itself.mappings.size(), passes.mappings.size());
    for (size_t t = 0; t < passes.mappings.size(); ++t) {
        const Mapping &a = itself.mappings[t];
        const Mapping &b = passes.mappings[t];
        QCOMPARE(a.target, b.target);
        QCOMPARE(a.sources, b.sources);
        QCOMPARE(int(a.status), int(b.status));
        QCOMPARE(int(a.origin), int(b.origin));
        QCOMPARE(a.confidence, b.confidence);
        QCOMPARE(a.reason, b.reason);
        QCOMPARE(chainText(a.transforms), chainText(b.transforms));
    }
    QCOMPARE(itself.unusedSources, passes.unusedSources);
    QCOMPARE(itself.unusedBuffers.size(), passes.unusedBuffers.size());
    for (size_t i = 0; i < passes.unusedBuffers.size(); ++i) {
        QCOMPARE(itself.unusedBuffers[i].key, passes.unusedBuffers[i].key);
        QCOMPARE(itself.unusedBuffers[i].reason, passes.unusedBuffers[i].reason);
    }
    QCOMPARE(itself.tiedSources, passes.tiedSources);
    QCOMPARE(itself.ambiguous.size(), passes.ambiguous.size());
    QCOMPARE(int(itself.convention), int(passes.convention));
}

// Where the passes see two keys of one normalised name (`fc.weight` and `module.fc.weight`:
// the wrapper prefix is dropped), onto itself each key is its own leaf, as it plainly is.
void TestAutoMatcher::ontoItselfEveryLeafIsItsOwnSource()
{
    QTemporaryDir dir;
    const QByteArray record = test::hostile::npyHeader("<f4", "(2, 2)") + QByteArray(16, '\0');
    const QString path = test::writeFile(dir, QStringLiteral("twins.npz"),
                                         test::hostile::storedZip({{"fc.weight.npy", record}, {"module.fc.weight.npy", record}}));
    const Checkpoint once = openOrFail(path);
    const MappingResult itself = matchCheckpoints(once, once, {});
    QCOMPARE(itself.mappings.size(), size_t(2));
    for (const Mapping &mapping : itself.mappings) {
        QCOMPARE(mapping.sources, QStringList{mapping.target});
        QCOMPARE(int(mapping.status), int(MatchStatus::Exact));
    }
    QVERIFY(itself.ambiguous.empty());
    // The passes (the same file opened twice) do not pair them so: the shortcut really ran.
    const MappingResult passes = matchCheckpoints(once, openOrFail(path), {});
    bool allOwn = passes.ambiguous.empty();
    for (const Mapping &mapping : passes.mappings)
        allOwn = allOwn && mapping.sources == QStringList{mapping.target} && mapping.status == MatchStatus::Exact;
    QVERIFY2(!allOwn, "the passes pair the twins as the shortcut does: this test no longer shows the shortcut ran");
}

QTEST_GUILESS_MAIN(TestAutoMatcher)
#include "tst_automatcher.moc"
