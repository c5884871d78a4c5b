// The transform algebra: shape inference for every op and its refusals, the numpy display,
// the JSON contract form, and application to real data through the LibTorch engine (values
// compared with expectations computed here, independently of torch).

#include "mappingcheck.h"

#include <QTest>

#include <bit>
#include <cstring>
#include <numeric>

using namespace graft;
using graft::test::chain;
using graft::test::spec;
using graft::test::specs;
using graft::test::specText;

Q_DECLARE_METATYPE(graft::Transform)

namespace {

template <typename T>
std::vector<uchar> bytesOf(const std::vector<T> &values)
{
    std::vector<uchar> bytes(values.size() * sizeof(T));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

template <typename T>
std::vector<T> valuesOf(const TensorOutput &output)
{
    std::vector<T> values(output.bytes.size() / sizeof(T));
    std::memcpy(values.data(), output.bytes.data(), values.size() * sizeof(T));
    return values;
}

std::vector<float> iota(size_t n, float start = 0.0f)
{
    std::vector<float> values(n);
    std::iota(values.begin(), values.end(), start);
    return values;
}

} // namespace

class TestTransform : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void inference_data();
    void inference();
    void refusals_data();
    void refusals();
    void numpyDisplay_data();
    void numpyDisplay();
    void jsonRoundTrip_data();
    void jsonRoundTrip();
    void jsonContractForm();
    void jsonRefusals_data();
    void jsonRefusals();
    void preservesBytesOnlyForReshapes();

    void engineTranspose2d();
    void engineTransposeHwio();
    void engineReshapeKeepsBytes();
    void engineSlice();
    void engineConcat();
    void engineStack();
    void engineSum();
    void engineFlip();
    void engineBfloat16ToFloat32();
    void engineFloat32ToFloat64();
    void exactWideningMatchesTheEngine_data();
    void exactWideningMatchesTheEngine();
    void exactWideningTakesOnlyWidenings();
    void engineChainOfSeveralOps();
    void engineRefusesMisfits();

private:
    TensorEngine *m_engine = nullptr;
    TensorOutput run(const std::vector<std::vector<uchar>> &data, const QStringList &inputSpecs, const TransformChain &transforms);
};

void TestTransform::initTestCase()
{
    Result<TensorEngine *> engine = tensorEngine();
    QVERIFY2(engine.ok(), engine.ok() ? "" : qPrintable(engine.error().toString()));
    m_engine = *engine;
}

TensorOutput TestTransform::run(const std::vector<std::vector<uchar>> &data, const QStringList &inputSpecs, const TransformChain &transforms)
{
    std::vector<TensorInput> inputs;
    for (size_t i = 0; i < data.size(); ++i)
        inputs.push_back({data[i].data(), spec(inputSpecs[static_cast<int>(i)])});
    Result<TensorOutput> output = m_engine->apply(inputs, transforms);
    if (!output) {
        qWarning("engine error: %s", qPrintable(output.error().message));
        return {};
    }
    // The engine must produce exactly what inference promised.
    Result<TensorSpec> inferred = inferTransforms(specs(inputSpecs), transforms);
    if (!inferred || !(output->spec == *inferred)
        || static_cast<qint64>(output->bytes.size()) != checkedNumel(inferred->shape, 1ll << 40) * dtypeSize(inferred->dtype)) {
        qWarning("engine output disagrees with inference");
        return {};
    }
    return *output;
}

// ---------------------------------------------------------------------------------------------
// Inference
// ---------------------------------------------------------------------------------------------

