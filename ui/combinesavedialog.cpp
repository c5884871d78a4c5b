#include "combinesavedialog.h"

#include "jobprogress.h"

#include "checkpoint/checkpointwriter.h"
#include "mapping/conversionplan.h"
#include "mappingdocument.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <new>

namespace graft::ui {

CombineSaveDialog::CombineSaveDialog(MappingDocument *document, const QString &sourcePath, const QString &targetPath, QWidget *parent)
    : QDialog(parent), m_document(document), m_sourcePath(sourcePath), m_targetPath(targetPath), m_format(new QComboBox(this)),
      m_path(new QLineEdit(this)), m_keepUnmapped(new QCheckBox(tr("Unmapped leaves and unaccepted guesses keep the target's values"), this)),
      m_progress(new QProgressBar(this)), m_message(new QLabel(this)), m_saveButton(new QPushButton(tr("Save"), this)),
      m_cancelButton(new QPushButton(tr("Close"), this)), m_jobProgress(new JobProgress(this))
{
    setWindowTitle(tr("Combine & Save"));
    const bool skeleton = document->target() && (document->target()->format() == CheckpointFormat::GraftSkeleton
                                                 || document->target()->format() == CheckpointFormat::Eqx);
    if (skeleton)
        m_format->addItem(tr("Equinox (.eqx) — eqx.tree_deserialise_leaves"), QStringLiteral("eqx"));
    const bool flax = document->target() && document->target()->format() == CheckpointFormat::FlaxMsgpack;
    if (flax)
        m_format->addItem(tr("Flax msgpack (.msgpack) — flax.serialization.from_bytes"), QStringLiteral("msgpack"));
    m_format->addItem(tr("safetensors (.safetensors)"), QStringLiteral("safetensors"));
    m_format->addItem(tr("NumPy archive (.npz)"), QStringLiteral("npz"));
    m_format->addItem(tr("PyTorch state_dict (.pt)"), QStringLiteral("pt"));
    if (!flax)
        m_format->addItem(tr("Flax msgpack (.msgpack)"), QStringLiteral("msgpack"));
    auto *browseButton = new QPushButton(tr("Browse…"), this);
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path);
    pathRow->addWidget(browseButton);
    auto *form = new QFormLayout;
    form->addRow(tr("Format:"), m_format);
    form->addRow(tr("Save as:"), pathRow);
    form->addRow(QString(), m_keepUnmapped);
    const MappingSummary summary = document->result().summary();
    auto *counts = new QLabel(tr("%1 target leaves: %2 from the source (%3 exact, %4 fixed), %5 kept, %6 unmapped, %7 incompatible, %8 guessed.")
                                  .arg(summary.targets).arg(summary.exact + summary.fixable).arg(summary.exact).arg(summary.fixable)
                                  .arg(summary.kept).arg(summary.unmapped).arg(summary.incompatible).arg(summary.guessed),
                              this);
    counts->setWordWrap(true);
    m_progress->setRange(0, std::max(1, summary.targets));
    m_progress->setValue(0);
    m_message->setWordWrap(true);
    if (summary.guessed > 0)
        m_message->setText((summary.guessed == 1 ? tr("1 guess by order and shape is not accepted") : tr("%1 guesses by order and shape are not accepted").arg(summary.guessed))
                           + tr(": not written from the source. Accept them in the review queue (Mapping › Review Guesses, Ctrl+G); "
                                "unaccepted, they keep the target's values only with the box above ticked, otherwise the save stops."));
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_saveButton);
    buttons->addWidget(m_cancelButton);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(counts);
    layout->addWidget(m_progress);
    layout->addWidget(m_message);
    layout->addLayout(buttons);
    m_saveButton->setDefault(true);

    const QFileInfo target(targetPath);
    QString base = target.completeBaseName();
    if (base.endsWith(QLatin1String(".skeleton")))
        base.chop(9);
    m_path->setText(target.dir().filePath(base + QStringLiteral("_grafted")));
    formatChanged();
    connect(m_format, &QComboBox::currentIndexChanged, this, &CombineSaveDialog::formatChanged);
    connect(browseButton, &QPushButton::clicked, this, &CombineSaveDialog::browse);
    connect(m_saveButton, &QPushButton::clicked, this, &CombineSaveDialog::save);
    connect(m_jobProgress, &JobProgress::progressed, this, [this](qint64 done, qint64 total) {
        m_progress->setMaximum(static_cast<int>(total));
        m_progress->setValue(static_cast<int>(done));
    });
    connect(m_cancelButton, &QPushButton::clicked, this, [this] {
        if (m_running)
            m_jobProgress->cancel();
        else
            reject();
    });
    resize(640, sizeHint().height());
}

CombineSaveDialog::~CombineSaveDialog()
{
    // Cancel, then wait: the write stops at its next tensor and removes its temporary file.
    m_jobProgress->cancel();
    for (QFutureWatcherBase *watcher : findChildren<QFutureWatcherBase *>()) {
        watcher->disconnect(this);
        watcher->waitForFinished();
    }
}

void CombineSaveDialog::setOutputPath(const QString &path) { m_path->setText(path); }

