// Structure before order: real naming schemes (Hugging Face GPT-2 / ViT / BERT, stacked
// Equinox blocks, Flax) on hand-written key lists with real shapes. Checks what a correct port
// needs: the source each leaf gets, the chain (stack, concat, slice, transpose), that order and
// shape alone only guess and never pair contradicting names, buffers and the BatchNorm flag.
// Value-level checks of the same rules run in the mapping corpus (tests/fixtures/ports).
#include "mapping/automatcher.h"
#include "mapping/namingtable.h"
#include "mapping/profile.h"
#include "mappingcheck.h"

#include <QTest>

using namespace graft;
using graft::test::chainText;
using graft::test::describe;
using graft::test::mappingFor;
using graft::test::spec;

namespace {

KeySpec key(const QString &name, const QString &tensorSpec, LeafKind kind = LeafKind::Array) { return test::keySpec(name, tensorSpec, kind); }



// HF GPT-2 (D = 8, 2 layers, 16 positions): Conv1D weights are (in, out); attn.bias and
// masked_bias are buffers.
std::vector<KeySpec> gpt2Source(bool prefix = true)
{
    const QString p = prefix ? QStringLiteral("transformer.") : QString();
    std::vector<KeySpec> keys{key(p + "wte.weight", "float32[50,8]"), key(p + "wpe.weight", "float32[16,8]")};
    for (int i = 0; i < 2; ++i) {
        const QString b = p + QStringLiteral("h.%1.").arg(i);
        keys.insert(keys.end(), {key(b + "ln_1.weight", "float32[8]"), key(b + "ln_1.bias", "float32[8]"),
                                 key(b + "attn.bias", "float32[1,1,16,16]"), key(b + "attn.masked_bias", "float32[]"),
                                 key(b + "attn.c_attn.weight", "float32[8,24]"), key(b + "attn.c_attn.bias", "float32[24]"),
                                 key(b + "attn.c_proj.weight", "float32[8,8]"), key(b + "attn.c_proj.bias", "float32[8]"),
                                 key(b + "ln_2.weight", "float32[8]"), key(b + "ln_2.bias", "float32[8]"),
                                 key(b + "mlp.c_fc.weight", "float32[8,32]"), key(b + "mlp.c_fc.bias", "float32[32]"),
                                 key(b + "mlp.c_proj.weight", "float32[32,8]"), key(b + "mlp.c_proj.bias", "float32[8]")});
    }
    keys.insert(keys.end(), {key(p + "ln_f.weight", "float32[8]"), key(p + "ln_f.bias", "float32[8]"), key("lm_head.weight", "float32[50,8]")});
    return keys;
}

} // namespace

class TestStructureMatcher : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roleTokens_data();
    void roleTokens();
    void gpt2PerLayerFromTheIssue();
    void gpt2StackedBlocks();
    void fusedSourceSplitIntoProjections();
    void separateProjectionsConcatenatedIntoFused();
    void stackedSourceUnstacked();
    void orderAndShapeOnlyGuess();
    void contradictingNamesAreNeverPaired();
    void encoderNeverLearnsFromDecoder();
    void flaxKernelsFromConv1DFollowTheirSiblings();
    void batchNormFlagIsSetWhenStatisticsAreLoaded();
};