void TestTransform::inference_data()
{
    QTest::addColumn<QStringList>("inputs");
    QTest::addColumn<QString>("transforms");
    QTest::addColumn<QString>("expected");

    QTest::newRow("empty chain") << QStringList{"float32[5]"} << "[]" << "float32[5]";
    QTest::newRow("reshape [C] -> [C,1,1]") << QStringList{"float32[8]"} << R"([{"op":"reshape","shape":[8,1,1]}])" << "float32[8,1,1]";
    QTest::newRow("reshape [C,1,1] -> [C]") << QStringList{"float32[8,1,1]"} << R"([{"op":"reshape","shape":[8]}])" << "float32[8]";
    QTest::newRow("reshape flatten") << QStringList{"float32[2,3,4]"} << R"([{"op":"reshape","shape":[6,4]}])" << "float32[6,4]";
    QTest::newRow("reshape to scalar") << QStringList{"float32[1,1]"} << R"([{"op":"reshape","shape":[]}])" << "float32[]";
    QTest::newRow("transpose 2d") << QStringList{"float32[32,64]"} << R"([{"op":"transpose","perm":[1,0]}])" << "float32[64,32]";
    QTest::newRow("transpose OIHW -> HWIO") << QStringList{"float32[16,3,5,7]"} << R"([{"op":"transpose","perm":[2,3,1,0]}])"
                                            << "float32[5,7,3,16]";
    QTest::newRow("flip spatial") << QStringList{"float32[8,16,3,3]"} << R"([{"op":"flip","axes":[2,3]}])" << "float32[8,16,3,3]";
    QTest::newRow("flip negative axis") << QStringList{"float32[2,3]"} << R"([{"op":"flip","axes":[-1]}])" << "float32[2,3]";
    QTest::newRow("cast bf16 -> f32") << QStringList{"bfloat16[4,4]"} << R"([{"op":"cast","dtype":"float32"}])" << "float32[4,4]";
    QTest::newRow("cast f32 -> f16") << QStringList{"float32[3]"} << R"([{"op":"cast","dtype":"float16"}])" << "float16[3]";
    QTest::newRow("slice third of fused qkv") << QStringList{"float32[48,16]"} << R"([{"op":"slice","axis":0,"start":16,"stop":32}])"
                                              << "float32[16,16]";
    QTest::newRow("slice axis 1") << QStringList{"float32[4,12]"} << R"([{"op":"slice","axis":1,"start":4,"stop":8}])" << "float32[4,4]";
    QTest::newRow("slice negative axis") << QStringList{"float32[4,12]"} << R"([{"op":"slice","axis":-1,"start":0,"stop":6}])"
                                         << "float32[4,6]";
    QTest::newRow("slice empty range") << QStringList{"float32[4]"} << R"([{"op":"slice","axis":0,"start":2,"stop":2}])" << "float32[0]";
    QTest::newRow("concat q,k,v") << QStringList{"float32[16,16]", "float32[16,16]", "float32[16,16]"} << R"([{"op":"concat","axis":0}])"
                                  << "float32[48,16]";
    QTest::newRow("concat axis 1, other sizes") << QStringList{"float32[4,2]", "float32[4,3]"} << R"([{"op":"concat","axis":1}])"
                                                << "float32[4,5]";
    QTest::newRow("stack axis 0") << QStringList{"float32[3,4]", "float32[3,4]"} << R"([{"op":"stack","axis":0}])" << "float32[2,3,4]";
    QTest::newRow("stack last axis") << QStringList{"float32[3,4]", "float32[3,4]"} << R"([{"op":"stack","axis":2}])" << "float32[3,4,2]";
    QTest::newRow("stack axis -1") << QStringList{"float32[3,4]", "float32[3,4]", "float32[3,4]"} << R"([{"op":"stack","axis":-1}])"
                                   << "float32[3,4,3]";
    QTest::newRow("sum b_ih + b_hh") << QStringList{"float32[12]", "float32[12]"} << R"([{"op":"sum"}])" << "float32[12]";
    QTest::newRow("sum then reshape") << QStringList{"float32[8]", "float32[8]"} << R"([{"op":"sum"},{"op":"reshape","shape":[8,1,1]}])"
                                      << "float32[8,1,1]";
    QTest::newRow("ConvTranspose torch -> equinox, bf16 -> f32")
        << QStringList{"bfloat16[8,16,3,3]"}
        << R"([{"op":"transpose","perm":[1,0,2,3]},{"op":"flip","axes":[2,3]},{"op":"cast","dtype":"float32"}])" << "float32[16,8,3,3]";
    QTest::newRow("slice then transpose") << QStringList{"float32[96,32]"}
                                          << R"([{"op":"slice","axis":0,"start":64,"stop":96},{"op":"transpose","perm":[1,0]}])"
                                          << "float32[32,32]";
}

void TestTransform::inference()
{
    QFETCH(QStringList, inputs);
    QFETCH(QString, transforms);
    QFETCH(QString, expected);
    Result<TensorSpec> inferred = inferTransforms(specs(inputs), chain(transforms));
    QVERIFY2(inferred.ok(), inferred.ok() ? "" : qPrintable(inferred.error().message));
    QCOMPARE(specText(*inferred), specText(spec(expected)));
}

