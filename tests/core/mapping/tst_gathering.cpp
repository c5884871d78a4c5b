// Several sources into one leaf (gathering.h): the chain lifted past a stacked axis, and which
// of the keys a user drags (a GPT-2 layer group, per-layer leaves, q/k/v of ViT) a stacked or
// fused leaf takes, in which order, with which chain; and the refusals, each with its reason.
// The chains are checked by shape inference here; values in tests/ui/tst_multisourcedrop.cpp.
#include "mapping/gathering.h"
#include "mappingcheck.h"

#include <QTest>

using namespace graft;
using graft::test::chainText;
using graft::test::spec;

namespace {

KeySpec key(const QString &name, const QString &tensorSpec) { return {name, spec(tensorSpec), LeafKind::Array}; }

// HF GPT-2 blocks (D = 4): Conv1D weights are (in, out).
std::vector<KeySpec> gpt2Layers(const QList<int> &layers)
{
    std::vector<KeySpec> keys;
    for (int i : layers) {
        const QString b = QStringLiteral("transformer.h.%1.").arg(i);
        keys.insert(keys.end(), {key(b + "ln_1.weight", "float32[4]"), key(b + "attn.c_attn.weight", "float32[4,12]"),
                                 key(b + "attn.c_attn.bias", "float32[12]"), key(b + "attn.c_proj.weight", "float32[4,4]"),
                                 key(b + "mlp.c_fc.weight", "float32[4,16]")});
    }
    return keys;
}

// HF ViT self-attention of one layer (D = 4): nn.Linear weights are (out, in).
std::vector<KeySpec> vitAttention(const QString &layer, const QStringList &order)
{
    std::vector<KeySpec> keys;
    for (const QString &part : order)
        keys.push_back(key(QStringLiteral("vit.encoder.layer.%1.attention.attention.%2.weight").arg(layer, part), "float32[4,4]"));
    return keys;
}

TensorSpec inferred(const std::vector<KeySpec> &all, const GatheredSources &gathered)
{
    std::vector<TensorSpec> inputs;
    for (const QString &source : gathered.sources) {
        for (const KeySpec &k : all) {
            if (k.key == source)
                inputs.push_back(k.spec);
        }
    }
    Result<TensorSpec> out = inferTransforms(inputs, gathered.analysis.transforms);
    if (!out)
        qFatal("chain does not apply: %s", qPrintable(out.error().message));
    return *out;
}

} // namespace

class TestGathering : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void liftedToStackShiftsEveryAxis();
    void layerGroupStacksTheLeafThatFitsEachLayer();
    void perLayerSelectionStacksInLayerOrder();
    void qkvConcatenateInRoleOrder();
    void unknownRolesConcatenateInSelectionOrder();
    void perLayerPartsStackAndConcatenate();
    void refusalsSayWhy_data();
    void refusalsSayWhy();
};

void TestGathering::liftedToStackShiftsEveryAxis()
{
    QCOMPARE(chainText({liftedTransform(Transform::transpose({1, 0}), 3)}), chainText({Transform::transpose({0, 2, 1})}));
    QCOMPARE(chainText({liftedTransform(Transform::reshape({4, 1, 1}), 3)}), chainText({Transform::reshape({3, 4, 1, 1})}));
    QCOMPARE(chainText({liftedTransform(Transform::flip({0, 1}), 3)}), chainText({Transform::flip({1, 2})}));
    QCOMPARE(chainText({liftedTransform(Transform::slice(0, 4, 8), 3)}), chainText({Transform::slice(1, 4, 8)}));
    QCOMPARE(chainText({liftedTransform(Transform::cast(DType::Float16), 3)}), chainText({Transform::cast(DType::Float16)}));
}

