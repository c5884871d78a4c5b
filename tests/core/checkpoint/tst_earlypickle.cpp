// data.pkl unpickled while the zip directory is read (earlypickle.h): on real torch.save files
// the early member is the directory's own and the checkpoint is the same as read in turn; when
// the first local header or a descriptor look-alike tells another story than the directory,
// the directory's member is read and the early result dropped.

#include "checkpoint/formats/earlypickle.h"
#include "checkpoint/formats/readers.h"
#include "hostilebuilders.h"
#include "hostileinput.h"
#include "manifestcheck.h"

#include <QTemporaryDir>
#include <QTest>

using namespace graft;
using namespace graft::test;
using namespace graft::test::hostile;

namespace {

// A stored zip written as torch.save writes one: each local header says "sizes follow" (flag
// 8, zero CRC and sizes) and a data descriptor "PK\7\8" + CRC + sizes follows the data.
QByteArray describedZip(const QList<QPair<QByteArray, QByteArray>> &members)
{
    QByteArray out, central;
    for (const auto &[name, bytes] : members) {
        const quint32 crc = quint32(::crc32(0, reinterpret_cast<const Bytef *>(bytes.constData()), uInt(bytes.size())));
        const quint32 offset = quint32(out.size());
        out += le(0x04034b50, 4) + le(20, 2) + le(8, 2) + le(0, 2) + le(0, 4) + le(0, 4) + le(0, 4) + le(0, 4)
            + le(quint64(name.size()), 2) + le(0, 2) + name + bytes;
        out += le(0x08074b50, 4) + le(crc, 4) + le(quint64(bytes.size()), 4) + le(quint64(bytes.size()), 4);
        central += le(0x02014b50, 4) + le(45, 2) + le(20, 2) + le(8, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
            + le(quint64(bytes.size()), 4) + le(quint64(bytes.size()), 4) + le(quint64(name.size()), 2) + le(0, 2) + le(0, 2)
            + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + name;
    }
    const quint32 centralOffset = quint32(out.size());
    out += central;
    out += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(quint64(members.size()), 2) + le(quint64(members.size()), 2)
        + le(quint64(central.size()), 4) + le(centralOffset, 4) + le(0, 2);
    return out;
}

QByteArray stateDict(const QByteArray &key) { return dictPickle({{key, tensor(16, 0, {4, 4}, {4, 1})}}); }

const ZipEntry *topDataPkl(const ZipArchive &archive)
{
    const ZipEntry *found = nullptr;
    for (const ZipEntry &entry : archive.entries()) {
        if ((entry.name == QLatin1String("data.pkl") || entry.name.endsWith(QLatin1String("/data.pkl")))
            && (found == nullptr || entry.name.size() < found->name.size()))
            found = &entry;
    }
    return found;
}

QStringList describe(const Checkpoint &checkpoint)
{
    QStringList lines;
    for (const TensorEntry &t : checkpoint.tensors()) {
        QStringList shape, strides;
        for (qint64 d : t.shape)
            shape << QString::number(d);
        for (qint64 d : t.strides)
            strides << QString::number(d);
        lines << QStringLiteral("%1 %2 (%3) (%4) segment %5 +%6")
                     .arg(t.key, dtypeName(t.dtype), shape.join(u','), strides.join(u','))
                     .arg(t.segment)
                     .arg(t.byteOffset);
    }
    return lines;
}

// A file mapped and its directory read as openCheckpoint() reads it (data.pkl early when its
// first member is one of at least `minimumBytes`).
struct EarlyRead {
    MappedFilePtr file;
    std::optional<EarlyPickle> early;
    Result<ZipArchive> archive = Error{QString(), QStringLiteral("not read")};
};

EarlyRead readEarly(const QString &path, qint64 minimumBytes = 0)
{
    EarlyRead read;
    Result<MappedFilePtr> mapped = MappedFile::open(path);
    if (!mapped) {
        read.archive = mapped.error();
        return read;
    }
    read.file = *mapped;
    read.archive = readZipUnpicklingFirst(read.file, read.early, minimumBytes);
    return read;
}

// The keys of the checkpoint readTorchZip() makes of `read` with its early result, or the error.
QStringList keysReadWithTheEarlyResult(EarlyRead &read)
{
    Result<Checkpoint> checkpoint = readTorchZip(read.file, *read.archive, read.early ? &*read.early : nullptr);
    if (!checkpoint)
        return {QStringLiteral("error: ") + checkpoint.error().toString()};
    QStringList keys;
    for (const TensorEntry &tensor : checkpoint->tensors())
        keys << tensor.key;
    return keys;
}

} // namespace

class TestEarlyPickle : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void realTorchFilesAreReadEarly_data();
    void realTorchFilesAreReadEarly();
    void theDirectoryDecidesWhichMemberIsDataPkl();
    void aDescriptorLookAlikeInsideThePickleIsNotTrusted();
    void smallPicklesAndOtherArchivesAreReadInTurn();

private:
    QTemporaryDir m_dir;
};

