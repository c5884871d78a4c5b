// Zip records carry a CRC-32; torch.load never checks it, so a flipped byte in a tensor record
// loads silently. Graft checks the CRC of every record whose bytes it reads: data.pkl when it
// opens the file, a storage or .npz member the first time a tensor's bytes are read (convert,
// diff, the inspector), and verifyCheckpoint() reads them all (graft-cli inspect --verify).

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "checkpoint/checkpointverifier.h"
#include "checkpoint/formats/ziparchive.h"
#include "hostilebuilders.h"
#include "hostileinput.h"

#include <QTemporaryDir>
#include <QTest>

using namespace graft;
using namespace graft::test;
using namespace graft::test::hostile;

namespace {

const QByteArray kPickle = dictPickle({{"w", tensor(16, 0, {4, 4}, {4, 1})}});

// `zip` with the byte at `offset` of member `name`'s data flipped (the directory's CRC kept).
QByteArray flipInMember(QByteArray zip, const QString &name, qint64 offset, const QTemporaryDir &dir)
{
    const QString probe = writeFile(dir, "probe.zip", zip);
    Result<MappedFilePtr> mapped = MappedFile::open(probe);
    if (!mapped)
        return {};
    Result<ZipArchive> archive = ZipArchive::read(*mapped);
    if (!archive || archive->find(name) == nullptr)
        return {};
    zip[archive->find(name)->dataOffset + offset] = char(zip[archive->find(name)->dataOffset + offset] ^ 0x40);
    return zip;
}

} // namespace

class TestRecordChecksum : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void intactRecordsRead();
    void flippedTensorRecordIsRefusedOnRead_data();
    void flippedTensorRecordIsRefusedOnRead();
    void flippedPickleIsRefusedOnOpen();
    void checkLeftToTheReader();
    void writeRefusesACorruptRecord_data();
    void writeRefusesACorruptRecord();
    void writeChecksManySmallRecords_data();
    void writeChecksManySmallRecords();
    void verifyReadsEveryTensor();

private:
    QTemporaryDir m_dir;
};

void TestRecordChecksum::intactRecordsRead()
{
    const QString path = writeFile(m_dir, "intact.pth", torchZip(kPickle));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().message));
    QVERIFY(checkpoint->segments().at(0).hasCrc32);
    QCOMPARE(checkpoint->segments().at(0).record, QStringLiteral("archive/data/0"));
    // Read twice: the second read uses the remembered answer.
    QVERIFY(checkpoint->read(0).ok());
    QVERIFY(checkpoint->read(0).ok());
}

void TestRecordChecksum::flippedTensorRecordIsRefusedOnRead_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("record");
    const QTemporaryDir &dir = m_dir;
    QTest::newRow("torch zip, stored storage") << "t.pth" << flipInMember(torchZip(kPickle), "archive/data/0", 37, dir) << "archive/data/0";
    // Two views of one storage: the record is checked once, both reads refuse it.
    QTest::newRow("torch zip, two tensors of one storage")
        << "t.pth"
        << flipInMember(torchZip(dictPickle({{"a", tensor(16, 0, {8}, {1})}, {"b", tensor(16, 8, {8}, {1})}})), "archive/data/0", 3, dir)
        << "archive/data/0";
    const QByteArray member = npyHeader("<f4", "(4, 4)") + QByteArray(64, '\x11');
    QTest::newRow("npz, stored member") << "t.npz" << flipInMember(storedZip({{"a.npy", member}}), "a.npy", member.size() - 10, dir) << "a.npy";
    // A deflated member with a flip in the array data inflates fine but to other bytes: the
    // CRC of the inflated bytes catches it. Made by building the member's deflate stream from
    // flipped bytes and keeping the intact member's CRC.
    QByteArray flipped = member;
    flipped[flipped.size() - 10] = char(flipped[flipped.size() - 10] ^ 0x01);
    QByteArray deflated = deflatedZip("a.npy", flipped, quint64(flipped.size()));
    const QByteArray goodCrc = le(quint32(::crc32(0, reinterpret_cast<const Bytef *>(member.constData()), uInt(member.size()))), 4);
    const QByteArray badCrc = le(quint32(::crc32(0, reinterpret_cast<const Bytef *>(flipped.constData()), uInt(flipped.size()))), 4);
    deflated.replace(badCrc, goodCrc);
    QTest::newRow("npz, deflated member") << "t.npz" << deflated << "a.npy";
}

