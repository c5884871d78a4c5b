// The .npy header parser (every shape of header numpy writes, and the ones it must refuse) and
// formatNpyHeader() against the bytes numpy's own np.save writes.

#include "checkpoint/formats/npyheader.h"
#include "hostileinput.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <limits>

using namespace graft;

namespace {

// A record header: magic, version, little-endian length (u16 for 1.0, u32 after), the dict.
QByteArray npyBytes(int major, const QByteArray &dict)
{
    QByteArray bytes("\x93NUMPY", 6);
    bytes += char(major);
    bytes += char(0);
    bytes += major == 1 ? test::littleEndian<quint16>(dict.size()) : test::littleEndian<quint32>(dict.size());
    return bytes + dict;
}

QByteArray dict(const char *descr, const char *shape, const char *fortran = "False")
{
    return QByteArray("{'descr': '") + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

} // namespace

class TestNpyFormat : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void parsesHeaders_data();
    void parsesHeaders();
    void refusesHeaders_data();
    void refusesHeaders();
    void formatMatchesNumpy_data();
    void formatMatchesNumpy();

private:
    QTemporaryDir m_numpyHeaders;
};

void TestNpyFormat::parsesHeaders_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("voidAs");  // a DType, or -1
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<bool>("bigEndian");
    QTest::addColumn<bool>("fortran");
    QTest::addColumn<QString>("shape");
    QTest::addColumn<qint64>("dataOffset");
    QTest::addColumn<int>("version");

    const QByteArray f4 = dict("<f4", "(3, 4)");
    QTest::newRow("v1.0") << npyBytes(1, f4) << -1 << "float32" << false << false << "[3, 4]" << 10 + qint64(f4.size()) << 1;
    QTest::newRow("v2.0") << npyBytes(2, f4) << -1 << "float32" << false << false << "[3, 4]" << 12 + qint64(f4.size()) << 2;
    QTest::newRow("v3.0") << npyBytes(3, f4) << -1 << "float32" << false << false << "[3, 4]" << 12 + qint64(f4.size()) << 3;
    const QByteArray padded = f4 + QByteArray(53, ' ') + '\n';
    QTest::newRow("padded like np.save") << npyBytes(1, padded) << -1 << "float32" << false << false << "[3, 4]"
                                         << 10 + qint64(padded.size()) << 1;
    QTest::newRow("data follows") << npyBytes(1, f4) + QByteArray(48, 'x') << -1 << "float32" << false << false
                                  << "[3, 4]" << 10 + qint64(f4.size()) << 1;
    const QByteArray fortran = dict("<f8", "(3, 5)", "True");
    QTest::newRow("fortran") << npyBytes(1, fortran) << -1 << "float64" << false << true << "[3, 5]"
                             << 10 + qint64(fortran.size()) << 1;
    const QByteArray scalar = dict("<f8", "()");
    QTest::newRow("0-d") << npyBytes(1, scalar) << -1 << "float64" << false << false << "[]" << 10 + qint64(scalar.size()) << 1;
    const QByteArray oneD = dict("|u1", "(3,)");
    QTest::newRow("1-d") << npyBytes(1, oneD) << -1 << "uint8" << false << false << "[3]" << 10 + qint64(oneD.size()) << 1;
    const QByteArray empty = dict("<i8", "(0, 7)");
    QTest::newRow("zero-size") << npyBytes(1, empty) << -1 << "int64" << false << false << "[0, 7]" << 10 + qint64(empty.size()) << 1;
    const QByteArray big = dict(">f4", "(2,)");
    QTest::newRow("big-endian") << npyBytes(1, big) << -1 << "float32" << true << false << "[2]" << 10 + qint64(big.size()) << 1;
    const QByteArray bigByte = dict(">i1", "(2,)");
    QTest::newRow("big-endian byte is plain") << npyBytes(1, bigByte) << -1 << "int8" << false << false << "[2]"
                                              << 10 + qint64(bigByte.size()) << 1;
    const QByteArray reordered = "{\"shape\": (2, ), \"descr\": \"<i2\", \"fortran_order\": False}";
    QTest::newRow("double quotes, any order, no trailing comma")
        << npyBytes(1, reordered) << -1 << "int16" << false << false << "[2]" << 10 + qint64(reordered.size()) << 1;
    const QByteArray longs = dict("<u4", "(3L, 4L)");
    QTest::newRow("python 2 longs") << npyBytes(1, longs) << -1 << "uint32" << false << false << "[3, 4]"
                                    << 10 + qint64(longs.size()) << 1;
    const QByteArray trailing = dict("<c16", "(2, 3,)");
    QTest::newRow("tuple trailing comma") << npyBytes(1, trailing) << -1 << "complex128" << false << false << "[2, 3]"
                                          << 10 + qint64(trailing.size()) << 1;
    for (const auto &[descr, name] : {std::pair{"|b1", "bool"}, std::pair{"|i1", "int8"}, std::pair{"<i4", "int32"},
                                      std::pair{"<u2", "uint16"}, std::pair{"<u8", "uint64"}, std::pair{"<f2", "float16"},
                                      std::pair{"<c8", "complex64"}}) {
        const QByteArray text = dict(descr, "(1,)");
        QTest::newRow(descr) << npyBytes(1, text) << -1 << name << false << false << "[1]" << 10 + qint64(text.size()) << 1;
    }
    const QByteArray bf16 = dict("<V2", "(2, 3)");
    QTest::newRow("<V2 as bfloat16") << npyBytes(1, bf16) << int(DType::BFloat16) << "bfloat16" << false << false
                                     << "[2, 3]" << 10 + qint64(bf16.size()) << 1;
    const QByteArray f8 = dict("|V1", "(4,)");
    QTest::newRow("|V1 as float8") << npyBytes(1, f8) << int(DType::Float8E4M3) << "float8_e4m3fn" << false << false
                                   << "[4]" << 10 + qint64(f8.size()) << 1;
    QTest::newRow("voidAs ignored for plain dtypes") << npyBytes(1, f4) << int(DType::BFloat16) << "float32" << false
                                                     << false << "[3, 4]" << 10 + qint64(f4.size()) << 1;
}