void TestTransform::refusals_data()
{
    QTest::addColumn<QStringList>("inputs");
    QTest::addColumn<QString>("transforms");
    QTest::addColumn<QString>("message");

    QTest::newRow("no input") << QStringList{} << "[]" << "no source tensor";
    QTest::newRow("reshape numel") << QStringList{"float32[8]"} << R"([{"op":"reshape","shape":[4,4]}])"
                                   << "reshape to [4, 4] needs 16 elements, the tensor has 8";
    QTest::newRow("reshape negative dim") << QStringList{"float32[8]"} << R"([{"op":"reshape","shape":[-1,8]}])" << "reshape to [-1, 8]";
    QTest::newRow("transpose rank") << QStringList{"float32[2,3,4,5]"} << R"([{"op":"transpose","perm":[1,0]}])"
                                    << "transpose (1, 0) needs 2 dimensions, the tensor has 4";
    QTest::newRow("transpose repeated axis") << QStringList{"float32[2,3]"} << R"([{"op":"transpose","perm":[0,0]}])"
                                             << "transpose (0, 0) is not a permutation";
    QTest::newRow("transpose axis too big") << QStringList{"float32[2,3]"} << R"([{"op":"transpose","perm":[0,2]}])"
                                            << "transpose (0, 2) is not a permutation";
    QTest::newRow("flip axis out of range") << QStringList{"float32[2,3]"} << R"([{"op":"flip","axes":[2]}])"
                                            << "flip axis 2 is out of range for 2 dimensions";
    QTest::newRow("flip repeated axis") << QStringList{"float32[2,3]"} << R"([{"op":"flip","axes":[1,-1]}])"
                                        << "flip (1, -1) names axis 1 twice";
    QTest::newRow("slice past the end") << QStringList{"float32[48,16]"} << R"([{"op":"slice","axis":0,"start":32,"stop":64}])"
                                        << "slice 32:64 is out of range for axis 0 of size 48";
    QTest::newRow("slice stop before start") << QStringList{"float32[48,16]"} << R"([{"op":"slice","axis":0,"start":8,"stop":4}])"
                                             << "slice 8:4 is out of range";
    QTest::newRow("slice negative start") << QStringList{"float32[48,16]"} << R"([{"op":"slice","axis":0,"start":-4,"stop":4}])"
                                          << "slice -4:4 is out of range";
    QTest::newRow("slice axis out of range") << QStringList{"float32[4]"} << R"([{"op":"slice","axis":1,"start":0,"stop":1}])"
                                             << "slice axis 1 is out of range for 1 dimensions";
    QTest::newRow("several sources, no combining op") << QStringList{"float32[2]", "float32[2]"} << "[]"
                                                      << "2 sources need concat, stack or sum first";
    QTest::newRow("combining op not first") << QStringList{"float32[2]"} << R"([{"op":"reshape","shape":[2]},{"op":"sum"}])"
                                            << "sum must come first in a chain";
    QTest::newRow("concat other dims differ") << QStringList{"float32[4,2]", "float32[5,3]"} << R"([{"op":"concat","axis":1}])"
                                              << "concat on axis 1: shapes [4, 2] and [5, 3] differ elsewhere";
    QTest::newRow("concat ranks differ") << QStringList{"float32[2,2]", "float32[4]"} << R"([{"op":"concat","axis":0}])"
                                         << "concat needs sources of one rank";
    QTest::newRow("concat dtypes differ") << QStringList{"float32[2]", "float16[2]"} << R"([{"op":"concat","axis":0}])"
                                          << "concat needs sources of one dtype (float32 and float16)";
    QTest::newRow("concat axis out of range") << QStringList{"float32[2]", "float32[2]"} << R"([{"op":"concat","axis":1}])"
                                              << "concat axis 1 is out of range for 1 dimensions";
    QTest::newRow("stack shapes differ") << QStringList{"float32[2]", "float32[3]"} << R"([{"op":"stack","axis":0}])"
                                         << "stack needs sources of one shape ([2] and [3])";
    QTest::newRow("stack axis out of range") << QStringList{"float32[2]", "float32[2]"} << R"([{"op":"stack","axis":3}])"
                                             << "stack axis 3 is out of range";
    QTest::newRow("sum shapes differ") << QStringList{"float32[12]", "float32[1,12]"} << R"([{"op":"sum"}])"
                                       << "sum needs sources of one shape ([12] and [1, 12])";
    QTest::newRow("later op fails") << QStringList{"float32[8]"}
                                    << R"([{"op":"reshape","shape":[8,1,1]},{"op":"transpose","perm":[1,0]}])"
                                    << "transpose (1, 0) needs 2 dimensions, the tensor has 3";
}

