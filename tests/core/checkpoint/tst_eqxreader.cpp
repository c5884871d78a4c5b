// readEqx / readEqxRecords: a bare .eqx as tree_deserialise_leaves' np.load loop sees it, and
// one corrupt file per failure kind, made from the fixture's valid bytes.

#include "checkpoint/formats/eqxreader.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace graft;

namespace {

const QString kTinyVgg = QStringLiteral("tiny_vgg.eqx");

std::vector<EqxRecord> recordsOf(const QString &path)
{
    Result<MappedFilePtr> file = MappedFile::open(path);
    if (!file)
        return {};
    Result<std::vector<EqxRecord>> records = readEqxRecords(**file);
    return records ? *records : std::vector<EqxRecord>();
}

// Replaces record `record`'s header dict with `dict`, padded to the same length.
QByteArray withHeader(QByteArray bytes, const EqxRecord &record, QByteArray dict)
{
    const qint64 start = record.offset + 10;
    const qint64 length = record.dataOffset - start;
    dict += QByteArray(length - 1 - dict.size(), ' ') + '\n';
    return bytes.replace(start, length, dict);
}

} // namespace

class TestEqxReader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listingMatchesNumpy();
    void bareBfloat16NeedsASkeleton();
    void recordsOfEveryLayout();
    void emptyRecordsStillProgress();
    void refusesCorruptFiles_data();
    void refusesCorruptFiles();
    void refusesADirectory();
};

void TestEqxReader::listingMatchesNumpy() { test::checkAgainstManifest(kTinyVgg); }

void TestEqxReader::bareBfloat16NeedsASkeleton()
{
    // numpy itself lists this record as raw 'void16': without a skeleton nobody knows it is bf16.
    const QString path = test::fixturePath(QStringLiteral("bf16_skeleton.eqx"));
    test::verifyRefused(openCheckpoint(path), path, QStringLiteral("record [0] at byte 0: void dtype V2"));
}

void TestEqxReader::recordsOfEveryLayout()
{
    const QByteArray floats("\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40\x00\x00\xc0\x40", 24);
    QByteArray bigEndian = floats;
    for (int i = 0; i < bigEndian.size(); i += 4)
        std::reverse(bigEndian.begin() + i, bigEndian.begin() + i + 4);
    // Fortran order (2, 3): memory holds column after column.
    QByteArray columns;
    for (int column = 0; column < 3; ++column)
        for (int row = 0; row < 2; ++row)
            columns += floats.mid((row * 3 + column) * 4, 4);
    auto record = [](const QByteArray &dict, const QByteArray &data) {
        const QByteArray header = dict + '\n';
        return QByteArray("\x93NUMPY\x01\x00", 8) + test::littleEndian<quint16>(header.size()) + header + data;
    };
    const QByteArray file = record("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", floats)
                            + record("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", bigEndian)
                            + record("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", columns)
                            + record("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", QByteArray(1, '\1'));
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("layouts.eqx"), file);
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(checkpoint->format(), CheckpointFormat::Eqx);
    QCOMPARE(checkpoint->tensors().size(), size_t(4));
    QCOMPARE(checkpoint->tensors()[3].key, QStringLiteral("[3]"));
    for (int i = 0; i < 3; ++i) {
        Result<TensorBytes> bytes = checkpoint->read(i);
        QVERIFY(bytes.ok());
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(bytes->data()), bytes->size()), floats);
    }
    QCOMPARE(dtypeName(checkpoint->tensors()[3].dtype), QStringLiteral("bool"));
}

void TestEqxReader::emptyRecordsStillProgress()
{
    const QByteArray header = formatNpyHeader(DType::Float32, {0, 5});
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("empty_records.eqx"), header.repeated(1000));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY(checkpoint.ok());
    QCOMPARE(checkpoint->tensors().size(), size_t(1000));
    QCOMPARE(checkpoint->tensors().back().key, QStringLiteral("[999]"));
}

void TestEqxReader::refusesCorruptFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");

    const QByteArray valid = test::readBytes(test::fixturePath(kTinyVgg));
    const std::vector<EqxRecord> records = recordsOf(test::fixturePath(kTinyVgg));
    QCOMPARE(records.size(), size_t(18));
    const EqxRecord &third = records[3];
    const QString at3 = QStringLiteral("record [3] at byte %1: ").arg(third.offset);

    QTest::newRow("empty") << QByteArray() << "the file is empty";
    QTest::newRow("trailing garbage") << valid + "junk!"
                                      << QStringLiteral("5 trailing bytes at offset %1 after 18 records").arg(valid.size());
    QTest::newRow("trailing partial magic") << valid + "\x93NUM" << QStringLiteral("4 trailing bytes at offset %1").arg(valid.size());
    QTest::newRow("truncated in the data") << valid.left(third.dataOffset + 5)
                                           << at3 + "shape [8, 1, 1] of float32 needs 32 bytes of data but only 5 remain";
    QTest::newRow("truncated in the header") << valid.left(third.offset + 40) << at3 + ".npy header length";
    QTest::newRow("truncated in the length") << valid.left(third.offset + 9) << at3 + ".npy record truncated";
    QByteArray lie = valid;
    lie.replace(third.offset + 8, 2, test::littleEndian<quint16>(0xffff));
    QTest::newRow("header length lie") << lie << at3 + ".npy header length 65535 runs past the end";
    QByteArray shortLength = valid;
    shortLength.replace(third.offset + 8, 2, test::littleEndian<quint16>(30));
    QTest::newRow("header length too short") << shortLength << at3 + "header is not a valid dict literal";
    QTest::newRow("unknown dtype") << withHeader(valid, third, "{'descr': '<q4', 'fortran_order': False, 'shape': (8, 1, 1), }")
                                   << at3 + "unsupported dtype '<q4'";
    QTest::newRow("object dtype") << withHeader(valid, third, "{'descr': '|O', 'fortran_order': False, 'shape': (8, 1, 1), }")
                                  << at3 + "object arrays (dtype '|O') hold pickled Python objects";
    QTest::newRow("dim product overflow")
        << withHeader(valid, third, "{'descr': '<f4', 'fortran_order': False, 'shape': (8589934592, 8589934592), }")
        << at3 + "shape [8589934592, 8589934592] is too large";
    QTest::newRow("shape larger than the file")
        << withHeader(valid, third, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }")
        << at3 + "shape [100000000] of float32 needs 400000000 bytes";
    QTest::newRow("bad magic mid-file") << QByteArray(valid).replace(third.offset, 1, "X")
                                        << QStringLiteral("trailing bytes at offset %1 after 3 records").arg(third.offset);
}

void TestEqxReader::refusesCorruptFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = test::writeFile(dir, QStringLiteral("bad.eqx"), bytes);
    QVERIFY(!path.isEmpty());
    test::verifyRefused(openCheckpoint(path), path, message);
}

void TestEqxReader::refusesADirectory()
{
    QTemporaryDir dir;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder.eqx")));
    const QString path = dir.filePath(QStringLiteral("folder.eqx"));
    test::verifyRefused(openCheckpoint(path), path, QStringLiteral("is a directory"));
}

QTEST_GUILESS_MAIN(TestEqxReader)
#include "tst_eqxreader.moc"
