// Key normalisation: torch, Equinox keystr and Flax paths of the same parameter meet in one
// canonical form; wrappers and synonyms are removed; nothing else is.

#include "mapping/keynames.h"

#include <QTest>

using namespace graft;

class TestKeyNames : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void canonical_data();
    void canonical();
    void distinctStayDistinct_data();
    void distinctStayDistinct();
    void loose_data();
    void loose();
    void tokens_data();
    void tokens();
    void parameter();
    void oneBasedNamesAreJoined();
};

void TestKeyNames::canonical_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");

    // The same conv weight in three frameworks.
    QTest::newRow("torch") << "features.0.weight" << "features.0.weight";
    QTest::newRow("equinox keystr") << ".features[0].weight" << "features.0.weight";
    QTest::newRow("flax path") << "params/features_0/kernel" << "features.0.weight";
    QTest::newRow("flax dict keystr") << "['params']['features_0']['kernel']" << "features.0.weight";
    QTest::newRow("equinox dict field") << ".blocks['attn'].weight" << "blocks.attn.weight";

    // Wrappers
    QTest::newRow("DataParallel module.") << "module.features.0.weight" << "features.0.weight";
    QTest::newRow("model.") << "model.layer1.0.conv1.weight" << "layer1.0.conv1.weight";
    QTest::newRow("state_dict.") << "state_dict.fc.weight" << "fc.weight";
    QTest::newRow("model_state_dict.") << "model_state_dict.fc.bias" << "fc.bias";
    QTest::newRow("torch.compile _orig_mod.") << "_orig_mod.fc.weight" << "fc.weight";
    QTest::newRow("stacked wrappers") << "module.model.fc.weight" << "fc.weight";
    QTest::newRow("model deeper in the path is kept") << "encoder.model.fc.weight" << "encoder.model.fc.weight";
    QTest::newRow("(model, state) model part") << "[0].conv1.weight" << "conv1.weight";
    QTest::newRow("(model, state) state part") << "[1].bn1.running_mean" << "bn1.running_mean";
    QTest::newRow("exporter state naming") << "[0].layer1[0].bn1.running_var" << "layer1.0.bn1.running_var";
    QTest::newRow("torch top-level Sequential keeps its index") << "0.weight" << "0.weight";
    QTest::newRow("flax batch_stats") << "batch_stats/bn1/mean" << "bn1.running_mean";
    QTest::newRow("flax batch_stats var") << "batch_stats/layer1_0/bn1/var" << "layer1.0.bn1.running_var";

    // Synonyms (last token)
    QTest::newRow("kernel") << "params/fc1/kernel" << "fc1.weight";
    QTest::newRow("scale") << "params/norm/scale" << "norm.weight";
    QTest::newRow("embedding") << "params/embed/embedding" << "embed.weight";
    QTest::newRow("gamma") << "bn.gamma" << "bn.weight";
    QTest::newRow("beta") << "bn.beta" << "bn.bias";
    QTest::newRow("output_proj") << ".attn.output_proj.weight" << "attn.out_proj.weight";
    QTest::newRow("torch out_proj unchanged") << "attn.out_proj.weight" << "attn.out_proj.weight";
    QTest::newRow("synonym only as the parameter") << "kernel.scale.weight" << "kernel.scale.weight";

    // Case and auto-names
    QTest::newRow("flax Dense_0") << "params/Dense_0/kernel" << "dense.0.weight";
    QTest::newRow("upper case") << "Encoder.Layer.0.Weight" << "encoder.layer.0.weight";
    QTest::newRow("layer1 is one token") << "layer1.0.conv1.weight" << "layer1.0.conv1.weight";
    QTest::newRow("empty") << "" << "";
}

void TestKeyNames::canonical()
{
    QFETCH(QString, key);
    QFETCH(QString, expected);
    QCOMPARE(canonicalKey(key), expected);
}

void TestKeyNames::distinctStayDistinct_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::newRow("weight vs bias") << "fc.weight" << "fc.bias";
    QTest::newRow("index") << "features.0.weight" << "features.3.weight";
    QTest::newRow("running_mean vs running_var") << "bn.running_mean" << "bn.running_var";
    QTest::newRow("num_batches_tracked") << "bn.num_batches_tracked" << "bn.running_mean";
    QTest::newRow("layer1 vs layer.1") << "layer1.weight" << "layer.1.weight";
    QTest::newRow("renamed equinox leaf") << ".convs[0].w" << "features.0.weight";
}

