// readNpy: the fixtures against what np.load sees, and one corrupt file per failure kind.

#include "checkpoint/formats/npyheader.h"
#include "checkpoint/formats/readers.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

using namespace graft;

namespace {

// A whole .npy file: the header numpy would write for `descr`/`shape`, then `data`.
QByteArray npyFile(const QByteArray &dict, const QByteArray &data)
{
    QByteArray header = dict + '\n';
    QByteArray bytes("\x93NUMPY\x01\x00", 8);
    bytes += test::littleEndian<quint16>(header.size());
    return bytes + header + data;
}

} // namespace

class TestNpyReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesNumpy_data();
    void listingMatchesNumpy();
    void layoutOfTheIndex();
    void refusesCorruptFiles_data();
    void refusesCorruptFiles();
    void refusesADirectory();
};

void TestNpyReader::listingMatchesNumpy_data()
{
    QTest::addColumn<QString>("file");
    for (const char *name : {"v1.npy", "v2.npy", "v3.npy", "fortran.npy", "bool.npy", "scalar.npy", "bigendian.npy"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestNpyReader::listingMatchesNumpy()
{
    QFETCH(QString, file);
    test::checkAgainstManifest(file);
}

void TestNpyReader::layoutOfTheIndex()
{
    Result<Checkpoint> plain = openCheckpoint(test::fixturePath(QStringLiteral("v1.npy")));
    QVERIFY(plain.ok());
    QCOMPARE(plain->format(), CheckpointFormat::Npy);
    QCOMPARE(plain->tensors().size(), size_t(1));
    QCOMPARE(plain->segments().front().offset, qint64(128)); // np.save aligns data on 64 bytes
    QVERIFY(plain->read(0)->isZeroCopy());

    Result<Checkpoint> fortran = openCheckpoint(test::fixturePath(QStringLiteral("fortran.npy")));
    QVERIFY(fortran.ok());
    const TensorEntry &entry = fortran->tensors().front();
    QCOMPARE(shapeToString(entry.strides), QStringLiteral("[1, 3]"));
    QVERIFY(!entry.isContiguous());

    Result<Checkpoint> big = openCheckpoint(test::fixturePath(QStringLiteral("bigendian.npy")));
    QVERIFY(big.ok());
    QVERIFY(big->tensors().front().bigEndian);
    QVERIFY(!big->read(0)->isZeroCopy());
}

void TestNpyReader::refusesCorruptFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");

    const QByteArray valid = test::readBytes(test::fixturePath(QStringLiteral("v1.npy")));
    QCOMPARE(valid.size(), 176);
    QTest::newRow("empty") << QByteArray() << "the file is empty";
    QTest::newRow("bad magic") << QByteArray(valid).replace(1, 1, "X") << "not a recognised checkpoint";
    QTest::newRow("truncated in the length") << valid.left(9) << "truncated in its header length";
    QTest::newRow("truncated in the header") << valid.left(100) << "header length 118 runs past the end";
    QTest::newRow("truncated in the data") << valid.left(150)
                                           << "needs 48 bytes of data after the 128-byte header, but the file holds 22";
    QTest::newRow("header length lie") << QByteArray(valid).replace(8, 2, test::littleEndian<quint16>(60000))
                                       << "header length 60000 runs past the end";
    QTest::newRow("shape larger than the data") << npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (300, 400), }",
                                                           QByteArray(48, '\0'))
                                                << "shape [300, 400] of float32 needs 480000 bytes";
    QTest::newRow("dim product overflow")
        << npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536, 65536, 65536), }", QByteArray(8, '\0'))
        << "is too large";
    QTest::newRow("unknown dtype") << npyFile("{'descr': '<q9', 'fortran_order': False, 'shape': (1,), }", QByteArray(9, '\0'))
                                   << "unsupported dtype '<q9'";
    QTest::newRow("object dtype") << npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", QByteArray(8, '\0'))
                                  << "pickled Python objects";
    QTest::newRow("bfloat16 without a skeleton")
        << npyFile("{'descr': '<V2', 'fortran_order': False, 'shape': (1,), }", QByteArray(2, '\0')) << "void dtype V2";
    QTest::newRow("not a dict") << npyFile("(1, 2)", QByteArray()) << "not a valid dict literal";
}

void TestNpyReader::refusesCorruptFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("bad.npy"), bytes);
    QVERIFY(!path.isEmpty());
    test::verifyRefused(openCheckpoint(path), path, message);
    if (QTest::currentTestFailed())
        return;

    // The reader itself, past the opener's magic check, must refuse the same bytes.
    Result<MappedFilePtr> file = MappedFile::open(path);
    QVERIFY(file.ok());
    Result<Checkpoint> direct = readNpy(*file);
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().file, path);
}

void TestNpyReader::refusesADirectory()
{
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder.npy")));
    const QString path = dir.filePath(QStringLiteral("folder.npy"));
    test::verifyRefused(openCheckpoint(path), path, QStringLiteral("is a directory"));
}

QTEST_GUILESS_MAIN(TestNpyReader)
#include "tst_npyreader.moc"
