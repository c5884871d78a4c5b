// analysePair / analyseChain: every (source, target) pair is exact, fixable with a chain the
// convention prescribes, or incompatible, with a one-line reason.

#include "mappingcheck.h"

#include <QTest>

using namespace graft;
using graft::test::chain;
using graft::test::chainText;
using graft::test::spec;
using graft::test::specs;

namespace {

Convention conventionFromName(const QString &name)
{
    if (name == QLatin1String("equinox"))
        return Convention::Equinox;
    if (name == QLatin1String("flax"))
        return Convention::Flax;
    return Convention::Torch;
}

} // namespace

class TestShapeAnalysis : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void analysePair_data();
    void analysePair();
    void fixableChainsYieldTheTarget_data() { analysePair_data(); }
    void fixableChainsYieldTheTarget();
    void analyseChain_data();
    void analyseChain();
    void names();
};

void TestShapeAnalysis::analysePair_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("convention");
    QTest::addColumn<QString>("targetKey");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("transforms");
    QTest::addColumn<QString>("reason");

    // Exact
    QTest::newRow("same shape and dtype") << "float32[64,3,3,3]" << "float32[64,3,3,3]" << "torch" << "features.0.weight" << "exact" << "[]"
                                          << "same shape and dtype";
    QTest::newRow("equinox linear weight") << "float32[32,64]" << "float32[32,64]" << "equinox" << ".classifier[0].weight" << "exact"
                                           << "[]" << "same shape and dtype";
    QTest::newRow("square weight, torch") << "float32[32,32]" << "float32[32,32]" << "torch" << "fc2.weight" << "exact" << "[]"
                                          << "same shape and dtype";
    QTest::newRow("square weight, equinox") << "float32[32,32]" << "float32[32,32]" << "equinox" << ".fc2.weight" << "exact" << "[]"
                                            << "same shape and dtype";
    QTest::newRow("flax bias") << "float32[16]" << "float32[16]" << "flax" << "params/conv/bias" << "exact" << "[]" << "same shape";
    QTest::newRow("flax kernel already HWIO") << "float32[3,3,3,16]" << "float32[3,3,3,16]" << "flax" << "params/conv/kernel" << "exact"
                                              << "[]" << "same shape and dtype";
    QTest::newRow("scalar") << "float64[]" << "float64[]" << "equinox" << ".drop.p" << "exact" << "[]" << "same shape and dtype";

    // Reshape: size-1 axes
    QTest::newRow("equinox conv bias [C] -> [C,1,1]") << "float32[64]" << "float32[64,1,1]" << "equinox" << ".features[0].bias" << "fixable"
                                                      << R"([{"op":"reshape","shape":[64,1,1]}])" << "size-1 axes differ: [64] -> [64, 1, 1]";
    QTest::newRow("[C,1,1] -> [C]") << "float32[64,1,1]" << "float32[64]" << "torch" << "features.0.bias" << "fixable"
                                    << R"([{"op":"reshape","shape":[64]}])" << "size-1 axes differ";
    QTest::newRow("linear weight -> 1x1 conv kernel") << "float32[16,8]" << "float32[16,8,1,1]" << "equinox" << ".pwconv.weight"
                                                      << "fixable" << R"([{"op":"reshape","shape":[16,8,1,1]}])" << "size-1 axes differ";
    QTest::newRow("[C,1,1] -> [1,1,C] (one other axis)") << "float32[8,1,1]" << "float32[1,1,8]" << "torch" << "gamma" << "fixable"
                                                         << R"([{"op":"reshape","shape":[1,1,8]}])" << "size-1 axes differ";
    QTest::newRow("[1,C] -> [C]") << "float32[1,8]" << "float32[8]" << "torch" << "pos" << "fixable" << R"([{"op":"reshape","shape":[8]}])"
                                  << "size-1 axes differ";
    QTest::newRow("[1] -> [1,1,1]") << "float32[1]" << "float32[1,1,1]" << "equinox" << ".conv.bias" << "fixable"
                                    << R"([{"op":"reshape","shape":[1,1,1]}])" << "size-1 axes differ";

    // Transpose by convention
    QTest::newRow("flax conv kernel") << "float32[16,3,3,3]" << "float32[3,3,3,16]" << "flax" << "params/conv/kernel" << "fixable"
                                      << R"([{"op":"transpose","perm":[2,3,1,0]}])" << "flax convention: w.transpose(2, 3, 1, 0)";
    QTest::newRow("flax conv kernel, all dims equal") << "float32[3,3,3,3]" << "float32[3,3,3,3]" << "flax" << "params/conv/kernel"
                                                      << "fixable" << R"([{"op":"transpose","perm":[2,3,1,0]}])" << "flax convention";
    QTest::newRow("flax dense kernel") << "float32[32,64]" << "float32[64,32]" << "flax" << "params/fc1/kernel" << "fixable"
                                       << R"([{"op":"transpose","perm":[1,0]}])" << "flax convention: w.T";
    QTest::newRow("flax square dense kernel") << "float32[32,32]" << "float32[32,32]" << "flax" << "params/fc2/kernel" << "fixable"
                                              << R"([{"op":"transpose","perm":[1,0]}])" << "flax convention: w.T";
    QTest::newRow("flax auto-named Dense_0") << "float32[10,4]" << "float32[4,10]" << "flax" << "params/Dense_0/kernel" << "fixable"
                                             << R"([{"op":"transpose","perm":[1,0]}])" << "flax convention: w.T";
    QTest::newRow("flax conv1d kernel") << "float32[16,3,5]" << "float32[5,3,16]" << "flax" << "params/conv1d/kernel" << "fixable"
                                        << R"([{"op":"transpose","perm":[2,1,0]}])" << "flax convention";
    QTest::newRow("flax conv3d kernel") << "float32[8,2,3,4,5]" << "float32[3,4,5,2,8]" << "flax" << "params/conv3d/kernel" << "fixable"
                                        << R"([{"op":"transpose","perm":[2,3,4,1,0]}])" << "flax convention";
    QTest::newRow("flax scale is not a kernel") << "float32[64]" << "float32[64]" << "flax" << "params/norm/scale" << "exact" << "[]"
                                                << "same shape";
    QTest::newRow("flax embedding not transposed") << "float32[100,16]" << "float32[100,16]" << "flax" << "params/embed/embedding"
                                                   << "exact" << "[]" << "same shape";

    // Transpose by shape
    QTest::newRow("torch transposed weight") << "float32[32,64]" << "float32[64,32]" << "torch" << "fc.weight" << "fixable"
                                             << R"([{"op":"transpose","perm":[1,0]}])" << "axes permuted: w.T";
    QTest::newRow("one 3-d permutation") << "float32[2,3,4]" << "float32[4,2,3]" << "torch" << "x" << "fixable"
                                         << R"([{"op":"transpose","perm":[2,0,1]}])" << "axes permuted: w.transpose(2, 0, 1)";
    QTest::newRow("several permutations: fewest axes moved") << "float32[4,4,2]" << "float32[4,2,4]" << "torch" << "x" << "fixable"
                                                             << R"([{"op":"transpose","perm":[0,2,1]}])"
                                                             << "2 permutations fit; chose w.transpose(0, 2, 1) (fewest axes moved)";
    QTest::newRow("equinox ConvTranspose2d") << "float32[8,16,3,3]" << "float32[16,8,3,3]" << "equinox" << ".up.weight" << "fixable"
                                             << R"([{"op":"transpose","perm":[1,0,2,3]},{"op":"flip","axes":[2,3]}])"
                                             << "a transposed convolution (Equinox flips the kernel)";
    QTest::newRow("equinox ConvTranspose1d") << "float32[4,6,5]" << "float32[6,4,5]" << "equinox" << ".up.weight" << "fixable"
                                             << R"([{"op":"transpose","perm":[1,0,2]},{"op":"flip","axes":[2]}])" << "transposed convolution";
    QTest::newRow("torch swapped conv is not flipped") << "float32[8,16,3,3]" << "float32[16,8,3,3]" << "torch" << "up.weight" << "fixable"
                                                       << R"([{"op":"transpose","perm":[1,0,2,3]}])" << "chose w.transpose(1, 0, 2, 3)";

    // Cast
    QTest::newRow("bf16 -> f32") << "bfloat16[16,8]" << "float32[16,8]" << "equinox" << ".fc.weight" << "fixable"
                                 << R"([{"op":"cast","dtype":"float32"}])" << "dtype bfloat16 -> float32";
    QTest::newRow("f32 -> f16") << "float32[4]" << "float16[4]" << "torch" << "b" << "fixable" << R"([{"op":"cast","dtype":"float16"}])"
                                << "dtype float32 -> float16";
    QTest::newRow("bf16 conv bias -> f32 [C,1,1]") << "bfloat16[8]" << "float32[8,1,1]" << "equinox" << ".features[0].bias" << "fixable"
                                                   << R"([{"op":"reshape","shape":[8,1,1]},{"op":"cast","dtype":"float32"}])"
                                                   << "size-1 axes differ: [8] -> [8, 1, 1]; dtype bfloat16 -> float32";
    QTest::newRow("flax kernel from f16") << "float16[32,64]" << "float32[64,32]" << "flax" << "params/fc/kernel" << "fixable"
                                          << R"([{"op":"transpose","perm":[1,0]},{"op":"cast","dtype":"float32"}])"
                                          << "flax convention: w.T; dtype float16 -> float32";

    // Incompatible
    QTest::newRow("fused qkv") << "float32[48,16]" << "float32[16,16]" << "equinox" << ".attn.query_proj.weight" << "incompatible" << "[]"
                               << "source axis 0 is 3 x the target's: a fused tensor; map one slice explicitly";
    QTest::newRow("fused along axis 1") << "float32[4,8]" << "float32[4,2]" << "torch" << "x" << "incompatible" << "[]"
                                        << "source axis 1 is 4 x the target's";
    QTest::newRow("different class count") << "float32[10,64]" << "float32[20,64]" << "torch" << "fc.weight" << "incompatible" << "[]"
                                           << "shape [10, 64] cannot become [20, 64] (640 vs 1280 elements)";
    QTest::newRow("same numel, no mapping") << "float32[4,6]" << "float32[3,8]" << "torch" << "x" << "incompatible" << "[]"
                                            << "shapes [4, 6] and [3, 8] hold the same number of elements but no reshape or transpose maps them";
    QTest::newRow("rank differs, same numel") << "float32[2,3]" << "float32[6]" << "torch" << "x" << "incompatible" << "[]"
                                              << "hold the same number of elements";
    // An axis of size 1 between two others has a meaning: a (7, 1) kernel is not a (1, 7) one
    // (torchvision Inception v3 has both); neither a reshape nor a transpose may turn it.
    QTest::newRow("(7, 1) kernel vs (1, 7)") << "float32[8,8,7,1]" << "float32[8,8,1,7]" << "equinox" << ".conv.weight" << "incompatible"
                                            << "[]" << "axes of size 1 sit elsewhere between the other axes: [8, 8, 7, 1] vs [8, 8, 1, 7]";
    QTest::newRow("conv1d kernel vs a (1, k) conv2d one") << "float32[8,4,5]" << "float32[8,4,1,5]" << "torch" << "conv.weight"
                                                          << "incompatible" << "[]" << "axes of size 1 sit elsewhere";
    QTest::newRow("scalar vs vector") << "int64[]" << "float32[8]" << "equinox" << ".fc.bias" << "incompatible" << "[]"
                                      << "shape [] cannot become [8] (1 vs 8 elements)";
}

