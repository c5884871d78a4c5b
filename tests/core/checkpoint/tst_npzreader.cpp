// readNpz: the np.savez / np.savez_compressed fixtures against np.load, members that are not
// arrays, and one corrupt archive per failure kind (built here with a minimal zip writer).

#include "checkpoint/formats/npyheader.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QTemporaryDir>
#include <QTest>

#include <zlib.h>

#include <cstring>

using namespace graft;

namespace {

struct Member {
    QByteArray name;
    QByteArray payload;          // bytes as stored in the archive
    quint16 method = 0;          // 0 stored, 8 deflated
    qint64 uncompressedSize = -1; // -1: the payload's size
    quint32 crc = 0;              // CRC-32 of the uncompressed bytes
};

quint32 crcOf(const QByteArray &data)
{
    return static_cast<quint32>(::crc32(0, reinterpret_cast<const Bytef *>(data.constData()), static_cast<uInt>(data.size())));
}

// Raw deflate (zip method 8): qCompress's zlib stream without its size prefix, zlib header
// and Adler-32 trailer.
QByteArray deflated(const QByteArray &data)
{
    const QByteArray zlib = qCompress(data, 9);
    return zlib.mid(6, zlib.size() - 10);
}

Member storedMember(const QByteArray &name, const QByteArray &data) { return Member{name, data, 0, -1, crcOf(data)}; }
Member deflatedMember(const QByteArray &name, const QByteArray &data)
{
    return Member{name, deflated(data), 8, data.size(), crcOf(data)};
}

// A zip with local headers, a central directory and an end record, CRCs right (the reader
// checks a member's CRC-32 when its bytes are read).
QByteArray zip(const std::vector<Member> &members)
{
    QByteArray out;
    QByteArray directory;
    for (const Member &member : members) {
        const quint32 size = static_cast<quint32>(member.payload.size());
        const quint32 uncompressed = static_cast<quint32>(member.uncompressedSize < 0 ? size : member.uncompressedSize);
        const quint32 localOffset = static_cast<quint32>(out.size());
        out += test::littleEndian<quint32>(0x04034b50) + test::littleEndian<quint16>(20) + test::littleEndian<quint16>(0)
               + test::littleEndian<quint16>(member.method) + test::littleEndian<quint32>(0) + test::littleEndian<quint32>(member.crc)
               + test::littleEndian<quint32>(size) + test::littleEndian<quint32>(uncompressed)
               + test::littleEndian<quint16>(member.name.size()) + test::littleEndian<quint16>(0) + member.name
               + member.payload;
        directory += test::littleEndian<quint32>(0x02014b50) + test::littleEndian<quint16>(20)
                     + test::littleEndian<quint16>(20) + test::littleEndian<quint16>(0)
                     + test::littleEndian<quint16>(member.method) + test::littleEndian<quint32>(0)
                     + test::littleEndian<quint32>(member.crc) + test::littleEndian<quint32>(size)
                     + test::littleEndian<quint32>(uncompressed) + test::littleEndian<quint16>(member.name.size())
                     + QByteArray(8, '\0') + test::littleEndian<quint32>(0) + test::littleEndian<quint32>(localOffset)
                     + member.name;
    }
    const quint32 directoryOffset = static_cast<quint32>(out.size());
    out += directory;
    out += test::littleEndian<quint32>(0x06054b50) + QByteArray(4, '\0')
           + test::littleEndian<quint16>(members.size()) + test::littleEndian<quint16>(members.size())
           + test::littleEndian<quint32>(directory.size()) + test::littleEndian<quint32>(directoryOffset)
           + test::littleEndian<quint16>(0);
    return out;
}

QByteArray npy(DType dtype, const Shape &shape, const QByteArray &data) { return formatNpyHeader(dtype, shape) + data; }

QByteArray npyWithDict(const QByteArray &dict, const QByteArray &data)
{
    return QByteArray("\x93NUMPY\x01\x00", 8) + test::littleEndian<quint16>(dict.size()) + dict + data;
}

} // namespace

class TestNpzReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesNumpy_data();
    void listingMatchesNumpy();
    void storedIsMappedDeflatedIsInflated();
    void membersThatAreNotArrays();
    void refusesCorruptArchives_data();
    void refusesCorruptArchives();
    void bigArchiveListsEveryMember();
    void readReportsAnInflateSizeLie();
};