void TestEarlyPickle::realTorchFilesAreReadEarly_data()
{
    QTest::addColumn<QString>("name");
    for (const char *name : {"resnet18.pth", "torch2_style.pth", "shared.pth", "views.pth", "dtypes.pth", "wrapped.pth"})
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestEarlyPickle::realTorchFilesAreReadEarly()
{
    QFETCH(QString, name);
    EarlyRead read = readEarly(fixturePath(name));
    const MappedFilePtr &file = read.file;
    std::optional<EarlyPickle> &early = read.early;
    const Result<ZipArchive> &archive = read.archive;
    QVERIFY2(archive.ok(), archive.ok() ? "" : qPrintable(archive.error().toString()));
    QVERIFY2(early.has_value(), "torch.save's data.pkl (first member, data descriptor after it) was not read early");
    const ZipEntry *entry = topDataPkl(*archive);
    QVERIFY(entry != nullptr);
    QCOMPARE(early->member.name, entry->name);
    QCOMPARE(early->member.dataOffset, entry->dataOffset);
    QCOMPARE(early->member.compressedSize, entry->compressedSize);
    QCOMPARE(early->member.crc32, entry->crc32);

    // Another member (or the same one with another CRC) does not take the early result.
    ZipEntry otherCrc = *entry;
    otherCrc.crc32 ^= 1;
    QVERIFY(!early->take(otherCrc).has_value());
    QVERIFY(!early->take(archive->entries().back()).has_value());

    Result<Checkpoint> inTurn = readTorchZip(file, *archive);
    Result<Checkpoint> earlyRead = readTorchZip(file, *archive, &*early);
    QVERIFY2(inTurn.ok(), inTurn.ok() ? "" : qPrintable(inTurn.error().toString()));
    QVERIFY2(earlyRead.ok(), earlyRead.ok() ? "" : qPrintable(earlyRead.error().toString()));
    QVERIFY(!inTurn->tensors().empty());
    QCOMPARE(describe(*earlyRead), describe(*inTurn));
    QCOMPARE(earlyRead->others().size(), inTurn->others().size());
}

// The first local header names data.pkl, but the directory calls that member otherwise and
// gives the name to the next one (local and central names differ: readers follow the
// directory). The early guess is dropped: the checkpoint holds the directory's data.pkl.
void TestEarlyPickle::theDirectoryDecidesWhichMemberIsDataPkl()
{
    QByteArray zip = describedZip({{"archive/data.pkl", stateDict("first")},
                                   {"archive/data.pkB", stateDict("second")},
                                   {"archive/data/0", QByteArray(64, '\0')}});
    const qsizetype central = zip.lastIndexOf("archive/data.pkl");
    zip.replace(central, 16, "archive/data.pkA");
    zip.replace(zip.lastIndexOf("archive/data.pkB"), 16, "archive/data.pkl");
    QVERIFY(central > zip.indexOf("archive/data/0"));
    EarlyRead read = readEarly(writeFile(m_dir, QStringLiteral("renamed.pth"), zip));
    QVERIFY(read.archive.ok());
    QVERIFY2(read.early.has_value(), "the first local header's data.pkl was not read early");
    QCOMPARE(read.early->member.dataOffset, qint64(30 + 16));
    QVERIFY(topDataPkl(*read.archive)->dataOffset != read.early->member.dataOffset);
    QCOMPARE(keysReadWithTheEarlyResult(read), QStringList{QStringLiteral("second")});
}

// A key holding "PK\7\8", the CRC of what precedes it and two sizes equal to its distance
// from the pickle's start: the early scan takes it for data.pkl's descriptor and unpickles a
// cut pickle; the directory gives the real size, so that guess is dropped and the whole
// pickle read.
void TestEarlyPickle::aDescriptorLookAlikeInsideThePickleIsNotTrusted()
{
    const QByteArray placeholder = QByteArray("PK\x07\x08", 4) + QByteArray(12, 'x');
    QByteArray pickle = stateDict("key " + placeholder + " end");
    const qsizetype at = pickle.indexOf(placeholder);
    const quint32 cutCrc = quint32(::crc32(0, reinterpret_cast<const Bytef *>(pickle.constData()), uInt(at)));
    pickle.replace(at + 4, 12, le(cutCrc, 4) + le(quint64(at), 4) + le(quint64(at), 4));
    const QByteArray zip = describedZip({{"archive/data.pkl", pickle}, {"archive/data/0", QByteArray(64, '\0')}});
    EarlyRead read = readEarly(writeFile(m_dir, QStringLiteral("lookalike.pth"), zip));
    QVERIFY(read.archive.ok());
    QVERIFY2(read.early.has_value(), "the look-alike descriptor was not taken: the test no longer tests anything");
    QCOMPARE(read.early->member.compressedSize, qint64(at));
    const Result<Unpickled> &cut = read.early->unpickled;
    QVERIFY(!cut.ok()); // the cut pickle (its CRC right) ends inside the key
    QVERIFY2(cut.error().message.contains(QStringLiteral("runs past the end")), qPrintable(cut.error().message));
    QCOMPARE(keysReadWithTheEarlyResult(read), QStringList{QString::fromUtf8("key " + pickle.mid(at, 16) + " end")});
}

// Below the size worth a thread, or when the first member is not data.pkl (an .npz, a torch
// file written by another zip tool), the directory is read alone.
void TestEarlyPickle::smallPicklesAndOtherArchivesAreReadInTurn()
{
    const QByteArray pickle = stateDict("w");
    const QList<QPair<QString, QByteArray>> files{
        {QStringLiteral("small.pth"), describedZip({{"archive/data.pkl", pickle}, {"archive/data/0", QByteArray(64, '\0')}})},
        {QStringLiteral("later.pth"), describedZip({{"archive/version", "3\n"}, {"archive/data.pkl", pickle}, {"archive/data/0", QByteArray(64, '\0')}})},
        {QStringLiteral("other.npz"), storedZip({{"w.npy", QByteArray(64, '\0')}})},
        {QStringLiteral("deflated.pth"), deflatedZip("archive/data.pkl", pickle, quint64(pickle.size()))}};
    for (const auto &[name, zip] : files) {
        const EarlyRead read = readEarly(writeFile(m_dir, name, zip), name == QLatin1String("small.pth") ? pickle.size() + 1 : 0);
        QVERIFY2(read.archive.ok(), qPrintable(name));
        QVERIFY2(!read.early.has_value(), qPrintable(name));
    }
}

QTEST_GUILESS_MAIN(TestEarlyPickle)
#include "tst_earlypickle.moc"