void TestKeyNames::distinctStayDistinct()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QVERIFY(canonicalKey(a) != canonicalKey(b));
}

void TestKeyNames::loose_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");
    QTest::newRow("eqx.nn.Sequential layers") << "[0].layer2[0].downsample.layers[1].running_mean" << "layer2.0.downsample.1.running_mean";
    QTest::newRow("torch Sequential") << "layer2.0.downsample.1.running_mean" << "layer2.0.downsample.1.running_mean";
    QTest::newRow("blocks") << "encoder.blocks.3.mlp.fc1.weight" << "encoder.3.mlp.fc1.weight";
    QTest::newRow("top-level Sequential") << ".layers[0].weight" << "0.weight";
}

void TestKeyNames::loose()
{
    QFETCH(QString, key);
    QFETCH(QString, expected);
    QCOMPARE(looseKey(key), expected);
}

void TestKeyNames::tokens_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("torch") << "features.0.weight" << QStringList{"features", "0", "weight"};
    QTest::newRow("keystr") << ".features[0]['w']" << QStringList{"features", "0", "w"};
    QTest::newRow("flax") << "params/Conv_1/kernel" << QStringList{"params", "conv", "1", "kernel"};
    QTest::newRow("snake case kept") << "bn.running_mean" << QStringList{"bn", "running_mean"};
    QTest::newRow("double quotes") << "[\"a\"].b" << QStringList{"a", "b"};
}

void TestKeyNames::tokens()
{
    QFETCH(QString, key);
    QFETCH(QStringList, expected);
    QCOMPARE(keyTokens(key), expected);
}

void TestKeyNames::parameter()
{
    QCOMPARE(parameterName(QStringLiteral("params/conv/kernel")), QStringLiteral("weight"));
    QCOMPARE(parameterName(QStringLiteral(".features[0].bias")), QStringLiteral("bias"));
    QCOMPARE(parameterName(QStringLiteral("batch_stats/bn/var")), QStringLiteral("running_var"));
    QCOMPARE(parameterName(QStringLiteral("bn1.num_batches_tracked")), QStringLiteral("num_batches_tracked"));
}

// A numbered name is an index when its siblings count from 0 (Flax's Dense_0, Dense_1), a name
// when they count from 1 (Inception's branch3x3dbl_1.._3, GPT-2's ln_1/ln_2, latent diffusion's
// block_1/block_2): those are joined so that no pass reads branch3x3dbl_2 as list entry [2].
void TestKeyNames::oneBasedNamesAreJoined()
{
    const std::vector<QString> keys{QStringLiteral("Mixed_5b.branch3x3dbl_1.conv.weight"), QStringLiteral("Mixed_5b.branch3x3dbl_2.conv.weight"),
                                    QStringLiteral("Mixed_5b.branch3x3dbl_3.conv.weight"), QStringLiteral("h.0.ln_1.weight"),
                                    QStringLiteral("h.0.ln_2.weight"), QStringLiteral("params/Dense_0/kernel"),
                                    QStringLiteral("params/Dense_1/kernel"), QStringLiteral("decoder.mid.block_1.conv1.weight"),
                                    QStringLiteral("Conv2d_1a_3x3.conv.weight"), QStringLiteral("wi_0.weight"), QStringLiteral("wi_1.weight")};
    const std::vector<QString> expected{QStringLiteral("Mixed_5b.branch3x3dbl1.conv.weight"), QStringLiteral("Mixed_5b.branch3x3dbl2.conv.weight"),
                                        QStringLiteral("Mixed_5b.branch3x3dbl3.conv.weight"), QStringLiteral("h.0.ln1.weight"),
                                        QStringLiteral("h.0.ln2.weight"), QStringLiteral("params/Dense_0/kernel"),
                                        QStringLiteral("params/Dense_1/kernel"), QStringLiteral("decoder.mid.block1.conv1.weight"),
                                        QStringLiteral("Conv2d_1a_3x3.conv.weight"), QStringLiteral("wi_0.weight"), QStringLiteral("wi_1.weight")};
    QCOMPARE(withOneBasedNamesJoined(keys), expected);
    // Siblings are the same stem under the same prefix: another block's names count apart.
    const std::vector<QString> blocks{QStringLiteral("a.layers_0.w"), QStringLiteral("b.layers_1.w")};
    QCOMPARE(withOneBasedNamesJoined(blocks), (std::vector<QString>{QStringLiteral("a.layers_0.w"), QStringLiteral("b.layers1.w")}));
}

QTEST_GUILESS_MAIN(TestKeyNames)
#include "tst_keynames.moc"