void TestStructureMatcher::roleTokens_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("roles");
    QTest::newRow("gpt2 attn c_proj") << "transformer.h.0.attn.c_proj.weight" << "transformer.layers.0.attn.out_proj.weight";
    QTest::newRow("gpt2 mlp c_proj") << "transformer.h.3.mlp.c_proj.weight" << "transformer.layers.3.mlp.fc2.weight";
    QTest::newRow("gpt2 ln_1") << "transformer.h.0.ln_1.bias" << "transformer.layers.0.norm1.bias";
    QTest::newRow("equinox gpt2") << ".h[0].ln_1.weight" << "layers.0.norm1.weight";
    QTest::newRow("bert query") << "bert.encoder.layer.2.attention.self.query.weight" << "bert.encoder.layers.2.attn.q.weight";
    QTest::newRow("bert attention output") << "bert.encoder.layer.2.attention.output.dense.bias" << "bert.encoder.layers.2.attn.out_proj.bias";
    QTest::newRow("bert attention norm") << "bert.encoder.layer.2.attention.output.LayerNorm.gamma" << "bert.encoder.layers.2.norm1.weight";
    QTest::newRow("bert ffn out") << "bert.encoder.layer.2.output.dense.weight" << "bert.encoder.layers.2.mlp.fc2.weight";
    QTest::newRow("vit hf") << "vit.encoder.layer.0.attention.attention.key.weight" << "vit.encoder.layers.0.attn.k.weight";
    QTest::newRow("llama") << "model.layers.1.mlp.gate_proj.weight" << "model.layers.1.mlp.gate.weight";
    QTest::newRow("llama up") << "model.layers.1.mlp.up_proj.weight" << "model.layers.1.mlp.fc1.weight";
    QTest::newRow("meta llama w3 = up") << "layers.1.feed_forward.w3.weight" << "layers.1.mlp.fc1.weight";
    QTest::newRow("meta llama norm") << "layers.1.attention_norm.weight" << "layers.1.norm1.weight";
    QTest::newRow("torchvision vit fused") << "encoder.layers.encoder_layer_0.self_attention.in_proj_weight"
                                           << "encoder.layers.0.attn.qkv.weight";
    QTest::newRow("final norm") << "transformer.ln_f.weight" << "transformer.norm_f.weight";
    QTest::newRow("deep norm is no final norm") << "cls.predictions.transform.LayerNorm.weight"
                                                << "cls.predictions.transform.layernorm.weight";
    QTest::newRow("flax scale") << "params/layers_0/norm1/scale" << "layers.0.norm1.weight";
    QTest::newRow("model, state index dropped") << "[0].layer1[0].bn1.running_mean" << "layer1.0.bn1.running_mean";
    QTest::newRow("bare eqx record kept") << "[3]" << "3";
}

void TestStructureMatcher::roleTokens()
{
    QFETCH(QString, key);
    QFETCH(QString, roles);
    QCOMPARE(graft::roleTokens(key).join(QLatin1Char('.')), roles);
}

void TestStructureMatcher::gpt2PerLayerFromTheIssue()
{
    // The issue's example: the names agree but for the `transformer.` prefix and `[0]` vs `.0`.
    std::vector<KeySpec> targets{key(".wte.weight", "float32[50,8]"), key(".wpe.weight", "float32[16,8]")};
    for (int i = 0; i < 2; ++i) {
        const QString b = QStringLiteral(".h[%1].").arg(i);
        targets.insert(targets.end(), {key(b + "ln_1.weight", "float32[8]"), key(b + "ln_1.bias", "float32[8]"),
                                       key(b + "attn.c_attn.weight", "float32[24,8]"), key(b + "attn.c_attn.bias", "float32[24]"),
                                       key(b + "attn.c_proj.weight", "float32[8,8]"), key(b + "attn.c_proj.bias", "float32[8]"),
                                       key(b + "ln_2.weight", "float32[8]"), key(b + "ln_2.bias", "float32[8]"),
                                       key(b + "mlp.c_fc.weight", "float32[32,8]"), key(b + "mlp.c_fc.bias", "float32[32]"),
                                       key(b + "mlp.c_proj.weight", "float32[8,32]"), key(b + "mlp.c_proj.bias", "float32[8]")});
    }
    targets.insert(targets.end(), {key(".ln_f.weight", "float32[8]"), key(".ln_f.bias", "float32[8]"), key(".lm_head.weight", "float32[50,8]")});
    const MappingResult result = autoMatch(gpt2Source(), targets, {}, Convention::Equinox);
    QVERIFY(result.complete());
    for (const Mapping &m : result.mappings) {
        // Every leaf gets its namesake (".h[1].ln_1.weight" <- "transformer.h.1.ln_1.weight").
        QString expected = m.target.mid(1).replace(QLatin1Char('['), QLatin1Char('.')).remove(QLatin1Char(']'));
        if (!expected.startsWith(QLatin1String("lm_head")))
            expected.prepend(QStringLiteral("transformer."));
        QVERIFY2(m.sources == QStringList{expected}, qPrintable(describe(m)));
        QVERIFY2(m.origin != MatchOrigin::OrderShape, qPrintable(describe(m)));
    }
    // The square c_proj is transposed like its non-square Conv1D siblings, and says so.
    const Mapping &square = mappingFor(result, QStringLiteral(".h[1].attn.c_proj.weight"));
    QCOMPARE(chainText(square.transforms), chainText({Transform::transpose({1, 0})}));
    QVERIFY2(square.reason.contains(QStringLiteral("square: transposed like its non-square siblings")), qPrintable(square.reason));
    QCOMPARE(chainText(mappingFor(result, QStringLiteral(".h[0].mlp.c_fc.weight")).transforms), chainText({Transform::transpose({1, 0})}));
    // Buffers are listed as such, not as unused sources.
    QVERIFY(result.unusedSources.isEmpty());
    QCOMPARE(result.unusedBuffers.size(), size_t(4));
    QCOMPARE(result.unusedBuffers[0].key, QStringLiteral("transformer.h.0.attn.bias"));
    QVERIFY(result.unusedBuffers[0].reason.contains(QStringLiteral("causal-mask")));
    // The rewrite is learned from the keys whose tails agree, and reported.
    QVERIFY(!result.rewrites.empty());
    QCOMPARE(result.rewrites.front().sourceHead, QStringLiteral("transformer"));
    QCOMPARE(result.rewrites.front().targetHead, QString());
    QCOMPARE(result.rewrites.front().support, 28);
    // ... and becomes a rename rule a profile saves: with it alone, names match again.
    const std::vector<RenameRule> rules = learnedRenameRules(result);
    QCOMPARE(rules.size(), size_t(1));
    QCOMPARE(rules.front().apply(QStringLiteral("transformer.h.1.ln_2.bias")), QStringLiteral("h.1.ln_2.bias"));
    QCOMPARE(rules.front().apply(QStringLiteral("lm_head.weight")), QStringLiteral("lm_head.weight"));
    MatchOptions withRule;
    withRule.rules = rules;
    withRule.useOrder = false;
    const MappingResult again = autoMatch(gpt2Source(), targets, withRule, Convention::Equinox);
    QCOMPARE(mappingFor(again, QStringLiteral(".h[1].ln_2.bias")).origin, MatchOrigin::RenameRule);
    QVERIFY(again.complete());
}