void TestTransform::refusals()
{
    QFETCH(QStringList, inputs);
    QFETCH(QString, transforms);
    QFETCH(QString, message);
    Result<TensorSpec> inferred = inferTransforms(specs(inputs), chain(transforms));
    QVERIFY2(!inferred.ok(), qPrintable(QStringLiteral("accepted: %1").arg(inferred.ok() ? specText(*inferred) : QString())));
    QVERIFY2(inferred.error().message.contains(message), qPrintable(inferred.error().message));
}

// ---------------------------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------------------------

void TestTransform::numpyDisplay_data()
{
    QTest::addColumn<QString>("transforms");
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<QString>("expected");

    QTest::newRow("nothing") << "[]" << QStringList{"w"} << "w";
    QTest::newRow("equinox conv bias") << R"([{"op":"reshape","shape":[64,1,1]}])" << QStringList{"b"} << "b[:, None, None]";
    QTest::newRow("one trailing axis") << R"([{"op":"reshape","shape":[64,1]}])" << QStringList{"b"} << "b[:, None]";
    QTest::newRow("general reshape") << R"([{"op":"reshape","shape":[6,4]}])" << QStringList{"w"} << "w.reshape(6, 4)";
    QTest::newRow("dense kernel") << R"([{"op":"transpose","perm":[1,0]}])" << QStringList{"w"} << "w.T";
    QTest::newRow("conv kernel HWIO") << R"([{"op":"transpose","perm":[2,3,1,0]}])" << QStringList{"w"} << "w.transpose(2, 3, 1, 0)";
    QTest::newRow("flip") << R"([{"op":"flip","axes":[2,3]}])" << QStringList{"w"} << "np.flip(w, axis=(2, 3))";
    QTest::newRow("flip one axis") << R"([{"op":"flip","axes":[0]}])" << QStringList{"w"} << "np.flip(w, axis=(0,))";
    QTest::newRow("cast") << R"([{"op":"cast","dtype":"float32"}])" << QStringList{"w"} << "w.astype(np.float32)";
    QTest::newRow("cast bf16") << R"([{"op":"cast","dtype":"bfloat16"}])" << QStringList{"w"} << "w.astype(jnp.bfloat16)";
    QTest::newRow("slice axis 0") << R"([{"op":"slice","axis":0,"start":0,"stop":16}])" << QStringList{"w"} << "w[0:16]";
    QTest::newRow("slice axis 1") << R"([{"op":"slice","axis":1,"start":4,"stop":8}])" << QStringList{"w"} << "w[:, 4:8]";
    QTest::newRow("slice last axis") << R"([{"op":"slice","axis":-1,"start":0,"stop":6}])" << QStringList{"w"} << "w[..., 0:6]";
    QTest::newRow("slice second to last axis") << R"([{"op":"slice","axis":-2,"start":0,"stop":6}])" << QStringList{"w"}
                                               << "w[..., 0:6, :]";
    QTest::newRow("concat") << R"([{"op":"concat","axis":0}])" << QStringList{"w0", "w1", "w2"} << "np.concatenate([w0, w1, w2], axis=0)";
    QTest::newRow("stack") << R"([{"op":"stack","axis":0}])" << QStringList{"w0", "w1"} << "np.stack([w0, w1], axis=0)";
    QTest::newRow("sum") << R"([{"op":"sum"}])" << QStringList{"w0", "w1"} << "w0 + w1";
    QTest::newRow("sum then reshape") << R"([{"op":"sum"},{"op":"reshape","shape":[8,1,1]}])" << QStringList{"w0", "w1"}
                                      << "(w0 + w1)[:, None, None]";
    QTest::newRow("ConvTranspose") << R"([{"op":"transpose","perm":[1,0,2,3]},{"op":"flip","axes":[2,3]}])" << QStringList{"w"}
                                   << "np.flip(w.transpose(1, 0, 2, 3), axis=(2, 3))";
    QTest::newRow("bias reshape then cast") << R"([{"op":"reshape","shape":[8,1,1]},{"op":"cast","dtype":"float32"}])"
                                            << QStringList{"b"} << "b[:, None, None].astype(np.float32)";
    QTest::newRow("slice then transpose") << R"([{"op":"slice","axis":0,"start":16,"stop":32},{"op":"transpose","perm":[1,0]}])"
                                          << QStringList{"w"} << "w[16:32].T";
}