void TestShapeAnalysis::analysePair()
{
    QFETCH(QString, source);
    QFETCH(QString, target);
    QFETCH(QString, convention);
    QFETCH(QString, targetKey);
    QFETCH(QString, status);
    QFETCH(QString, transforms);
    QFETCH(QString, reason);

    const PairAnalysis analysis = graft::analysePair(spec(source), spec(target), conventionFromName(convention), targetKey);
    QCOMPARE(matchStatusName(analysis.status), status);
    QCOMPARE(chainText(analysis.transforms), chainText(chain(transforms)));
    QVERIFY2(analysis.reason.contains(reason), qPrintable(analysis.reason));
}

void TestShapeAnalysis::fixableChainsYieldTheTarget()
{
    QFETCH(QString, source);
    QFETCH(QString, target);
    QFETCH(QString, convention);
    QFETCH(QString, targetKey);

    const PairAnalysis analysis = graft::analysePair(spec(source), spec(target), conventionFromName(convention), targetKey);
    if (analysis.status == MatchStatus::Incompatible) {
        QVERIFY(analysis.transforms.empty());
        return;
    }
    Result<TensorSpec> produced = inferTransforms({spec(source)}, analysis.transforms);
    QVERIFY2(produced.ok(), produced.ok() ? "" : qPrintable(produced.error().message));
    QVERIFY(*produced == spec(target));
    QCOMPARE(analysis.status == MatchStatus::Exact, analysis.transforms.empty());
}