void TestNpzReader::listingMatchesNumpy_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("stored") << QStringLiteral("stored.npz");
    QTest::newRow("deflated") << QStringLiteral("deflated.npz");
}

void TestNpzReader::listingMatchesNumpy()
{
    QFETCH(QString, file);
    test::checkAgainstManifest(file);
}

void TestNpzReader::storedIsMappedDeflatedIsInflated()
{
    Result<Checkpoint> stored = openCheckpoint(test::fixturePath(QStringLiteral("stored.npz")));
    QVERIFY(stored.ok());
    QCOMPARE(stored->format(), CheckpointFormat::Npz);
    QVERIFY(!stored->segments().front().deflated);
    QVERIFY(stored->read(0)->isZeroCopy());

    Result<Checkpoint> compressed = openCheckpoint(test::fixturePath(QStringLiteral("deflated.npz")));
    QVERIFY(compressed.ok());
    QCOMPARE(compressed->segments().size(), size_t(3));
    for (const Segment &segment : compressed->segments())
        QVERIFY(segment.deflated);
    QVERIFY(!compressed->read(0)->isZeroCopy());
}

void TestNpzReader::membersThatAreNotArrays()
{
    const QByteArray floats(12, '\x01');
    const QByteArray archive = zip({storedMember("a.npy", npy(DType::Float32, {3}, floats)),
                                    storedMember("README.txt", "hello"),
                                    deflatedMember("raw.npy", "not an array at all"),
                                    deflatedMember("nested/b.npy", npy(DType::UInt8, {2, 2}, "abcd"))});
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("mixed.npz"), archive);
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(checkpoint->tensors().size(), size_t(2));
    QCOMPARE(checkpoint->tensors()[0].key, QStringLiteral("a"));
    QCOMPARE(checkpoint->tensors()[1].key, QStringLiteral("nested/b"));
    Result<TensorBytes> bytes = checkpoint->read(1);
    QVERIFY(bytes.ok());
    QCOMPARE(QByteArray(reinterpret_cast<const char *>(bytes->data()), bytes->size()), QByteArray("abcd"));
    QCOMPARE(checkpoint->others().size(), size_t(2));
    QCOMPARE(checkpoint->others()[0].key, QStringLiteral("README.txt"));
    QCOMPARE(checkpoint->others()[1].key, QStringLiteral("raw.npy"));
}