void TestRecordChecksum::flippedTensorRecordIsRefusedOnRead()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, record);
    QVERIFY(!bytes.isEmpty());
    const QString path = writeFile(m_dir, fileName, bytes);
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    // Opening reads no tensor bytes: it lists the file as before.
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().message));
    QVERIFY(!checkpoint->tensors().empty());
    for (int i = 0; i < int(checkpoint->tensors().size()); ++i) {
        Result<TensorBytes> bytesRead = checkpoint->read(i);
        QVERIFY(!bytesRead.ok());
        QCOMPARE(bytesRead.error().file, path);
        const QString expected = QStringLiteral("tensor '%1': record '%2' is corrupt: its CRC-32 is ").arg(checkpoint->tensors()[size_t(i)].key, record);
        QVERIFY2(bytesRead.error().message.startsWith(expected), qPrintable(bytesRead.error().message));
    }
    Result<VerifyReport> verified = verifyCheckpoint(*checkpoint);
    QVERIFY(!verified.ok());
    QVERIFY(verified.error().message.contains(QStringLiteral("record '%1' is corrupt").arg(record)));
}

void TestRecordChecksum::flippedPickleIsRefusedOnOpen()
{
    // Byte 9 of data.pkl is inside the key's string: unpickled, it would open under another name.
    const QString path = writeFile(m_dir, "pickle.pth", flipInMember(torchZip(kPickle), "archive/data.pkl", 9, m_dir));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY(!checkpoint.ok());
    QCOMPARE(checkpoint.error().file, path);
    QVERIFY2(checkpoint.error().message.startsWith(QStringLiteral("record 'archive/data.pkl' is corrupt: its CRC-32 is ")),
             qPrintable(checkpoint.error().message));
}

// RecordCheck::ByReader: a tensor that fills its record comes back unchecked, naming the record
// its reader must check; the CRC the reader computes (here zlib's, an independent
// implementation) settles it. A tensor that is only part of its record is checked at once.
void TestRecordChecksum::checkLeftToTheReader()
{
    const auto zlibCrc = [](const TensorBytes &bytes) {
        return quint32(::crc32(0, reinterpret_cast<const Bytef *>(bytes.data()), uInt(bytes.size())));
    };
    const QByteArray whole = torchZip(kPickle);
    const QString intactPath = writeFile(m_dir, "reader_intact.pth", whole);
    Result<Checkpoint> intact = openCheckpoint(intactPath);
    QVERIFY(intact.ok());
    Result<TensorBytes> bytes = intact->read(0, Checkpoint::RecordCheck::ByReader);
    QVERIFY(bytes.ok());
    QCOMPARE(bytes->segmentToCheck(), 0);
    QCOMPARE(bytes->size(), qint64(64));
    QVERIFY(intact->completeCheck(*bytes, zlibCrc(*bytes)).ok());
    QCOMPARE(intact->read(0, Checkpoint::RecordCheck::ByReader)->segmentToCheck(), -1); // known good now
    QCOMPARE(intact->read(0)->segmentToCheck(), -1);                                     // read() checks itself

    const QString corruptPath = writeFile(m_dir, "reader_corrupt.pth", flipInMember(whole, "archive/data/0", 37, m_dir));
    Result<Checkpoint> corrupt = openCheckpoint(corruptPath);
    QVERIFY(corrupt.ok());
    Result<TensorBytes> unchecked = corrupt->read(0, Checkpoint::RecordCheck::ByReader);
    QVERIFY(unchecked.ok());
    QCOMPARE(unchecked->segmentToCheck(), 0);
    const Status settled = corrupt->completeCheck(*unchecked, zlibCrc(*unchecked));
    QVERIFY(!settled.ok());
    QCOMPARE(settled.error().file, corruptPath);
    QVERIFY2(settled.error().message.startsWith(QStringLiteral("record 'archive/data/0' is corrupt: its CRC-32 is ")),
             qPrintable(settled.error().message));
    QVERIFY(!corrupt->read(0).ok()); // the answer is remembered: refused

    // Two views of one storage: neither fills the record, so the check runs on the read.
    const QByteArray views = torchZip(dictPickle({{"a", tensor(16, 0, {8}, {1})}, {"b", tensor(16, 8, {8}, {1})}}));
    Result<Checkpoint> partial = openCheckpoint(writeFile(m_dir, "reader_views.pth", flipInMember(views, "archive/data/0", 3, m_dir)));
    QVERIFY(partial.ok());
    Result<TensorBytes> view = partial->read(1, Checkpoint::RecordCheck::ByReader);
    QVERIFY(!view.ok());
    QVERIFY2(view.error().message.contains(QStringLiteral("record 'archive/data/0' is corrupt")), qPrintable(view.error().message));
}