void TestStructureMatcher::gpt2StackedBlocks()
{
    // An eqx.filter_vmap-built stack: one leaf per parameter with a leading layer axis.
    const std::vector<KeySpec> targets{key(".blocks.attn.qkv.weight", "float32[2,24,8]"), key(".blocks.attn.qkv.bias", "float32[2,24]"),
                                       key(".blocks.attn.proj.weight", "float32[2,8,8]"), key(".blocks.norm1.weight", "float32[2,8]"),
                                       key(".blocks.mlp.fc1.weight", "float32[2,32,8]")};
    const MappingResult result = autoMatch(gpt2Source(), targets, {}, Convention::Equinox);
    const Mapping &qkv = mappingFor(result, QStringLiteral(".blocks.attn.qkv.weight"));
    QCOMPARE(qkv.sources, (QStringList{"transformer.h.0.attn.c_attn.weight", "transformer.h.1.attn.c_attn.weight"}));
    QCOMPARE(qkv.origin, MatchOrigin::Stacked);
    QCOMPARE(chainText(qkv.transforms), chainText({Transform::stack(0), Transform::transpose({0, 2, 1})}));
    const Mapping &proj = mappingFor(result, QStringLiteral(".blocks.attn.proj.weight"));
    QCOMPARE(chainText(proj.transforms), chainText({Transform::stack(0), Transform::transpose({0, 2, 1})}));
    QCOMPARE(chainText(mappingFor(result, QStringLiteral(".blocks.norm1.weight")).transforms), chainText({Transform::stack(0)}));
    const std::vector<KeySpec> sources = gpt2Source();
    for (size_t t = 0; t < targets.size(); ++t) {
        const Mapping &m = result.mappings[t];
        QVERIFY2(m.status == MatchStatus::Fixable, qPrintable(describe(m)));
        std::vector<TensorSpec> specs;
        for (const QString &name : m.sources) {
            const auto it = std::find_if(sources.begin(), sources.end(), [&](const KeySpec &k) { return k.key == name; });
            QVERIFY(it != sources.end());
            specs.push_back(it->spec);
        }
        Result<TensorSpec> produced = inferTransforms(specs, m.transforms);
        QVERIFY2(produced.ok() && *produced == targets[t].spec, qPrintable(describe(m)));
    }
}

