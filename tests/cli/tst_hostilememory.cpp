// Hostile pickles under a memory limit: graft-cli inspect runs as a child process whose data
// segment (heap and anonymous maps: RLIMIT_DATA, set with prlimit) is capped per case, so a
// reader that allocates past its bound fails the case, by a clean error or by dying of
// std::bad_alloc (exit 134, the crash this suite was written for: a 40 MB data.pkl of `]0`
// needed 3.4 GB). Each case must end as a clean exit 0 or 2, inside its limit.

#include "clirun.h"
#include "hostilebuilders.h"

#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace graft::test::hostile;

class TestHostileMemory : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void boundedUnderALimit_data();
    void boundedUnderALimit();

private:
    QTemporaryDir m_dir;
    QString m_prlimit;
};

void TestHostileMemory::initTestCase()
{
    QVERIFY(m_dir.isValid());
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer maps terabytes of shadow memory up front: no data limit leaves it room.
    QSKIP("an ASan build cannot run under RLIMIT_DATA (its shadow memory counts against it)");
#endif
    m_prlimit = QStandardPaths::findExecutable(QStringLiteral("prlimit"));
    if (m_prlimit.isEmpty())
        QSKIP("prlimit (util-linux) is not installed: the limits cannot be set");
}

void TestHostileMemory::boundedUnderALimit_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message"); // in stderr after "graft-cli: error: <file>: " (exit 2)
    QTest::addColumn<int>("limitMegabytes");

    const QByteArray proto("\x80\x02", 2);
    // 4M lists made and dropped: 8 MB of input; 670 MB of values unless they are reclaimed.
    QTest::newRow("pop bomb: ] POP x 4M") << torchZip(proto + QByteArray("]0").repeated(4'000'000) + "}.") << 0 << QString() << 96;
    // Each list replaces the last in memo entry 0, so the old one is garbage.
    QTest::newRow("memo bomb: ] BINPUT 0 POP x 2M") << torchZip(proto + QByteArray("]q\x00" "0", 4).repeated(2'000'000) + "}.") << 0
                                                    << QString() << 96;
    // A memo entry per 6 bytes at indexes out of sequence: capped at 2^20 hash entries.
    QByteArray sparse = proto + 'N';
    for (quint32 i = 0; i < (1u << 20) + 10; ++i)
        sparse += 'r' + le(1000 + 2 * quint64(i), 4);
    QTest::newRow("memo bomb: 1M LONG_BINPUT out of sequence") << torchZip(sparse + '.') << 2 << QStringLiteral("out of sequence") << 192;
    // DUP then APPEND of a list onto itself, 4M times: refused at the nesting cap.
    QTest::newRow("DUP/APPEND chain x 4M") << torchZip(proto + ']' + QByteArray("2a").repeated(4'000'000) + '.') << 2
                                          << QStringLiteral("nested deeper than 1000 levels") << 96;
    // MARK DUP... APPENDS: 4M references to one list on the stack, appended to the list itself.
    QTest::newRow("MARK, DUP x 4M, APPENDS") << torchZip(proto + "](" + QByteArray(4'000'000, '2') + "e.") << 2
                                            << QStringLiteral("nested deeper than 1000 levels") << 160;
    // 4M lists kept in one list: all live (Python too would need ~450 MB), within the caps but
    // not within the limit. std::bad_alloc must become an error naming the file, not an abort.
    QTest::newRow("4M live lists, past the limit") << torchZip(proto + "](" + QByteArray("]").repeated(4'000'000) + "e}.") << 2
                                                  << QStringLiteral("not enough memory to open it") << 96;
    // The legacy format's object pickle goes through the same unpickler.
    QTest::newRow("legacy: pop bomb") << legacyTorch(proto + QByteArray("]0").repeated(4'000'000) + "}.") << 2
                                      << QStringLiteral("storage '0' is listed but never used") << 96;
}

void TestHostileMemory::boundedUnderALimit()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    QFETCH(int, limitMegabytes);
    const QString path = m_dir.filePath(QStringLiteral("bomb.pth"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(file.write(bytes), qint64(bytes.size()));
    file.close();

    const QString limit = QString::number(qint64(limitMegabytes) << 20);
    QProcess process;
    process.start(m_prlimit, {QStringLiteral("--data=%1:%1").arg(limit), QStringLiteral(GRAFT_CLI_PATH),
                              QStringLiteral("inspect"), path});
    QVERIFY(process.waitForFinished(120000));
    const QString err = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(process.exitStatus() == QProcess::NormalExit, qPrintable(QStringLiteral("graft-cli crashed: ") + err));
    QVERIFY2(process.exitCode() == exitCode, qPrintable(QStringLiteral("exit %1: %2").arg(process.exitCode()).arg(err)));
    if (exitCode == 2) {
        QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: ") + path + QStringLiteral(": ")), qPrintable(err));
        QVERIFY2(err.contains(message), qPrintable(err));
    }
}

QTEST_GUILESS_MAIN(TestHostileMemory)
#include "tst_hostilememory.moc"