void TestGathering::layerGroupStacksTheLeafThatFitsEachLayer()
{
    // The subtree `transformer.h` dragged onto an eqx.filter_vmap stack [L, 3D, D].
    const std::vector<KeySpec> dropped = gpt2Layers({0, 1, 2});
    const KeySpec target = key(QStringLiteral(".blocks.attn.qkv.weight"), "float32[3,12,4]");
    const GatheredSources gathered = gatherSources(dropped, target, Convention::Equinox);
    QCOMPARE(gathered.sources, (QStringList{"transformer.h.0.attn.c_attn.weight", "transformer.h.1.attn.c_attn.weight",
                                            "transformer.h.2.attn.c_attn.weight"}));
    QCOMPARE(gathered.analysis.status, MatchStatus::Fixable);
    QCOMPARE(chainText(gathered.analysis.transforms), chainText({Transform::stack(0), Transform::transpose({0, 2, 1})}));
    QCOMPARE(gathered.origin, MatchOrigin::Stacked);
    QCOMPARE(gathered.layers, 3);
    QCOMPARE(gathered.description, QStringLiteral("stacked 3 layers of transformer.h.#.attn.c_attn.weight"));
    QVERIFY(inferred(dropped, gathered) == target.spec);
    QCOMPARE(roleInLayer(gathered.sources.front()), QStringLiteral("attn.qkv.weight"));

    // The bias of the same group goes to the stacked bias: the role decides, not the order.
    const KeySpec bias = key(QStringLiteral(".blocks.attn.qkv.bias"), "float32[3,12]");
    const GatheredSources biases = gatherSources(dropped, bias, Convention::Equinox);
    QCOMPARE(biases.sources, (QStringList{"transformer.h.0.attn.c_attn.bias", "transformer.h.1.attn.c_attn.bias",
                                          "transformer.h.2.attn.c_attn.bias"}));
    QCOMPARE(chainText(biases.analysis.transforms), chainText({Transform::stack(0)}));
}

void TestGathering::perLayerSelectionStacksInLayerOrder()
{
    // Selected 10, 2, 0 (natural order: layer 10 after 2): stacked 0, 2, 10 — the block order.
    std::vector<KeySpec> dropped;
    for (int layer : {10, 2, 0})
        dropped.push_back(key(QStringLiteral("transformer.h.%1.mlp.c_fc.weight").arg(layer), "float32[4,16]"));
    const KeySpec target = key(QStringLiteral(".blocks.mlp.fc1.weight"), "float32[3,16,4]");
    const GatheredSources gathered = gatherSources(dropped, target, Convention::Equinox);
    QCOMPARE(gathered.sources, (QStringList{"transformer.h.0.mlp.c_fc.weight", "transformer.h.2.mlp.c_fc.weight",
                                            "transformer.h.10.mlp.c_fc.weight"}));
    QCOMPARE(chainText(gathered.analysis.transforms), chainText({Transform::stack(0), Transform::transpose({0, 2, 1})}));
    QVERIFY(inferred(dropped, gathered) == target.spec);
}

void TestGathering::qkvConcatenateInRoleOrder()
{
    // Selected v, q, k: a fused qkv holds them as q, k, v.
    const std::vector<KeySpec> dropped = vitAttention(QStringLiteral("0"), {"value", "query", "key"});
    const KeySpec target = key(QStringLiteral(".blocks[0].attn.qkv.weight"), "float32[12,4]");
    const GatheredSources gathered = gatherSources(dropped, target, Convention::Equinox);
    QCOMPARE(gathered.sources, (QStringList{"vit.encoder.layer.0.attention.attention.query.weight",
                                            "vit.encoder.layer.0.attention.attention.key.weight",
                                            "vit.encoder.layer.0.attention.attention.value.weight"}));
    QCOMPARE(gathered.parts, (QStringList{"q", "k", "v"}));
    QCOMPARE(roleInLayer(gathered.sources[1]), QStringLiteral("attn.k.weight"));
    QCOMPARE(gathered.origin, MatchOrigin::Concat);
    QCOMPARE(gathered.description, QStringLiteral("concatenated q, k, v"));
    QCOMPARE(chainText(gathered.analysis.transforms), chainText({Transform::concat(0)}));
    QCOMPARE(gathered.analysis.status, MatchStatus::Fixable);
    QVERIFY(inferred(dropped, gathered) == target.spec);
}