void TestStructureMatcher::fusedSourceSplitIntoProjections()
{
    // GPT-2's c_attn (in, 3 out) onto Equinox MultiheadAttention's separate (out, in) Linears.
    const std::vector<KeySpec> targets{key(".h[0].attn.query_proj.weight", "float32[8,8]"), key(".h[0].attn.key_proj.weight", "float32[8,8]"),
                                       key(".h[0].attn.value_proj.weight", "float32[8,8]"), key(".h[0].attn.value_proj.bias", "float32[8]")};
    const MappingResult result = autoMatch(gpt2Source(), targets, {}, Convention::Equinox);
    const Mapping &key = mappingFor(result, QStringLiteral(".h[0].attn.key_proj.weight"));
    QCOMPARE(key.sources, QStringList{QStringLiteral("transformer.h.0.attn.c_attn.weight")});
    QCOMPARE(chainText(key.transforms), chainText({Transform::slice(1, 8, 16), Transform::transpose({1, 0})}));
    QCOMPARE(chainText(mappingFor(result, QStringLiteral(".h[0].attn.value_proj.bias")).transforms), chainText({Transform::slice(0, 16, 24)}));
}

void TestStructureMatcher::separateProjectionsConcatenatedIntoFused()
{
    // HF ViT's query/key/value onto a timm-style fused qkv, in the order q, k, v.
    std::vector<KeySpec> sources;
    for (const char *p : {"query", "key", "value"}) {
        sources.push_back(key(QStringLiteral("vit.encoder.layer.0.attention.attention.%1.weight").arg(p), "float32[8,8]"));
        sources.push_back(key(QStringLiteral("vit.encoder.layer.0.attention.attention.%1.bias").arg(p), "float32[8]"));
    }
    const std::vector<KeySpec> targets{key(".blocks[0].attn.qkv.weight", "float32[24,8]"), key(".blocks[0].attn.qkv.bias", "float32[24]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    const Mapping &qkv = mappingFor(result, QStringLiteral(".blocks[0].attn.qkv.weight"));
    QCOMPARE(qkv.origin, MatchOrigin::Concat);
    QCOMPARE(qkv.sources, (QStringList{"vit.encoder.layer.0.attention.attention.query.weight", "vit.encoder.layer.0.attention.attention.key.weight",
                                       "vit.encoder.layer.0.attention.attention.value.weight"}));
    QCOMPARE(chainText(qkv.transforms), chainText({Transform::concat(0)}));
    QVERIFY(result.complete());
}

void TestStructureMatcher::stackedSourceUnstacked()
{
    const std::vector<KeySpec> sources{key("layers.attn.q.weight", "float32[3,8,8]"), key("layers.attn.q.bias", "float32[3,8]")};
    const std::vector<KeySpec> targets{key(".layers[2].attn.query_proj.weight", "float32[8,8]"), key(".layers[2].attn.query_proj.bias", "float32[8]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    const Mapping &weight = mappingFor(result, QStringLiteral(".layers[2].attn.query_proj.weight"));
    QCOMPARE(weight.origin, MatchOrigin::Unstacked);
    QCOMPARE(chainText(weight.transforms), chainText({Transform::slice(0, 2, 3), Transform::reshape({8, 8})}));
    QVERIFY(result.complete());
}

void TestStructureMatcher::orderAndShapeOnlyGuess()
{
    // Names that say nothing, and two modules alike: a guess, never "exact".
    const std::vector<KeySpec> sources{key("a.weight", "float32[4,4]"), key("b.weight", "float32[4,4]")};
    const std::vector<KeySpec> targets{key(".x.w", "float32[4,4]"), key(".y.w", "float32[4,4]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    for (const Mapping &m : result.mappings) {
        QCOMPARE(m.status, MatchStatus::Guessed);
        QCOMPARE(m.origin, MatchOrigin::OrderShape);
    }
    QCOMPARE(result.summary().guessed, 2);
    QVERIFY(!result.complete());
}

void TestStructureMatcher::contradictingNamesAreNeverPaired()
{
    // The issue's wrong pairs: a weight never takes a bias, a block's leaf never its neighbour's.
    const std::vector<KeySpec> sources{key("h.0.ln_2.bias", "float32[8]"), key("h.1.ln_1.weight", "float32[8]")};
    const std::vector<KeySpec> targets{key(".h[1].ln_1.weight", "float32[8]"), key(".h[0].ln_2.weight", "float32[8]")};
    MatchOptions orderOnly;
    const MappingResult result = autoMatch(sources, targets, orderOnly, Convention::Equinox);
    QCOMPARE(mappingFor(result, QStringLiteral(".h[1].ln_1.weight")).sources, QStringList{QStringLiteral("h.1.ln_1.weight")});
    const Mapping &unmatched = mappingFor(result, QStringLiteral(".h[0].ln_2.weight"));
    QCOMPARE(unmatched.status, MatchStatus::Unmapped);
    QVERIFY(unmatched.sources.isEmpty());
    QCOMPARE(result.unusedSources, QStringList{QStringLiteral("h.0.ln_2.bias")});
}

void TestStructureMatcher::encoderNeverLearnsFromDecoder()
{
    // T5: the encoder's FFN norm has no role name on the source side; the decoder's does. The
    // encoder target must not take the decoder's tensor.
    const std::vector<KeySpec> sources{key("encoder.block.0.layer.0.SelfAttention.q.weight", "float32[8,8]"),
                                       key("decoder.block.0.layer.0.SelfAttention.q.weight", "float32[8,8]"),
                                       key("decoder.block.0.layer.2.layer_norm.weight", "float32[8]")};
    const std::vector<KeySpec> targets{key(".encoder.layers[0].attn.q.weight", "float32[8,8]"),
                                       key(".encoder.layers[0].ffn_norm.weight", "float32[8]")};
    MatchOptions namesOnly;
    namesOnly.useOrder = false;
    const MappingResult result = autoMatch(sources, targets, namesOnly, Convention::Equinox);
    QCOMPARE(mappingFor(result, QStringLiteral(".encoder.layers[0].attn.q.weight")).sources,
             QStringList{QStringLiteral("encoder.block.0.layer.0.SelfAttention.q.weight")});
    QCOMPARE(mappingFor(result, QStringLiteral(".encoder.layers[0].ffn_norm.weight")).status, MatchStatus::Unmapped);
}

void TestStructureMatcher::flaxKernelsFromConv1DFollowTheirSiblings()
{
    // GPT-2's Conv1D is already (in, out), as a Flax Dense kernel: no transpose, square included.
    const std::vector<KeySpec> targets{key("params/h_0/attn/c_attn/kernel", "float32[8,24]"), key("params/h_0/attn/c_proj/kernel", "float32[8,8]"),
                                       key("params/h_0/mlp/c_fc/kernel", "float32[8,32]")};
    const MappingResult result = autoMatch(gpt2Source(), targets, {}, Convention::Flax);
    for (const Mapping &m : result.mappings)
        QVERIFY2(m.transforms.empty() && m.status == MatchStatus::Exact, qPrintable(describe(m)));
    QVERIFY(mappingFor(result, QStringLiteral("params/h_0/attn/c_proj/kernel")).reason.contains(QStringLiteral("not transposed")));
}

void TestStructureMatcher::batchNormFlagIsSetWhenStatisticsAreLoaded()
{
    const std::vector<KeySpec> sources{key("bn.weight", "float32[4]"), key("bn.bias", "float32[4]"), key("bn.running_mean", "float32[4]"),
                                       key("bn.running_var", "float32[4]"), key("bn.num_batches_tracked", "int64[]")};
    const std::vector<KeySpec> targets{key("[0].bn.weight", "float32[4]"), key("[0].bn.bias", "float32[4]"),
                                       key("[0].bn.first_time_index", "bool[]"), key("[0].bn.running_mean", "float32[4]"),
                                       key("[0].bn.running_var", "float32[4]")};
    const MappingResult result = autoMatch(sources, targets, {}, Convention::Equinox);
    const Mapping &flag = mappingFor(result, QStringLiteral("[0].bn.first_time_index"));
    QCOMPARE(flag.origin, MatchOrigin::Constant);
    QCOMPARE(flag.constant, QByteArray(1, '\0'));
    QVERIFY(flag.reason.contains(QStringLiteral("first-time flag set to False")));
    QVERIFY(result.complete());
    QCOMPARE(result.unusedBuffers.size(), size_t(1));
}

QTEST_GUILESS_MAIN(TestStructureMatcher)
#include "tst_structurematcher.moc"