// A write reads its sources with the record checks running beside the copy: a corrupt record
// (here one the kernel copies file to file, and a small one written from memory) fails the write
// before anything is committed, and an existing destination keeps its bytes.
void TestRecordChecksum::writeRefusesACorruptRecord_data()
{
    QTest::addColumn<qint64>("values");
    QTest::addColumn<bool>("corrupt");
    QTest::addColumn<int>("format");
    // The zip outputs (.pt, .npz) take a copied record's CRC from the source's directory
    // (TensorBytes::recordCrc32) instead of reading the bytes: the check must still stop them.
    for (const auto &[name, format] : {std::pair{"safetensors", OutputFormat::Safetensors}, std::pair{"pt", OutputFormat::Torch},
                                       std::pair{"npz", OutputFormat::Npz}}) {
        const int f = static_cast<int>(format);
        QTest::addRow("1 MiB record, intact, %s", name) << qint64(262144) << false << f;
        QTest::addRow("1 MiB record, corrupt, %s", name) << qint64(262144) << true << f;
        QTest::addRow("64-byte record, intact, %s", name) << qint64(16) << false << f;
        QTest::addRow("64-byte record, corrupt, %s", name) << qint64(16) << true << f;
    }
}

void TestRecordChecksum::writeRefusesACorruptRecord()
{
    QFETCH(qint64, values);
    QFETCH(bool, corrupt);
    QFETCH(int, format);
    QByteArray storage(values * 4, Qt::Uninitialized);
    for (qint64 i = 0; i < storage.size(); ++i)
        storage[i] = char(i * 7);
    QByteArray zip = storedZip({{"archive/data.pkl", dictPickle({{"w", tensor(values, 0, {values}, {1})}})},
                                {"archive/data/0", storage},
                                {"archive/version", "3\n"}});
    if (corrupt)
        zip = flipInMember(zip, "archive/data/0", storage.size() - 3, m_dir);
    const QString source = writeFile(m_dir, "write_source.pth", zip);
    Result<Checkpoint> checkpoint = openCheckpoint(source);
    QVERIFY(checkpoint.ok());
    const QString destination = m_dir.filePath(QStringLiteral("write_out.%1").arg(format));
    QFile::remove(destination);
    const QByteArray previous("an earlier output");
    {
        QFile existing(destination);
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write(previous);
    }
    const Checkpoint input = *checkpoint;
    std::vector<OutputLeaf> leaves{{QStringLiteral("w"), {DType::Float32, {values}}, [input] { return input.read(0); }}};
    WriteOptions options;
    options.format = static_cast<OutputFormat>(format);
    Result<WriteSummary> written = writeCheckpoint(destination, leaves, options);
    QFile output(destination);
    QVERIFY(output.open(QIODevice::ReadOnly));
    const QByteArray bytes = output.readAll();
    if (!corrupt) {
        QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().toString()));
        QVERIFY(bytes.contains(storage)); // the tensor's bytes, copied as they are
        QCOMPARE(input.read(0, Checkpoint::RecordCheck::ByReader)->segmentToCheck(), -1); // checked during the write
        // Read back: a zip output's member CRCs (taken from the source's) are right.
        Result<Checkpoint> reread = openCheckpoint(destination);
        QVERIFY2(reread.ok(), reread.ok() ? "" : qPrintable(reread.error().message));
        Result<VerifyReport> report = verifyCheckpoint(*reread);
        QVERIFY2(report.ok(), report.ok() ? "" : qPrintable(report.error().message));
        Result<TensorBytes> back = reread->read(0);
        QVERIFY(back.ok());
        QCOMPARE(QByteArray(reinterpret_cast<const char *>(back->data()), back->size()), storage);
        return;
    }
    QVERIFY(!written.ok());
    QCOMPARE(written.error().file, destination);
    const QString message = written.error().message;
    QVERIFY2(message.contains(source) && message.contains(QStringLiteral("tensor 'w': record 'archive/data/0' is corrupt: its CRC-32 is ")),
             qPrintable(message));
    QCOMPARE(bytes, previous); // nothing committed
}

void TestRecordChecksum::writeChecksManySmallRecords_data()
{
    QTest::addColumn<int>("corruptRecord"); // -1: none
    QTest::addColumn<bool>("reversed");     // leaves written in the opposite order to the file's
    QTest::newRow("1000 records, intact") << -1 << false;
    QTest::newRow("1000 records, the first corrupt") << 0 << false;
    QTest::newRow("1000 records, the 700th corrupt") << 700 << false;
    QTest::newRow("1000 records, the last corrupt") << 999 << false;
    QTest::newRow("1000 records written backwards, intact") << -1 << true;
    QTest::newRow("1000 records written backwards, the 700th corrupt") << 700 << true;
}

