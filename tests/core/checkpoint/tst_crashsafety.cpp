// Crash-safe saving, tested on the real CLI: `graft-cli convert` killed with SIGKILL at random
// moments while it replaces an existing output never leaves a damaged destination (it holds the
// old bytes or the complete new output) and leaves nothing that looks like output; a write that
// runs out of space (RLIMIT_FSIZE, a tiny tmpfs) fails cleanly and leaves no partial file.

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <sys/mount.h>
#include <sys/resource.h>
#include <csignal>

namespace {

const QString kCli = QStringLiteral(GRAFT_CLI_PATH);
const QString kSource = QStringLiteral(GRAFT_FIXTURE_DIR "/resnet18.pth");
const QString kOld = QStringLiteral(GRAFT_FIXTURE_DIR "/tiny_vgg.safetensors");

QByteArray sha256(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return hash.result();
}

QStringList convertArguments(const QString &output)
{
    return {QStringLiteral("convert"), kSource, kSource, QStringLiteral("-o"), output};
}

} // namespace

class TestCrashSafety : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void killDuringReplaceKeepsOldOrNew();
    void fileSizeLimitGivesCleanError_data();
    void fileSizeLimitGivesCleanError();
    void fullFilesystemGivesCleanError();

private:
    QTemporaryDir m_dir;
    QByteArray m_reference; // sha256 of a complete output
    qint64 m_convertMs = 0;
};

void TestCrashSafety::initTestCase()
{
    QVERIFY(QFile::exists(kSource));
    const QString reference = m_dir.filePath(QStringLiteral("reference.safetensors"));
    QProcess cli;
    QElapsedTimer timer;
    timer.start();
    cli.start(kCli, convertArguments(reference));
    QVERIFY(cli.waitForFinished(120000));
    m_convertMs = timer.elapsed();
    QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
    m_reference = sha256(reference);
    QVERIFY(!m_reference.isEmpty());
    QVERIFY(m_reference != sha256(kOld));
    qInfo("one conversion takes %lld ms", m_convertMs);
}

void TestCrashSafety::killDuringReplaceKeepsOldOrNew()
{
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("out.safetensors"));
    const QByteArray old = sha256(kOld);
    // Anything else in the folder after a kill must be a QSaveFile temporary: "out.safetensors.XXXXXX".
    const QRegularExpression temporary(QStringLiteral("^out\\.safetensors\\.[A-Za-z0-9]{6}$"));
    QRandomGenerator random(20260428);
    const int trials = 60;
    int keptOld = 0, replaced = 0, finished = 0, leftovers = 0;
    for (int trial = 0; trial < trials; ++trial) {
        QFile::remove(output);
        QVERIFY(QFile::copy(kOld, output));
        QProcess cli;
        cli.start(kCli, convertArguments(output));
        QVERIFY(cli.waitForStarted());
        // Kill anywhere from start-up to a little past the usual end.
        const int delay = int(random.bounded(int(m_convertMs * 12 / 10) + 1));
        if (!cli.waitForFinished(delay)) {
            cli.kill(); // SIGKILL
            QVERIFY(cli.waitForFinished(10000));
        } else {
            ++finished;
        }
        const QByteArray now = sha256(output);
        if (now == old)
            ++keptOld;
        else if (now == m_reference)
            ++replaced;
        else
            QFAIL(qPrintable(QStringLiteral("trial %1 (kill after %2 ms): the destination is neither the old file nor "
                                            "the complete output").arg(trial).arg(delay)));
        for (const QString &name : QDir(dir.path()).entryList(QDir::Files | QDir::Hidden)) {
            if (name == QLatin1String("out.safetensors"))
                continue;
            QVERIFY2(temporary.match(name).hasMatch(), qPrintable(QStringLiteral("unexpected file left: ") + name));
            ++leftovers;
            QFile::remove(dir.filePath(name));
        }
    }
    qInfo("%d kill trials: %d kept the old file, %d had the new output (%d finished before the kill); "
          "%d temporaries left behind",
          trials, keptOld, replaced, finished, leftovers);
    QCOMPARE(keptOld + replaced, trials);
}

void TestCrashSafety::fileSizeLimitGivesCleanError_data()
{
    QTest::addColumn<bool>("replacing");
    QTest::newRow("new output") << false;
    QTest::newRow("replacing an existing output") << true;
}

void TestCrashSafety::fileSizeLimitGivesCleanError()
{
    QFETCH(bool, replacing);
    QTemporaryDir dir;
    const QString output = dir.filePath(QStringLiteral("limited.safetensors"));
    if (replacing)
        QVERIFY(QFile::copy(kOld, output));
    const QByteArray before = sha256(output);
    QProcess cli;
    cli.setChildProcessModifier([] {
        // 1 MiB per file; SIGXFSZ ignored so write() fails with EFBIG instead of killing the child.
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{1 << 20, 1 << 20};
        ::setrlimit(RLIMIT_FSIZE, &limit);
    });
    cli.start(kCli, convertArguments(output));
    QVERIFY(cli.waitForFinished(120000));
    const QString err = QString::fromUtf8(cli.readAllStandardError());
    QCOMPARE(cli.exitStatus(), QProcess::NormalExit);
    QCOMPARE(cli.exitCode(), 2);
    QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: ") + output), qPrintable(err));
    // The write that failed is named: a leaf's bytes (the first MiB holds the header and leaves).
    QVERIFY2(err.contains(QRegularExpression(QStringLiteral("cannot write leaf '[a-z0-9_.]+' at byte \\d+"))), qPrintable(err));
    if (replacing)
        QCOMPARE(sha256(output), before);
    else
        QVERIFY(!QFile::exists(output));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), replacing ? 1 : 0);
}

void TestCrashSafety::fullFilesystemGivesCleanError()
{
    QTemporaryDir dir;
    const QString mountPoint = dir.filePath(QStringLiteral("tiny"));
    QVERIFY(QDir().mkpath(mountPoint));
    if (::mount("tmpfs", mountPoint.toLocal8Bit().constData(), "tmpfs", 0, "size=1m") != 0)
        QSKIP(qPrintable(QStringLiteral("cannot mount a 1 MiB tmpfs here (%1): RLIMIT_FSIZE covers running out of space")
                             .arg(QString::fromLocal8Bit(strerror(errno)))));
    const QString output = mountPoint + QStringLiteral("/full.safetensors");
    QProcess cli;
    cli.start(kCli, convertArguments(output));
    const bool finished = cli.waitForFinished(120000);
    const QString err = QString::fromUtf8(cli.readAllStandardError());
    const bool exists = QFile::exists(output);
    const int left = int(QDir(mountPoint).entryList(QDir::Files | QDir::Hidden).size());
    ::umount(mountPoint.toLocal8Bit().constData());
    QVERIFY(finished);
    QCOMPARE(cli.exitCode(), 2);
    QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: ") + output), qPrintable(err));
    QVERIFY(!exists);
    QCOMPARE(left, 0);
}

QTEST_GUILESS_MAIN(TestCrashSafety)
#include "tst_crashsafety.moc"