void TestTransform::numpyDisplay()
{
    QFETCH(QString, transforms);
    QFETCH(QStringList, names);
    QFETCH(QString, expected);
    QCOMPARE(transformExpression(chain(transforms), names), expected);
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

void TestTransform::jsonRoundTrip_data()
{
    QTest::addColumn<Transform>("transform");
    QTest::newRow("reshape") << Transform::reshape({64, 1, 1});
    QTest::newRow("reshape to scalar") << Transform::reshape({});
    QTest::newRow("transpose") << Transform::transpose({2, 3, 1, 0});
    QTest::newRow("flip") << Transform::flip({2, 3});
    QTest::newRow("cast bf16") << Transform::cast(DType::BFloat16);
    QTest::newRow("cast f32") << Transform::cast(DType::Float32);
    QTest::newRow("slice") << Transform::slice(0, 768, 1536);
    QTest::newRow("slice negative axis") << Transform::slice(-1, 0, 5);
    QTest::newRow("slice large") << Transform::slice(1, 3'000'000'000ll, 6'000'000'000ll);
    QTest::newRow("concat") << Transform::concat(1);
    QTest::newRow("stack") << Transform::stack(0);
    QTest::newRow("sum") << Transform::sum();
}

void TestTransform::jsonRoundTrip()
{
    QFETCH(Transform, transform);
    const QJsonObject json = transformToJson(transform);
    QCOMPARE(json.value(QStringLiteral("op")).toString(), transformOpName(transform.op));
    // Through text, as a profile stores it.
    const QJsonObject reparsed = QJsonDocument::fromJson(QJsonDocument(json).toJson()).object();
    Result<Transform> back = transformFromJson(reparsed);
    QVERIFY2(back.ok(), back.ok() ? "" : qPrintable(back.error().message));
    QVERIFY(*back == transform);
}

void TestTransform::jsonContractForm()
{
    // The exact keys of the CLI/profile contract (issue 3).
    auto text = [](const Transform &t) { return QString::fromUtf8(QJsonDocument(transformToJson(t)).toJson(QJsonDocument::Compact)); };
    QCOMPARE(text(Transform::reshape({64, 1, 1})), QStringLiteral(R"({"op":"reshape","shape":[64,1,1]})"));
    QCOMPARE(text(Transform::transpose({2, 3, 1, 0})), QStringLiteral(R"({"op":"transpose","perm":[2,3,1,0]})"));
    QCOMPARE(text(Transform::cast(DType::Float32)), QStringLiteral(R"({"dtype":"float32","op":"cast"})"));
    QCOMPARE(text(Transform::slice(0, 0, 768)), QStringLiteral(R"({"axis":0,"op":"slice","start":0,"stop":768})"));
    QCOMPARE(text(Transform::flip({2, 3})), QStringLiteral(R"({"axes":[2,3],"op":"flip"})"));
    QCOMPARE(text(Transform::concat(0)), QStringLiteral(R"({"axis":0,"op":"concat"})"));
    QCOMPARE(text(Transform::sum()), QStringLiteral(R"({"op":"sum"})"));
}

void TestTransform::jsonRefusals_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown op") << R"({"op":"rotate","angle":90})" << "unknown transform op 'rotate'";
    QTest::newRow("no op") << R"({"shape":[1]})" << "unknown transform op ''";
    QTest::newRow("reshape without shape") << R"({"op":"reshape"})" << "transform 'reshape': \"shape\" must be a list of integers";
    QTest::newRow("reshape fractional dim") << R"({"op":"reshape","shape":[1.5]})" << "\"shape\" must be a list of integers";
    QTest::newRow("reshape string dim") << R"({"op":"reshape","shape":["8"]})" << "\"shape\" must be a list of integers";
    QTest::newRow("transpose without perm") << R"({"op":"transpose","axes":[1,0]})" << "transform 'transpose': needs a list of integer axes";
    QTest::newRow("flip axes not a list") << R"({"op":"flip","axes":2})" << "transform 'flip': needs a list of integer axes";
    // 4294967297 = 2^32 + 1: narrowed to int before validation it became axis 1, a valid perm.
    QTest::newRow("transpose axis past 32 bits") << R"({"op":"transpose","perm":[4294967297,0]})"
                                                 << "transform 'transpose': axis 4294967297 is out of range";
    QTest::newRow("flip axis past 32 bits") << R"({"op":"flip","axes":[-4294967296]})"
                                            << "transform 'flip': axis -4294967296 is out of range";
    QTest::newRow("cast unknown dtype") << R"({"op":"cast","dtype":"float128"})" << "transform 'cast': unknown dtype 'float128'";
    QTest::newRow("slice without stop") << R"({"op":"slice","axis":0,"start":0})"
                                        << "transform 'slice': needs integer \"axis\", \"start\" and \"stop\"";
    QTest::newRow("slice huge axis") << R"({"op":"slice","axis":1000,"start":0,"stop":1})" << "needs integer \"axis\"";
    QTest::newRow("concat axis string") << R"({"op":"concat","axis":"0"})" << "transform 'concat': needs an integer \"axis\"";
}