void TestShapeAnalysis::analyseChain_data()
{
    QTest::addColumn<QStringList>("sources");
    QTest::addColumn<QString>("transforms");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("reason");

    QTest::newRow("no-op") << QStringList{"float32[4]"} << "[]" << "float32[4]" << "exact" << "same shape and dtype";
    QTest::newRow("slice of fused") << QStringList{"float32[48,16]"} << R"([{"op":"slice","axis":0,"start":32,"stop":48}])"
                                    << "float32[16,16]" << "fixable" << "explicit: w[32:48]";
    QTest::newRow("concat q,k,v") << QStringList{"float32[16,16]", "float32[16,16]", "float32[16,16]"} << R"([{"op":"concat","axis":0}])"
                                  << "float32[48,16]" << "fixable" << "explicit: np.concatenate([w0, w1, w2], axis=0)";
    QTest::newRow("sum of biases") << QStringList{"float32[12]", "float32[12]"} << R"([{"op":"sum"}])" << "float32[12]" << "fixable"
                                   << "explicit: w0 + w1";
    QTest::newRow("stacked layers") << QStringList{"float32[4,4]", "float32[4,4]", "float32[4,4]"} << R"([{"op":"stack","axis":0}])"
                                    << "float32[3,4,4]" << "fixable" << "explicit";
    QTest::newRow("wrong result shape") << QStringList{"float32[10,32]"} << "[]" << "float32[10,64]" << "incompatible"
                                        << "the transforms give float32 [10, 32], the target is float32 [10, 64]";
    QTest::newRow("wrong result dtype") << QStringList{"bfloat16[4]"} << "[]" << "float32[4]" << "incompatible"
                                        << "the transforms give bfloat16 [4], the target is float32 [4]";
    QTest::newRow("chain does not apply") << QStringList{"float32[8]"} << R"([{"op":"transpose","perm":[1,0]}])" << "float32[8]"
                                          << "incompatible" << "transpose (1, 0) needs 2 dimensions, the tensor has 1";
    QTest::newRow("two sources, no combine") << QStringList{"float32[8]", "float32[8]"} << "[]" << "float32[8]" << "incompatible"
                                             << "2 sources need concat, stack or sum first";
}

