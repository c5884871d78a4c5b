#pragma once
// Combine & Save: choose format, path and whether unmapped leaves keep the target's values;
// the file is written off the GUI thread with progress and Cancel (atomically: a cancelled or
// failed save leaves nothing behind), then the Python lines that load it are shown.

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace graft::ui {

class JobProgress;
class MappingDocument;

class CombineSaveDialog : public QDialog {
    Q_OBJECT
public:
    CombineSaveDialog(MappingDocument *document, const QString &sourcePath, const QString &targetPath, QWidget *parent = nullptr);
    ~CombineSaveDialog() override;

    /// Sets the output path (tests, --screenshot).
    void setOutputPath(const QString &path);
    /// Starts saving as if Save were clicked; the result is reported in the dialog.
    void save();

Q_SIGNALS:
    void finished(bool ok, const QString &message);

private:
    void browse();
    void formatChanged();
    void showLoadingCode(const QString &path);

    MappingDocument *m_document;
    QString m_sourcePath;
    QString m_targetPath;
    QComboBox *m_format;
    QLineEdit *m_path;
    QCheckBox *m_keepUnmapped;
    QProgressBar *m_progress;
    QLabel *m_message;
    QPushButton *m_saveButton;
    QPushButton *m_cancelButton;
    JobProgress *m_jobProgress;
    bool m_running = false;
};

} // namespace graft::ui