void TestTransform::jsonRefusals()
{
    QFETCH(QString, json);
    QFETCH(QString, message);
    Result<Transform> parsed = transformFromJson(QJsonDocument::fromJson(json.toUtf8()).object());
    QVERIFY(!parsed.ok());
    QVERIFY2(parsed.error().message.contains(message), qPrintable(parsed.error().message));
}

void TestTransform::preservesBytesOnlyForReshapes()
{
    QVERIFY(preservesBytes({}));
    QVERIFY(preservesBytes({Transform::reshape({8, 1, 1})}));
    QVERIFY(preservesBytes({Transform::reshape({8, 1, 1}), Transform::reshape({8})}));
    QVERIFY(!preservesBytes({Transform::transpose({1, 0})}));
    QVERIFY(!preservesBytes({Transform::reshape({8, 1, 1}), Transform::cast(DType::Float16)}));
    QVERIFY(!preservesBytes({Transform::slice(0, 0, 4)}));
    QVERIFY(!preservesBytes({Transform::sum()}));
}

// ---------------------------------------------------------------------------------------------
// Application through the engine
// ---------------------------------------------------------------------------------------------

void TestTransform::engineTranspose2d()
{
    // [[1, 2, 3], [4, 5, 6]].T == [[1, 4], [2, 5], [3, 6]]
    const TensorOutput out = run({bytesOf<float>({1, 2, 3, 4, 5, 6})}, {"float32[2,3]"}, {Transform::transpose({1, 0})});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[3,2]"));
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

void TestTransform::engineTransposeHwio()
{
    // out[h][w][i][o] == in[o][i][h][w], indices computed by hand.
    const qint64 O = 4, I = 3, H = 2, W = 5;
    const std::vector<float> in = iota(static_cast<size_t>(O * I * H * W));
    const TensorOutput out = run({bytesOf(in)}, {"float32[4,3,2,5]"}, {Transform::transpose({2, 3, 1, 0})});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[2,5,3,4]"));
    const std::vector<float> values = valuesOf<float>(out);
    QCOMPARE(values.size(), in.size());
    for (qint64 h = 0; h < H; ++h)
        for (qint64 w = 0; w < W; ++w)
            for (qint64 i = 0; i < I; ++i)
                for (qint64 o = 0; o < O; ++o)
                    QCOMPARE(values[static_cast<size_t>(((h * W + w) * I + i) * O + o)], in[static_cast<size_t>(((o * I + i) * H + h) * W + w)]);
}

void TestTransform::engineReshapeKeepsBytes()
{
    const std::vector<uchar> in = bytesOf<float>({0.5f, -1.25f, 3.0f});
    const TensorOutput out = run({in}, {"float32[3]"}, {Transform::reshape({3, 1, 1})});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[3,1,1]"));
    QCOMPARE(out.bytes, in);
}

void TestTransform::engineSlice()
{
    // A fused [6, 2] tensor: rows 2..3 are the second third.
    const std::vector<float> in = iota(12);
    TensorOutput out = run({bytesOf(in)}, {"float32[6,2]"}, {Transform::slice(0, 2, 4)});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[2,2]"));
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{4, 5, 6, 7}));
    // Columns 1..2 of a [2, 4]: not contiguous in the input, contiguous in the output.
    out = run({bytesOf(iota(8))}, {"float32[2,4]"}, {Transform::slice(1, 1, 3)});
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{1, 2, 5, 6}));
    out = run({bytesOf(iota(8))}, {"float32[2,4]"}, {Transform::slice(-1, 2, 4)});
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{2, 3, 6, 7}));
}

