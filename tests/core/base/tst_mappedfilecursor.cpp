// MappedFileCursor: the bytes it returns are the file's, wherever the reads go, and a reader
// that walks a whole file through it ends up holding no more than a few MiB of it (the pages it
// passed are given back), where a plain walk through the map holds all of it.

#include "base/mappedfilecursor.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace graft;

namespace {

constexpr qint64 kFileBytes = qint64(24) << 20;

uchar byteAt(qint64 offset) { return static_cast<uchar>((offset * 2654435761u) >> 13); }

// Resident bytes of the mapping that starts at `start` (/proc/self/smaps), or -1.
qint64 residentBytes(const uchar *start)
{
    QFile smaps(QStringLiteral("/proc/self/smaps"));
    if (!smaps.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray wanted = QByteArray::number(reinterpret_cast<quintptr>(start), 16) + '-';
    // The mapping's header line ("start-end perms ..."), then its fields; Rss comes before the
    // next mapping's header.
    bool inside = false;
    for (const QByteArray &line : smaps.readAll().split('\n')) {
        if (line.startsWith(wanted))
            inside = true;
        else if (inside && line.startsWith("Rss:"))
            return line.mid(4).trimmed().split(' ').first().toLongLong() * 1024;
    }
    return -1;
}

} // namespace

class TestMappedFileCursor : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void bytesAreTheFiles();
    void walkingTheFileKeepsLittleOfIt();

private:
    QTemporaryDir m_dir;
    QString m_path;
};

void TestMappedFileCursor::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_path = m_dir.filePath(QStringLiteral("pattern.bin"));
    QFile file(m_path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    QByteArray bytes(static_cast<qsizetype>(kFileBytes), Qt::Uninitialized);
    for (qint64 i = 0; i < kFileBytes; ++i)
        bytes[static_cast<qsizetype>(i)] = static_cast<char>(byteAt(i));
    QCOMPARE(file.write(bytes), kFileBytes);
}

void TestMappedFileCursor::bytesAreTheFiles()
{
    Result<MappedFilePtr> file = MappedFile::open(m_path);
    QVERIFY(file.ok());
    MappedFileCursor cursor(**file);
    // Forward in small hops, a jump back, a jump far ahead, the last byte, across a release.
    const QList<QPair<qint64, qint64>> reads{{0, 30},        {4096 - 7, 30}, {70000, 5000},   {1 << 20, 64},
                                             {5 << 20, 100}, {12345, 300},   {20 << 20, 4096}, {kFileBytes - 1, 1},
                                             {3 << 20, 2 << 20}};
    for (const auto &[offset, length] : reads) {
        const uchar *bytes = cursor.at(offset, length);
        QVERIFY(bytes != nullptr);
        for (qint64 i = 0; i < length; ++i) {
            if (bytes[i] != byteAt(offset + i))
                QFAIL(qPrintable(QStringLiteral("byte %1 of the read at %2 differs").arg(i).arg(offset)));
        }
    }
    QVERIFY(cursor.at(kFileBytes - 10, 11) == nullptr); // past the end
    QVERIFY(cursor.at(-1, 1) == nullptr);
    QVERIFY(cursor.at(kFileBytes, 0) != nullptr);       // an empty read at the end is inside
}

void TestMappedFileCursor::walkingTheFileKeepsLittleOfIt()
{
#ifndef Q_OS_LINUX
    QSKIP("reads the mapping's resident size from /proc/self/smaps");
#else
    Result<MappedFilePtr> file = MappedFile::open(m_path);
    QVERIFY(file.ok());
    const MappedFile &mapped = **file;
    quint64 sum = 0;
    {
        MappedFileCursor cursor(mapped);
        for (qint64 offset = 0; offset + 40 <= kFileBytes; offset += 4500) // a header every 4.5 KB
            sum += cursor.at(offset, 40)[0];
        const qint64 resident = residentBytes(mapped.data());
        QVERIFY2(resident >= 0, "the mapping is not in /proc/self/smaps");
        QVERIFY2(resident <= (qint64(4) << 20) + (qint64(256) << 10), qPrintable(QStringLiteral("%1 bytes resident").arg(resident)));
    }
    QCOMPARE(residentBytes(mapped.data()), qint64(0)); // the cursor gave back the rest when it died
    // The same walk straight through the map keeps what it touched: what the cursor prevents.
    for (qint64 offset = 0; offset + 40 <= kFileBytes; offset += 4500)
        sum += mapped.data()[offset];
    QVERIFY2(residentBytes(mapped.data()) > kFileBytes / 2, qPrintable(QStringLiteral("%1").arg(residentBytes(mapped.data()))));
    QVERIFY(sum > 0);
#endif
}

QTEST_APPLESS_MAIN(TestMappedFileCursor)
#include "tst_mappedfilecursor.moc"