void TestGathering::unknownRolesConcatenateInSelectionOrder()
{
    const std::vector<KeySpec> dropped{key("net.second.weight", "float32[2,4]"), key("net.first.weight", "float32[3,4]")};
    const KeySpec target = key(QStringLiteral("merged.weight"), "float32[5,4]");
    const GatheredSources gathered = gatherSources(dropped, target, Convention::Torch);
    QCOMPARE(gathered.sources, (QStringList{"net.second.weight", "net.first.weight"}));
    QCOMPARE(chainText(gathered.analysis.transforms), chainText({Transform::concat(0)}));
    QVERIFY(gathered.description.startsWith(QStringLiteral("concatenated net.second.weight, net.first.weight")));
}

void TestGathering::perLayerPartsStackAndConcatenate()
{
    // Two layers' q, k, v into a stacked qkv [L, 3D, D]: layer-major, parts joined per layer.
    std::vector<KeySpec> dropped = vitAttention(QStringLiteral("1"), {"query", "key", "value"});
    const std::vector<KeySpec> first = vitAttention(QStringLiteral("0"), {"key", "query", "value"});
    dropped.insert(dropped.end(), first.begin(), first.end());
    const KeySpec target = key(QStringLiteral(".blocks.attn.qkv.weight"), "float32[2,12,4]");
    const GatheredSources gathered = gatherSources(dropped, target, Convention::Equinox);
    QCOMPARE(gathered.sources.size(), 6);
    QVERIFY(gathered.sources[0].endsWith(QStringLiteral("layer.0.attention.attention.query.weight")));
    QVERIFY(gathered.sources[2].endsWith(QStringLiteral("layer.0.attention.attention.value.weight")));
    QVERIFY(gathered.sources[3].endsWith(QStringLiteral("layer.1.attention.attention.query.weight")));
    QCOMPARE(chainText(gathered.analysis.transforms), chainText({Transform::stack(0), Transform::reshape({2, 12, 4})}));
    QCOMPARE(gathered.description, QStringLiteral("stacked 2 layers of vit.encoder.layer.#.attention.attention.query.weight, concatenated q, k, v"));
    QVERIFY(inferred(dropped, gathered) == target.spec);
}

void TestGathering::refusalsSayWhy_data()
{
    QTest::addColumn<QString>("targetKey");
    QTest::addColumn<QString>("targetSpec");
    QTest::addColumn<QList<int>>("layers");
    QTest::addColumn<QString>("reason");
    QTest::newRow("layer count") << ".blocks.attn.qkv.weight" << "float32[4,12,4]" << QList<int>{0, 1, 2} << "3 layers dropped, the leaf's first axis is 4";
    QTest::newRow("no fit") << ".blocks.other.weight" << "float32[3,7,4]" << QList<int>{0, 1, 2} << "no key of layer 0 fits .blocks.other.weight";
    QTest::newRow("pair") << ".blocks.attn.qkv.weight" << "float32[3,7,4]" << QList<int>{0, 1, 2} << "shape [4, 12] cannot become [7, 4]";
    QTest::newRow("ambiguous") << ".blocks.something.weight" << "float32[2,4,4]" << QList<int>{0, 1} << "several keys of layer 0 fit";
}

void TestGathering::refusalsSayWhy()
{
    QFETCH(QString, targetKey);
    QFETCH(QString, targetSpec);
    QFETCH(QList<int>, layers);
    QFETCH(QString, reason);
    std::vector<KeySpec> dropped = gpt2Layers(layers);
    if (QByteArray(QTest::currentDataTag()) == "ambiguous") // two square leaves per layer
        dropped.push_back(key(QStringLiteral("transformer.h.0.attn.extra.weight"), "float32[4,4]"));
    const GatheredSources gathered = gatherSources(dropped, key(targetKey, targetSpec), Convention::Equinox);
    QCOMPARE(gathered.analysis.status, MatchStatus::Incompatible);
    QVERIFY2(gathered.analysis.reason.contains(reason), qPrintable(gathered.analysis.reason));
}

QTEST_GUILESS_MAIN(TestGathering)
#include "tst_gathering.moc"