void TestTransform::engineConcat()
{
    const std::vector<uchar> a = bytesOf<float>({1, 2, 3, 4});    // [[1, 2], [3, 4]]
    const std::vector<uchar> b = bytesOf<float>({5, 6, 7, 8, 9, 10}); // [[5, 6, 7], [8, 9, 10]]
    TensorOutput out = run({a, b}, {"float32[2,2]", "float32[2,3]"}, {Transform::concat(1)});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[2,5]"));
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{1, 2, 5, 6, 7, 3, 4, 8, 9, 10}));
    out = run({a, a, a}, {"float32[2,2]", "float32[2,2]", "float32[2,2]"}, {Transform::concat(0)});
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}));
}

void TestTransform::engineStack()
{
    const std::vector<uchar> a = bytesOf<float>({1, 2, 3});
    const std::vector<uchar> b = bytesOf<float>({4, 5, 6});
    TensorOutput out = run({a, b}, {"float32[3]", "float32[3]"}, {Transform::stack(0)});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[2,3]"));
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    out = run({a, b}, {"float32[3]", "float32[3]"}, {Transform::stack(1)});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[3,2]"));
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

void TestTransform::engineSum()
{
    // GRU-style bias: b_ih + b_hh (+ a third to check more than two sources).
    const TensorOutput out = run({bytesOf<float>({1, 2, 3}), bytesOf<float>({10, 20, 30}), bytesOf<float>({0.5f, 0.25f, -3})},
                                 {"float32[3]", "float32[3]", "float32[3]"}, {Transform::sum()});
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{11.5f, 22.25f, 30}));
    // The inputs are not modified (they may be zero-copy views of a mapped file).
    std::vector<uchar> first = bytesOf<float>({1, 2});
    run({first, bytesOf<float>({1, 1})}, {"float32[2]", "float32[2]"}, {Transform::sum()});
    QCOMPARE(first, bytesOf<float>({1, 2}));
}

void TestTransform::engineFlip()
{
    TensorOutput out = run({bytesOf<float>({1, 2, 3, 4, 5, 6})}, {"float32[2,3]"}, {Transform::flip({1})});
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{3, 2, 1, 6, 5, 4}));
    out = run({bytesOf<float>({1, 2, 3, 4, 5, 6})}, {"float32[2,3]"}, {Transform::flip({0, 1})});
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{6, 5, 4, 3, 2, 1}));
}

void TestTransform::engineBfloat16ToFloat32()
{
    // bf16 is the top half of an f32: widening is exact, bits << 16. Covers sign, infinities,
    // NaN, a denormal, the largest finite value and -0.
    const std::vector<quint16> bits{0x3F80, 0xC000, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x7F7F, 0x8000, 0x3EAA};
    const TensorOutput out = run({bytesOf(bits)}, {"bfloat16[9]"}, {Transform::cast(DType::Float32)});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[9]"));
    const std::vector<quint32> widened = valuesOf<quint32>(out);
    QCOMPARE(widened.size(), bits.size());
    for (size_t i = 0; i < bits.size(); ++i)
        QCOMPARE(widened[i], static_cast<quint32>(bits[i]) << 16);
    QCOMPARE(valuesOf<float>(out)[0], 1.0f);
    QCOMPARE(valuesOf<float>(out)[1], -2.0f);
}

void TestTransform::engineFloat32ToFloat64()
{
    const std::vector<float> in{0.1f, -3.5f, 1e-30f};
    const TensorOutput out = run({bytesOf(in)}, {"float32[3]"}, {Transform::cast(DType::Float64)});
    QCOMPARE(valuesOf<double>(out), (std::vector<double>{double(0.1f), -3.5, double(1e-30f)}));
}

void TestTransform::engineChainOfSeveralOps()
{
    // The second third of a fused [6, 2] bf16 tensor, transposed and widened.
    std::vector<quint16> bits;
    for (float v : iota(12))
        bits.push_back(static_cast<quint16>(std::bit_cast<quint32>(v) >> 16)); // small integers are exact in bf16
    const TensorOutput out = run({bytesOf(bits)}, {"bfloat16[6,2]"},
                                 {Transform::slice(0, 2, 4), Transform::transpose({1, 0}), Transform::cast(DType::Float32)});
    QCOMPARE(specText(out.spec), QStringLiteral("float32[2,2]"));
    QCOMPARE(valuesOf<float>(out), (std::vector<float>{4, 6, 5, 7}));
}