void TestNpyFormat::parsesHeaders()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, voidAs);
    const std::optional<DType> as = voidAs < 0 ? std::nullopt : std::optional(static_cast<DType>(voidAs));
    Result<NpyHeader> header = parseNpyHeader(reinterpret_cast<const uchar *>(bytes.constData()), bytes.size(), as);
    QVERIFY2(header.ok(), header.ok() ? "" : qPrintable(header.error().message));
    QTEST(dtypeName(header->dtype), "dtype");
    QTEST(header->bigEndian, "bigEndian");
    QTEST(header->fortranOrder, "fortran");
    QTEST(shapeToString(header->shape), "shape");
    QTEST(header->dataOffset, "dataOffset");
    QTEST(header->majorVersion, "version");
}

void TestNpyFormat::refusesHeaders_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("voidAs");
    QTest::addColumn<QString>("message");

    const QByteArray good = npyBytes(1, dict("<f4", "(3, 4)"));
    QTest::newRow("empty") << QByteArray() << -1 << "no \\x93NUMPY magic";
    QTest::newRow("bad magic") << QByteArray("\x93NUMPX").append(good.mid(6)) << -1 << "no \\x93NUMPY magic";
    QTest::newRow("truncated in the magic") << good.left(4) << -1 << "no \\x93NUMPY magic";
    QTest::newRow("truncated in the version") << good.left(7) << -1 << "truncated in its version";
    QTest::newRow("truncated in the length") << good.left(9) << -1 << "truncated in its header length";
    QTest::newRow("truncated in the dict") << good.left(30) << -1 << "runs past the end (20 bytes available)";
    QTest::newRow("version 4.0") << npyBytes(4, dict("<f4", "()")) << -1 << "unsupported .npy version 4.0";
    QTest::newRow("version 1.1") << QByteArray(good).replace(7, 1, "\x01", 1) << -1 << "unsupported .npy version 1.1";
    QByteArray lie = good;
    lie.replace(8, 2, test::littleEndian<quint16>(0xffff));
    QTest::newRow("header length lie") << lie << -1 << "header length 65535 runs past the end";
    QByteArray huge = npyBytes(2, dict("<f4", "()"));
    huge.replace(8, 4, test::littleEndian<quint32>(0x7fffffff));
    QTest::newRow("header length over the cap") << huge << -1 << "exceeds the limit of 1048576 bytes";
    QTest::newRow("not a dict") << npyBytes(1, "[1, 2]") << -1 << "expected '{'";
    QTest::newRow("unterminated dict") << npyBytes(1, "{'descr': '<f4'") << -1 << "expected ',' or '}'";
    QTest::newRow("text after the dict") << npyBytes(1, dict("<f4", "()") + " x") << -1 << "unexpected text after the dict";
    QTest::newRow("missing shape") << npyBytes(1, "{'descr': '<f4', 'fortran_order': False}") << -1 << "header lacks 'shape'";
    QTest::newRow("unknown key") << npyBytes(1, dict("<f4", "()").replace("'fortran_order'", "'foo'")) << -1
                                 << "unexpected key 'foo'";
    QTest::newRow("duplicate key") << npyBytes(1, "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': ()}")
                                   << -1 << "duplicate key 'descr'";
    QTest::newRow("wrong value type") << npyBytes(1, dict("<f4", "()", "'no'")) << -1
                                      << "header key 'fortran_order' has the wrong type";
    QTest::newRow("object dtype") << npyBytes(1, dict("|O", "(3,)")) << -1 << "pickled Python objects";
    QTest::newRow("void without a skeleton") << npyBytes(1, dict("<V2", "(3,)")) << -1 << "void dtype V2";
    QTest::newRow("void that is not the expected size") << npyBytes(1, dict("<V4", "(3,)")) << int(DType::BFloat16)
                                                        << "void dtype V4";
    QTest::newRow("void for a numpy dtype") << npyBytes(1, dict("<V2", "(3,)")) << int(DType::Float16) << "void dtype V2";
    QTest::newRow("structured dtype") << npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}")
                                      << -1 << "structured dtypes";
    QTest::newRow("long double") << npyBytes(1, dict("<f16", "()")) << -1 << "unsupported dtype '<f16'";
    QTest::newRow("unicode string dtype") << npyBytes(1, dict("<U5", "()")) << -1 << "unsupported dtype '<U5'";
    QTest::newRow("no byte order") << npyBytes(1, dict("f4", "()")) << -1 << "unsupported dtype 'f4'";
    QTest::newRow("escaped string") << npyBytes(1, dict("<f\\x34", "()")) << -1 << "unterminated or escaped string";
    QTest::newRow("negative dim") << npyBytes(1, dict("<f4", "(-1, 3)")) << -1 << "negative dimension";
    QTest::newRow("dim beyond 64 bits") << npyBytes(1, dict("<f4", "(99999999999999999999,)")) << -1 << "does not fit 64 bits";
    QTest::newRow("dim product overflow") << npyBytes(1, dict("<f4", "(4294967296, 4294967296)")) << -1
                                          << "shape [4294967296, 4294967296] is too large";
    QTest::newRow("empty, but the other dims overflow") << npyBytes(1, dict("<f4", "(0, 4294967296, 4294967296)")) << -1
                                                        << "shape [0, 4294967296, 4294967296] is too large";
    QTest::newRow("one element without comma") << npyBytes(1, dict("<f4", "(3)")) << -1 << "needs a trailing comma";
    QTest::newRow("expression in the shape") << npyBytes(1, dict("<f4", "(3*4,)")) << -1 << "expected ',' or ')'";
    QTest::newRow("leading zero") << npyBytes(1, dict("<f4", "(03,)")) << -1 << "leading zero";
    QByteArray manyDims = "(";
    for (int i = 0; i < 65; ++i)
        manyDims += "1, ";
    manyDims += ")";
    QTest::newRow("65 dimensions") << npyBytes(1, dict("<f4", manyDims.constData())) << -1 << "more than 64 dimensions";
}

