// graft: the desktop workbench. `graft [SOURCE [TARGET]]`.

#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Graft"));
    QApplication::setOrganizationName(QStringLiteral("Graft"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Move pretrained weights from one model to another."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("source checkpoint"), QStringLiteral("[SOURCE"));
    parser.addPositionalArgument(QStringLiteral("TARGET"), QStringLiteral("target model or checkpoint"), QStringLiteral("[TARGET]]"));
    parser.process(app);

    graft::ui::MainWindow window;
    const QStringList files = parser.positionalArguments();
    if (files.size() > 0)
        window.openSource(files[0]);
    if (files.size() > 1)
        window.openTarget(files[1]);
    window.show();
    return app.exec();
}
