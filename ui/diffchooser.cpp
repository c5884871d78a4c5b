#include "diffchooser.h"

#include "diffwindow.h"
#include "mappingdocument.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>

namespace graft::ui {

void chooseAndShowDiff(QWidget *parent, const MappingDocument *document, const QString &sourcePath, const QString &lastSavedPath)
{
    QMessageBox choice(parent);
    choice.setWindowTitle(QObject::tr("Diff"));
    choice.setText(QObject::tr("Compare parameters"));
    QPushButton *files = choice.addButton(QObject::tr("Two files…"), QMessageBox::ActionRole);
    QPushButton *result = nullptr;
    if (!lastSavedPath.isEmpty() && document->source() && document->target()) {
        choice.setInformativeText(QObject::tr("…or the source against the file last saved (%1), through the current mapping.")
                                      .arg(QFileInfo(lastSavedPath).fileName()));
        result = choice.addButton(QObject::tr("Source vs. saved result"), QMessageBox::ActionRole);
    }
    choice.addButton(QMessageBox::Cancel);
    choice.exec();
    auto *window = new DiffWindow;
    window->setAttribute(Qt::WA_DeleteOnClose);
    if (choice.clickedButton() == files) {
        const QString a = QFileDialog::getOpenFileName(parent, QObject::tr("Diff: file A"), QFileInfo(sourcePath).path());
        const QString b = a.isEmpty() ? QString() : QFileDialog::getOpenFileName(parent, QObject::tr("Diff: file B"), QFileInfo(a).path());
        if (b.isEmpty()) {
            delete window;
            return;
        }
        window->compareFiles(a, b);
    } else if (result != nullptr && choice.clickedButton() == result) {
        window->compareThroughMapping(*document->source(), *document->target(), document->result(), lastSavedPath);
    } else {
        delete window;
        return;
    }
    window->show();
}

} // namespace graft::ui