void TestNpyFormat::refusesHeaders()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, voidAs);
    QFETCH(QString, message);
    const std::optional<DType> as = voidAs < 0 ? std::nullopt : std::optional(static_cast<DType>(voidAs));
    Result<NpyHeader> header = parseNpyHeader(reinterpret_cast<const uchar *>(bytes.constData()), bytes.size(), as);
    test::verifyRefused(header, QString(), message);
}

// Cases for formatMatchesNumpy: name, Graft dtype, shape. numpy writes each one's header.
struct FormatCase {
    const char *name;
    DType dtype;
    Shape shape;
};

static const std::vector<FormatCase> &formatCases()
{
    static const std::vector<FormatCase> cases = {
        {"float32 (3, 4)", DType::Float32, {3, 4}},
        {"bool 0-d", DType::Bool, {}},
        {"uint8 1-d", DType::UInt8, {3}},
        {"int64 zero-size", DType::Int64, {0}},
        {"float16 (64, 3, 7, 7)", DType::Float16, {64, 3, 7, 7}},
        {"complex128 32 dims", DType::Complex128, Shape(32, 1)},
        {"int8 long first dim", DType::Int8, {1234567890123}},
        {"float64 (1000, 1000)", DType::Float64, {1000, 1000}},
        {"bfloat16 (2, 3)", DType::BFloat16, {2, 3}},
        {"float8 (4,)", DType::Float8E4M3, {4}},
        // numpy pads an already aligned header by a full 64 bytes; this one is aligned.
        {"complex128 aligned", DType::Complex128, {2, 100000000000000000, 100000000000000000}},
    };
    return cases;
}