void TestTransform::engineRefusesMisfits()
{
    const std::vector<uchar> data = bytesOf<float>({1, 2, 3, 4});
    Result<TensorOutput> out = m_engine->apply({{data.data(), spec("float32[4]")}}, {Transform::reshape({3})});
    QVERIFY(!out.ok());
    QVERIFY2(out.error().message.contains(QStringLiteral("reshape to [3] needs 3 elements")), qPrintable(out.error().message));
    out = m_engine->apply({{data.data(), spec("float32[2]")}, {data.data(), spec("float32[2]")}}, {});
    QVERIFY(!out.ok());
    QVERIFY2(out.error().message.contains(QStringLiteral("need concat, stack or sum")), qPrintable(out.error().message));
    // uint16 exists in safetensors but LibTorch 1.13 cannot compute on it: a clean error.
    out = m_engine->apply({{data.data(), spec("uint16[2]")}}, {Transform::transpose({0})});
    QVERIFY(!out.ok());
    QVERIFY2(out.error().message.contains(QStringLiteral("uint16")), qPrintable(out.error().message));
}

void TestTransform::exactWideningMatchesTheEngine_data()
{
    QTest::addColumn<QString>("from");
    QTest::newRow("bfloat16 -> float32") << QStringLiteral("bfloat16");
    QTest::newRow("float16 -> float32") << QStringLiteral("float16");
}

// Every 16-bit pattern (zeros, subnormals, infinities, NaNs with their payloads), cast by hand
// and by LibTorch, behind a reshape on each side: the same bytes.
void TestTransform::exactWideningMatchesTheEngine()
{
    QFETCH(QString, from);
    std::vector<uchar> data(65536 * 2);
    for (quint32 bits = 0; bits < 65536; ++bits) {
        data[2 * bits] = uchar(bits & 0xff);
        data[2 * bits + 1] = uchar(bits >> 8);
    }
    const TransformChain chain{Transform::reshape({256, 256}), Transform::cast(DType::Float32), Transform::reshape({65536, 1})};
    const TensorOutput byEngine = run({data}, {from + QStringLiteral("[65536]")}, chain);
    QCOMPARE(byEngine.bytes.size(), size_t(65536 * 4));
    const std::optional<WidenedTensor> byHand = applyExactWidening({data.data(), spec(from + QStringLiteral("[65536]"))}, chain);
    QVERIFY(byHand.has_value());
    QVERIFY(byHand->spec == byEngine.spec);
    QCOMPARE(byHand->bytes.size(), qint64(byEngine.bytes.size()));
    for (size_t i = 0; i < 65536; ++i) {
        quint32 hand = 0, engine = 0;
        std::memcpy(&hand, byHand->bytes.data() + 4 * i, 4);
        std::memcpy(&engine, byEngine.bytes.data() + 4 * i, 4);
        if (hand != engine)
            QFAIL(qPrintable(QStringLiteral("%1 0x%2: by hand 0x%3, LibTorch 0x%4").arg(from).arg(i, 4, 16, QLatin1Char('0'))
                                 .arg(hand, 8, 16, QLatin1Char('0')).arg(engine, 8, 16, QLatin1Char('0'))));
    }
}

// Anything but reshapes around one widening to float32 is left to the engine.
void TestTransform::exactWideningTakesOnlyWidenings()
{
    std::vector<uchar> data(8 * 4, 0);
    const auto takes = [&](const QString &input, const TransformChain &chain) {
        return applyExactWidening({data.data(), spec(input)}, chain).has_value();
    };
    QVERIFY(takes(QStringLiteral("bfloat16[2, 4]"), {Transform::cast(DType::Float32)}));
    QVERIFY(takes(QStringLiteral("float16[8]"), {Transform::cast(DType::Float32), Transform::reshape({2, 4})}));
    QVERIFY(!takes(QStringLiteral("float32[8]"), {Transform::cast(DType::BFloat16)}));              // narrowing: rounding
    QVERIFY(!takes(QStringLiteral("bfloat16[8]"), {Transform::cast(DType::Float64)}));              // another target dtype
    QVERIFY(!takes(QStringLiteral("bfloat16[2, 4]"), {Transform::cast(DType::Float32), Transform::transpose({1, 0})}));
    QVERIFY(!takes(QStringLiteral("bfloat16[8]"), {Transform::cast(DType::Float32), Transform::cast(DType::Float32)}));
    QVERIFY(!takes(QStringLiteral("bfloat16[8]"), {Transform::reshape({3, 3}), Transform::cast(DType::Float32)})); // misfit
    QVERIFY(!takes(QStringLiteral("bfloat16[8]"), {Transform::reshape({2, 4})}));                   // no cast at all
}

QTEST_GUILESS_MAIN(TestTransform)
#include "tst_transform.moc"
