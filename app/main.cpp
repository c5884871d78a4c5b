// graft: the desktop workbench.
//   graft [SOURCE [TARGET]] [--profile P] [--screenshot OUT.png]

#include "combinesavedialog.h"
#include "diffwindow.h"
#include "mainwindow.h"
#include "mappingdocument.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Graft"));
    QApplication::setOrganizationName(QStringLiteral("Graft"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Move pretrained weights from one model to another."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("source checkpoint"), QStringLiteral("[SOURCE"));
    parser.addPositionalArgument(QStringLiteral("TARGET"), QStringLiteral("target skeleton or checkpoint"), QStringLiteral("[TARGET]]"));
    const QCommandLineOption profileOption(QStringLiteral("profile"), QStringLiteral("apply a mapping profile"), QStringLiteral("P"));
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
                                              QStringLiteral("render the window at 1400x900 once loading and matching are done, "
                                                             "write it as PNG and exit"),
                                              QStringLiteral("OUT.png"));
    const QCommandLineOption dialogOption(QStringLiteral("screenshot-dialog"),
                                          QStringLiteral("with --screenshot: render this dialog instead of the window (combine)"),
                                          QStringLiteral("NAME"));
    const QCommandLineOption diffOption(QStringLiteral("diff"), QStringLiteral("compare the parameters of two files A B (the visual diff)"));
    parser.addOption(diffOption);
    parser.addOption(profileOption);
    parser.addOption(screenshotOption);
    parser.addOption(dialogOption);
    parser.process(app);

    if (parser.isSet(diffOption)) {
        const QStringList files = parser.positionalArguments();
        if (files.size() != 2) {
            std::fprintf(stderr, "graft: --diff needs two files A B\n");
            return 2;
        }
        graft::ui::DiffWindow diff;
        if (parser.isSet(screenshotOption)) {
            QObject::connect(&diff, &graft::ui::DiffWindow::idle, &diff, [&] {
                if (diff.isBusy())
                    return;
                QTimer::singleShot(200, &diff, [&] {
                    if (diff.isBusy())
                        return; // a detail started meanwhile; its idle() comes later
                    QApplication::exit(diff.grab().save(parser.value(screenshotOption), "PNG") ? 0 : 2);
                });
            });
        }
        diff.resize(1400, 900);
        diff.show();
        diff.compareFiles(files[0], files[1]);
        return app.exec();
    }

    graft::ui::MainWindow window;
    const QStringList files = parser.positionalArguments();
    const bool screenshot = parser.isSet(screenshotOption);
    if (screenshot) {
        window.resize(1400, 900);
        QObject::connect(&window, &graft::ui::MainWindow::idle, &window, [&] {
            // Let the views lay out and paint once more before grabbing.
            QTimer::singleShot(200, &window, [&] {
                QWidget *subject = &window;
                if (parser.value(dialogOption) == QLatin1String("combine")) {
                    auto *dialog = new graft::ui::CombineSaveDialog(window.document(), window.sourcePath(), window.targetPath(), &window);
                    dialog->show();
                    QApplication::processEvents();
                    subject = dialog;
                }
                const bool saved = subject->grab().save(parser.value(screenshotOption), "PNG");
                QApplication::exit(saved ? 0 : 2);
            });
        });
    }
    window.show();
    if (screenshot)
        window.resize(1400, 900);
    if (parser.isSet(profileOption))
        window.loadProfile(parser.value(profileOption), screenshot);
    if (files.size() > 0)
        window.openSource(files[0], screenshot);
    if (files.size() > 1)
        window.openTarget(files[1], screenshot);
    if (screenshot && files.isEmpty())
        QTimer::singleShot(0, &window, &graft::ui::MainWindow::idle);
    return app.exec();
}