void TestNpyFormat::initTestCase()
{
    QVERIFY(m_numpyHeaders.isValid());
    // numpy writes one header per case: np.save for arrays it can allocate, else the same
    // _write_array_header np.save calls. bfloat16/float8 get the descr ml_dtypes arrays have.
    QJsonArray cases;
    for (const FormatCase &c : formatCases()) {
        QJsonArray shape;
        for (qint64 dim : c.shape)
            shape.append(dim);
        cases.append(QJsonArray{QString::fromLatin1(c.name), dtypeName(c.dtype), shape});
    }
    const char *script = R"(
import io, json, os, sys
import numpy as np
void = {"bfloat16": "<V2", "float8_e4m3fn": "|V1"}
for name, dtype, shape in json.loads(sys.argv[2]):
    shape = tuple(shape)
    out = io.BytesIO()
    try:
        a = np.zeros(shape, dtype=dtype)
        np.save(out, a)
        header = out.getvalue()[:len(out.getvalue()) - a.nbytes]
    except (TypeError, ValueError, MemoryError):
        descr = void.get(dtype) or np.dtype(dtype).str
        np.lib.format._write_array_header(out, {"descr": descr, "fortran_order": False, "shape": shape})
        header = out.getvalue()
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(header)
)";
    QProcess python;
    python.start(QStringLiteral(GRAFT_PYTHON),
                 {QStringLiteral("-c"), QString::fromLatin1(script), m_numpyHeaders.path(),
                  QString::fromUtf8(QJsonDocument(cases).toJson(QJsonDocument::Compact))});
    QVERIFY(python.waitForFinished(60000));
    QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
}

void TestNpyFormat::formatMatchesNumpy_data()
{
    QTest::addColumn<int>("index");
    for (size_t i = 0; i < formatCases().size(); ++i)
        QTest::newRow(formatCases()[i].name) << static_cast<int>(i);
}

void TestNpyFormat::formatMatchesNumpy()
{
    QFETCH(int, index);
    const FormatCase &c = formatCases()[index];
    const QByteArray numpy = test::readBytes(m_numpyHeaders.filePath(QString::fromLatin1(c.name)));
    QVERIFY(!numpy.isEmpty());
    const QByteArray ours = formatNpyHeader(c.dtype, c.shape);
    QCOMPARE(ours, numpy);
    QCOMPARE(ours.size() % 64, 0);

    // And it reads back as what it describes, unless no real array could have that shape.
    Result<NpyHeader> header = parseNpyHeader(reinterpret_cast<const uchar *>(ours.constData()), ours.size(), c.dtype);
    if (checkedNumel(c.shape, std::numeric_limits<qint64>::max() / dtypeSize(c.dtype)) < 0) {
        test::verifyRefused(header, QString(), QStringLiteral("is too large"));
        return;
    }
    QVERIFY2(header.ok(), header.ok() ? "" : qPrintable(header.error().message));
    QCOMPARE(header->dtype, c.dtype);
    QCOMPARE(shapeToString(header->shape), shapeToString(c.shape));
    QCOMPARE(header->dataOffset, qint64(ours.size()));
}

QTEST_GUILESS_MAIN(TestNpyFormat)
#include "tst_npyformat.moc"