void TestShapeAnalysis::analyseChain()
{
    QFETCH(QStringList, sources);
    QFETCH(QString, transforms);
    QFETCH(QString, target);
    QFETCH(QString, status);
    QFETCH(QString, reason);

    const PairAnalysis analysis = graft::analyseChain(specs(sources), chain(transforms), spec(target));
    QCOMPARE(matchStatusName(analysis.status), status);
    QCOMPARE(chainText(analysis.transforms), chainText(chain(transforms)));
    QVERIFY2(analysis.reason.contains(reason), qPrintable(analysis.reason));
}

void TestShapeAnalysis::names()
{
    QCOMPARE(conventionName(Convention::Torch), QStringLiteral("torch"));
    QCOMPARE(conventionName(Convention::Equinox), QStringLiteral("equinox"));
    QCOMPARE(conventionName(Convention::Flax), QStringLiteral("flax"));
    QCOMPARE(matchStatusName(MatchStatus::Exact), QStringLiteral("exact"));
    QCOMPARE(matchStatusName(MatchStatus::Fixable), QStringLiteral("fixable"));
    QCOMPARE(matchStatusName(MatchStatus::Incompatible), QStringLiteral("incompatible"));
    QCOMPARE(matchStatusName(MatchStatus::Unmapped), QStringLiteral("unmapped"));
    QCOMPARE(matchStatusName(MatchStatus::Kept), QStringLiteral("kept"));
}

QTEST_GUILESS_MAIN(TestShapeAnalysis)
#include "tst_shapeanalysis.moc"
