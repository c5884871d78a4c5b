// ZipArchive's name index: every member found by its exact name, absent names not found, and a
// name listed twice refused at the first repeat in directory order (whatever sits between).

#include "checkpoint/formats/ziparchive.h"
#include "hostilebuilders.h"
#include "hostileinput.h"

#include <QTemporaryDir>
#include <QTest>

using namespace graft;
using namespace graft::test;
using namespace graft::test::hostile;

class TestZipArchive : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void findsEveryMemberByItsName();
    void refusesTheFirstRepeatedName_data();
    void refusesTheFirstRepeatedName();

private:
    Result<ZipArchive> read(const QString &fileName, const QByteArray &zip)
    {
        Result<MappedFilePtr> mapped = MappedFile::open(writeFile(m_dir, fileName, zip));
        if (!mapped)
            return mapped.error();
        return ZipArchive::read(*mapped);
    }
    QTemporaryDir m_dir;
};

void TestZipArchive::findsEveryMemberByItsName()
{
    // 3000 members as torch.save names them, plus names that differ only by case, by a
    // trailing character or by a non-ASCII letter: each found as itself, with its own bytes.
    QList<QPair<QByteArray, QByteArray>> members;
    for (int i = 0; i < 3000; ++i)
        members.append({"archive/data/" + QByteArray::number(i), QByteArray::number(i * 7)});
    members.append(qMakePair(QByteArray("archive/Data/1"), QByteArray("upper")));
    members.append(qMakePair(QByteArray("archive/data/1x"), QByteArray("suffix")));
    members.append(qMakePair(QByteArray("archive/dätä/1"), QByteArray("umlaut")));
    const QByteArray zip = storedZip(members);
    Result<ZipArchive> archive = read(QStringLiteral("many.zip"), zip);
    QVERIFY2(archive.ok(), archive.ok() ? "" : qPrintable(archive.error().toString()));
    QCOMPARE(archive->entries().size(), size_t(members.size()));
    for (const auto &[name, bytes] : members) {
        const ZipEntry *entry = archive->find(QString::fromUtf8(name));
        QVERIFY2(entry != nullptr, name.constData());
        QCOMPARE(entry->name, QString::fromUtf8(name));
        QCOMPARE(zip.mid(entry->dataOffset, entry->compressedSize), bytes);
    }
    for (const char *absent : {"archive/data/3000", "archive/data/", "archive/data/01", "archive/DATA/1", ""})
        QVERIFY2(archive->find(QString::fromUtf8(absent)) == nullptr, absent);
}

void TestZipArchive::refusesTheFirstRepeatedName_data()
{
    QTest::addColumn<QList<QByteArray>>("names");
    QTest::addColumn<QString>("repeated"); // the name the error must give
    QTest::newRow("next to each other") << QList<QByteArray>{"a", "a"} << "a";
    QTest::newRow("apart") << QList<QByteArray>{"a", "b", "c", "a"} << "a";
    QTest::newRow("the first repeat in directory order") << QList<QByteArray>{"a", "b", "c", "b", "a"} << "b";
    QTest::newRow("three times") << QList<QByteArray>{"x", "k", "k", "k"} << "k";
}

void TestZipArchive::refusesTheFirstRepeatedName()
{
    QFETCH(QList<QByteArray>, names);
    QFETCH(QString, repeated);
    QList<QPair<QByteArray, QByteArray>> members;
    for (const QByteArray &name : names)
        members.append({name, "bytes of " + name});
    Result<ZipArchive> archive = read(QStringLiteral("repeated.zip"), storedZip(members));
    QVERIFY(!archive.ok());
    QVERIFY2(archive.error().file.endsWith(QStringLiteral("repeated.zip")), qPrintable(archive.error().toString()));
    QCOMPARE(archive.error().message, QStringLiteral("not a valid zip archive: duplicate entry '%1'").arg(repeated));
}

QTEST_GUILESS_MAIN(TestZipArchive)
#include "tst_ziparchive.moc"
