// Opening hostile files in the main window: each shows an error naming the file (status bar and
// problems list), opens nothing, and leaves the window usable: a good file opens right after.

#include "hostilebuilders.h"
#include "hostileinput.h"
#include "mainwindow.h"
#include "mappingdocument.h"

#include <QDir>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

using namespace graft;
using namespace graft::ui;
using namespace graft::test;
using namespace graft::test::hostile;

namespace {
QString example(const char *name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }
} // namespace

class TestHostileGui : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hostileFileShowsAnErrorAndTheWindowStaysUsable_data();
    void hostileFileShowsAnErrorAndTheWindowStaysUsable();
};

void TestHostileGui::hostileFileShowsAnErrorAndTheWindowStaysUsable_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray touch = "touch " + QDir::temp().filePath(QStringLiteral("graft_gui_pwned")).toUtf8();
    QTest::newRow("empty") << "empty.pth" << QByteArray();
    QTest::newRow("wrong magic") << "magic.pth" << QByteArray("GRAFT? no, just text\n");
    QTest::newRow("pickle deep nesting") << "deep.pth" << torchZip(deepPickle());
    QTest::newRow("pickle unknown opcode") << "opcode.pth" << torchZip(QByteArray("\x80\x02\xff", 3));
    QTest::newRow("tensor past its storage") << "storage.pth" << torchZip(dictPickle({{"w", tensor(1 << 30, 0, {4}, {1})}}));
    QTest::newRow("legacy dim overflow") << "legacy.pth"
                                         << legacyTorch(dictPickle({{"w", tensor(16, 0, {qint64(1) << 40, qint64(1) << 40}, {qint64(1) << 40, 1})}}));
    QTest::newRow("zip bomb") << "bomb.npz" << deflatedZip("a.npy", npyHeader("|u1", "(4294967000,)") + QByteArray(1000, '\0'), 0xffffff00);
    QTest::newRow("safetensors length lie") << "lie.safetensors" << littleEndian<quint64>(quint64(1) << 62) + QByteArray("{}");
    QTest::newRow("deep JSON skeleton") << "deep.skeleton.json" << QByteArray(100'000, '[') + QByteArray(100'000, ']');
    QTest::newRow("a folder") << "folder.pth" << QByteArray("<dir>");
}

void TestHostileGui::hostileFileShowsAnErrorAndTheWindowStaysUsable()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, bytes);
    QTemporaryDir dir;
    QString path = dir.filePath(fileName);
    if (bytes == "<dir>")
        QVERIFY(QDir().mkpath(path));
    else
        path = writeFile(dir, fileName, bytes);

    MainWindow window;
    window.show();
    QSignalSpy idle(&window, &MainWindow::idle);
    window.openSource(path, true);
    QVERIFY(idle.wait(10000));
    QCOMPARE(window.document()->source(), nullptr);
    const QString shown = window.statusBar()->currentMessage();
    QVERIFY2(shown.contains(path), qPrintable(shown));
    // Still usable: the example opens and matches.
    window.openSource(example("tiny_vgg.pth"), true);
    QVERIFY(idle.wait(10000));
    QVERIFY(window.document()->source() != nullptr);
    window.openTarget(example("tiny_vgg.skeleton.json"), true);
    QVERIFY(idle.wait(10000));
    while (window.isBusy())
        QVERIFY(idle.wait(10000));
    QVERIFY(window.document()->result().complete());
}

QTEST_MAIN(TestHostileGui)
#include "tst_hostilegui.moc"