// A writer queues the checks of small records and wakes its checker only every few hundred
// (or at the end), which reads runs of neighbouring records with one pread: every record must
// still be checked before anything is committed, whichever batch and run holds the corrupt one,
// and in whatever order the records are written.
void TestRecordChecksum::writeChecksManySmallRecords()
{
    QFETCH(int, corruptRecord);
    QFETCH(bool, reversed);
    constexpr int kRecords = 1000;
    QList<QPair<QByteArray, QByteArray>> tensors;
    QList<QPair<QByteArray, QByteArray>> members{{"archive/data.pkl", QByteArray()}};
    for (int i = 0; i < kRecords; ++i) {
        const QByteArray key = QByteArray::number(i);
        tensors.append({"t" + key, tensor(16, 0, {16}, {1}).replace(str("0"), str(key))});
        QByteArray storage(64, Qt::Uninitialized);
        for (int b = 0; b < storage.size(); ++b)
            storage[b] = char(i * 31 + b);
        members.append({"archive/data/" + key, storage});
    }
    members[0].second = dictPickle(tensors);
    members.append(qMakePair(QByteArray("archive/version"), QByteArray("3\n")));
    QByteArray zip = storedZip(members);
    if (corruptRecord >= 0)
        zip = flipInMember(zip, QStringLiteral("archive/data/%1").arg(corruptRecord), 5, m_dir);
    QVERIFY(!zip.isEmpty());
    const QString source = writeFile(m_dir, "many_source.pth", zip);
    Result<Checkpoint> checkpoint = openCheckpoint(source);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().message));
    QCOMPARE(int(checkpoint->tensors().size()), kRecords);
    const Checkpoint input = *checkpoint;
    std::vector<OutputLeaf> leaves;
    for (int k = 0; k < kRecords; ++k) {
        const int i = reversed ? kRecords - 1 - k : k;
        leaves.push_back({input.tensors()[size_t(i)].key, {DType::Float32, {16}}, [input, i] { return input.read(i); }});
    }
    const QString destination = m_dir.filePath(QStringLiteral("many_out.safetensors"));
    QFile::remove(destination);
    WriteOptions options;
    options.format = OutputFormat::Safetensors;
    Result<WriteSummary> written = writeCheckpoint(destination, leaves, options);
    if (corruptRecord < 0) {
        QVERIFY2(written.ok(), written.ok() ? "" : qPrintable(written.error().toString()));
        for (int i = 0; i < kRecords; ++i) // every record was checked during the write
            QCOMPARE(input.read(i, Checkpoint::RecordCheck::ByReader)->segmentToCheck(), -1);
        // Each small tensor was copied from the input's map (its pages released as the reads
        // moved on, backwards too): the output holds every tensor's own bytes.
        Result<Checkpoint> output = openCheckpoint(destination);
        QVERIFY2(output.ok(), output.ok() ? "" : qPrintable(output.error().message));
        QCOMPARE(int(output->tensors().size()), kRecords);
        for (int i = 0; i < kRecords; ++i) {
            const int o = output->indexOf(input.tensors()[size_t(i)].key);
            QVERIFY(o >= 0);
            Result<TensorBytes> want = input.read(i);
            Result<TensorBytes> got = output->read(o);
            QVERIFY(want.ok() && got.ok());
            QCOMPARE(QByteArray(reinterpret_cast<const char *>(got->data()), int(got->size())),
                     QByteArray(reinterpret_cast<const char *>(want->data()), int(want->size())));
        }
        return;
    }
    QVERIFY(!written.ok());
    const QString expected = QStringLiteral("tensor 't%1': record 'archive/data/%1' is corrupt").arg(corruptRecord);
    QVERIFY2(written.error().message.contains(expected), qPrintable(written.error().message));
    QVERIFY(!QFile::exists(destination)); // nothing committed
}

void TestRecordChecksum::verifyReadsEveryTensor()
{
    const QString path = writeFile(m_dir, "two.pth",
                                   torchZip(dictPickle({{"a", tensor(16, 0, {8}, {1})}, {"b", tensor(16, 8, {2, 4}, {4, 1})}})));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY(checkpoint.ok());
    Result<VerifyReport> report = verifyCheckpoint(*checkpoint);
    QVERIFY2(report.ok(), report.ok() ? "" : qPrintable(report.error().message));
    QCOMPARE(report->tensors, qint64(2));
    QCOMPARE(report->bytes, qint64(64));
    QCOMPARE(report->checkedRecords, qint64(1)); // one storage behind both

    // No tensors: nothing to read, and that verifies.
    const QString empty = writeFile(m_dir, "empty.pth", torchZip(dictPickle({})));
    Result<Checkpoint> none = openCheckpoint(empty);
    QVERIFY(none.ok());
    Result<VerifyReport> nothing = verifyCheckpoint(*none);
    QVERIFY(nothing.ok());
    QCOMPARE(nothing->tensors, qint64(0));
}

QTEST_GUILESS_MAIN(TestRecordChecksum)
#include "tst_recordchecksum.moc"