void TestNpzReader::refusesCorruptArchives_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");

    const QByteArray valid = npy(DType::Float32, {3}, QByteArray(12, '\0'));
    const QByteArray real = test::readBytes(test::fixturePath(QStringLiteral("stored.npz")));
    QVERIFY(!real.isEmpty());

    QTest::newRow("empty file") << QByteArray() << "the file is empty";
    QTest::newRow("no members") << zip({}) << "holds no members";
    QTest::newRow("truncated archive") << real.left(real.size() / 2) << "not a valid zip archive";
    QTest::newRow("truncated in the end record") << real.left(real.size() - 10) << "not a valid zip archive";
    QByteArray lie = valid;
    lie.replace(8, 2, test::littleEndian<quint16>(0xffff));
    QTest::newRow("header length lie") << zip({storedMember("a.npy", lie)})
                                       << "member 'a.npy': .npy header length 65535 runs past the end";
    QTest::newRow("member shorter than its shape")
        << zip({storedMember("a.npy", npy(DType::Float32, {300, 400}, QByteArray(12, '\0')))})
        << "member 'a.npy': shape [300, 400] of float32 needs 480000 bytes";
    QTest::newRow("deflated member shorter than its shape")
        << zip({deflatedMember("a.npy", npy(DType::Float32, {300, 400}, QByteArray(12, '\0')))})
        << "member 'a.npy': shape [300, 400] of float32 needs 480000 bytes";
    QTest::newRow("dim product overflow")
        << zip({storedMember("a.npy", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""))})
        << "member 'a.npy': shape [4294967296, 4294967296] is too large";
    QTest::newRow("object member")
        << zip({storedMember("a.npy", npyWithDict("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", QByteArray(16, '\0')))})
        << "member 'a.npy': object arrays";
    QTest::newRow("unknown dtype")
        << zip({deflatedMember("a.npy", npyWithDict("{'descr': '<M8', 'fortran_order': False, 'shape': (2,), }", QByteArray(16, '\0')))})
        << "member 'a.npy': unsupported dtype '<M8'";
    Member bomb = deflatedMember("a.npy", valid);
    bomb.uncompressedSize = 0xfffffff0;
    QTest::newRow("declared size deflate cannot reach") << zip({bomb}) << "more than deflate can produce";
    QTest::newRow("corrupt deflate stream") << zip({Member{"a.npy", QByteArray(40, '\xff'), 8, 200}})
                                            << "member 'a.npy': corrupt compressed data";
    QByteArray longHeader = valid;
    longHeader.replace(8, 2, test::littleEndian<quint16>(200));
    QTest::newRow("deflated header past its member") << zip({deflatedMember("a.npy", longHeader.left(40))})
                                                     << "past the end of the member (40 bytes)";
    QTest::newRow("unsupported method") << zip({Member{"a.npy", valid, 12, -1}}) << "compression method 12";

    // 5000 members: the local headers are read on every core, each core a slice. Two broken
    // ones (in different slices on two cores): the first in directory order is named.
    std::vector<Member> many;
    for (int i = 0; i < 5000; ++i)
        many.push_back(storedMember("m" + QByteArray::number(i) + ".npy", valid));
    const QByteArray big = zip(many);
    const auto localHeaderOf = [&big](int member) {
        qsizetype at = 0;
        for (int i = 0; i <= member; ++i)
            at = big.indexOf(QByteArray("PK\x03\x04", 4), i == 0 ? 0 : at + 4);
        return at;
    };
    QByteArray brokenTwice = big;
    brokenTwice[localHeaderOf(4200)] = 'X';
    brokenTwice[localHeaderOf(1700)] = 'X';
    QTest::newRow("5000 members, local headers 1700 and 4200 missing")
        << brokenTwice << QStringLiteral("entry 'm1700.npy': local header missing at offset %1").arg(localHeaderOf(1700));
    QByteArray lastBroken = big;
    lastBroken[localHeaderOf(4999) + 1] = 'Q'; // the last member's, at the end of the last slice
    QTest::newRow("5000 members, the last local header missing")
        << lastBroken << QStringLiteral("entry 'm4999.npy': local header missing at offset %1").arg(localHeaderOf(4999));
}

void TestNpzReader::refusesCorruptArchives()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("bad.npz"), bytes);
    QVERIFY(!path.isEmpty());
    test::verifyRefused(openCheckpoint(path), path, message);
}

// The local headers of a big archive are read on every core: every member lands at its own
// data (each holds a different value).
void TestNpzReader::bigArchiveListsEveryMember()
{
    std::vector<Member> many;
    for (int i = 0; i < 6000; ++i) {
        const float value = static_cast<float>(i);
        many.push_back(storedMember("m" + QByteArray::number(i) + ".npy",
                                    npy(DType::Float32, {1}, QByteArray(reinterpret_cast<const char *>(&value), 4))));
    }
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("many.npz"), zip(many));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(checkpoint->tensors().size(), size_t(6000));
    for (int i = 0; i < 6000; i += 7) {
        const int index = checkpoint->indexOf(QStringLiteral("m%1").arg(i));
        QVERIFY(index >= 0);
        Result<TensorBytes> bytes = checkpoint->read(index);
        QVERIFY(bytes.ok());
        float value = -1;
        std::memcpy(&value, bytes->data(), 4);
        QCOMPARE(value, static_cast<float>(i));
    }
}

void TestNpzReader::readReportsAnInflateSizeLie()
{
    // The member claims more inflated bytes than its stream holds: the index is plausible, but
    // reading the tensor must fail cleanly rather than hand out unwritten memory.
    Member member = deflatedMember("a.npy", npy(DType::Float32, {3}, QByteArray(12, '\0')));
    member.uncompressedSize += 64;
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("lie.npz"), zip({member}));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    test::verifyRefused(checkpoint->read(0), path, QStringLiteral("tensor 'a': compressed data inflates to 140 bytes, 204 declared"));
}

QTEST_GUILESS_MAIN(TestNpzReader)
#include "tst_npzreader.moc"