void CombineSaveDialog::formatChanged()
{
    // Keep the path's stem, switch its suffix to the format's.
    const QString format = m_format->currentData().toString();
    const QString suffix = format == QLatin1String("pt") ? QStringLiteral(".pt") : QLatin1Char('.') + format;
    QFileInfo info(m_path->text());
    QString stem = info.fileName();
    for (const char *known : {".eqx", ".safetensors", ".npz", ".pt", ".msgpack"}) {
        if (stem.endsWith(QLatin1String(known)))
            stem.chop(static_cast<int>(qstrlen(known)));
    }
    m_path->setText(info.dir().filePath(stem + suffix));
}

void CombineSaveDialog::browse()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save As"), m_path->text());
    if (!path.isEmpty())
        m_path->setText(path);
}

namespace {

/// What the background job reports: the write's result (or the plan's error) and the plan's
/// warnings (leaves that kept the target's values).
struct SaveOutcome {
    Result<WriteSummary> written;
    QStringList warnings;
};

} // namespace

void CombineSaveDialog::save()
{
    if (m_running || !m_document->source() || !m_document->target())
        return;
    const QString out = m_path->text();
    const std::optional<OutputFormat> format = outputFormatFromName(m_format->currentData().toString());
    ProgressCallback reportProgress = m_jobProgress->start(); // no widget is touched from the worker
    m_running = true;
    m_saveButton->setEnabled(false);
    m_cancelButton->setText(tr("Cancel"));
    m_message->setText(tr("Writing %1…").arg(out));
    auto *watcher = new QFutureWatcher<SaveOutcome>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, out] {
        watcher->deleteLater();
        m_jobProgress->finish();
        m_running = false;
        m_saveButton->setEnabled(true);
        m_cancelButton->setText(tr("Close"));
        const SaveOutcome outcome = watcher->result();
        const Result<WriteSummary> &written = outcome.written;
        if (!written) {
            // Core's text names the CLI flags; here they are this dialog's checkbox and the review queue.
            QString text = written.error().toString();
            text.replace(QStringLiteral("accept guesses with --accept-guesses"), tr("accept guesses (Mapping ▸ Review Guesses)"));
            text.replace(QStringLiteral("with --keep-unmapped"), tr("with the checkbox \"%1\"").arg(m_keepUnmapped->text()));
            m_message->setText(QStringLiteral("<span style='color:#c62828'>%1</span>").arg(text.toHtmlEscaped()));
            Q_EMIT finished(false, text);
            return;
        }
        m_message->setText(tr("Wrote %1: %2 leaves, %3 bytes.%4")
                               .arg(out.toHtmlEscaped()).arg(written->leaves).arg(written->bytes)
                               .arg(outcome.warnings.isEmpty() ? QString() : tr(" %1 leaves kept the target's values.").arg(outcome.warnings.size())));
        showLoadingCode(out);
        Q_EMIT finished(true, out);
    });
    // Planning a 100k-leaf target takes a while too, so it runs in the job with the write. The job
    // gets its own copies: checkpoints share their index (cheap), the mapping is copied once.
    watcher->setFuture(QtConcurrent::run([out, format = *format, source = *m_document->source(), target = *m_document->target(),
                                          mapping = m_document->result(), keepUnmapped = m_keepUnmapped->isChecked(),
                                          sourcePath = m_sourcePath, targetPath = m_targetPath,
                                          reportProgress = std::move(reportProgress)]() -> SaveOutcome {
        // Guesses are written only once accepted (through the review queue, as pins): never here.
        try {
            Result<ConversionPlan> plan = planConversion(source, target, mapping, keepUnmapped, /*acceptGuesses=*/false);
            if (!plan)
                return {plan.error(), {}};
            WriteOptions options = combinedWriteOptions(format, source, sourcePath, target, targetPath);
            options.progress = reportProgress;
            return {writeCheckpoint(out, plan->leaves, options), plan->warnings};
        } catch (const std::bad_alloc &) { // never rethrown on the GUI thread by result()
            return {Error{out, QStringLiteral("not enough memory to write it")}, {}};
        }
    }));
}

void CombineSaveDialog::showLoadingCode(const QString &path)
{
    const QString format = m_format->currentData().toString();
    const QString name = QFileInfo(path).fileName();
    QString code;
    if (format == QLatin1String("eqx"))
        code = eqxLoadingSnippet(path);
    else if (format == QLatin1String("safetensors"))
        code = QStringLiteral("from safetensors.numpy import load_file\nweights = load_file(\"%1\")\n").arg(name);
    else if (format == QLatin1String("msgpack"))
        code = flaxLoadingSnippet(path);
    else if (format == QLatin1String("npz"))
        code = QStringLiteral("import numpy as np\nweights = dict(np.load(\"%1\"))\n").arg(name);
    else
        code = QStringLiteral("import torch\nstate_dict = torch.load(\"%1\")\nmodel.load_state_dict(state_dict)\n").arg(name);
    auto *dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Load the result"));
    auto *layout = new QVBoxLayout(dialog);
    layout->addWidget(new QLabel(tr("Python that loads %1:").arg(name), dialog));
    auto *text = new QPlainTextEdit(code, dialog);
    text->setReadOnly(true);
    text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(text);
    auto *close = new QPushButton(tr("Close"), dialog);
    connect(close, &QPushButton::clicked, dialog, &QDialog::accept);
    layout->addWidget(close);
    dialog->resize(620, 220);
    dialog->show();
}

} // namespace graft::ui
