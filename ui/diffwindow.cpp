#include "diffwindow.h"

#include "diff/checkpointdiff.h"
#include "checkpoint/checkpointopener.h"
#include "mapping/conversionplan.h"
#include "mapping/mappingsetup.h"
#include "difftablemodel.h"
#include "tensor/heatmap.h"
#include "heatmapwidget.h"
#include "jobprogress.h"
#include "keyfilterproxymodel.h"
#include "memoryguard.h"
#include "tensor/tensorstats.h"

#include <QShortcut>
#include "tensor/tensorvalues.h"

#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QValueAxis>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <cmath>

namespace graft::ui {

/// Both files, the mapping of A onto B's keys and the plan that brings A into B's layout
/// (through a mapping only), and the diff.
struct DiffJob {
    Checkpoint a;
    Checkpoint b;
    std::optional<MappingResult> mapping;
    std::optional<ConversionPlan> plan;
    CheckpointDiff diff;

    Result<TensorBytes> bytesOfA(const QString &key) const
    {
        if (plan) {
            for (const OutputLeaf &leaf : plan->leaves) {
                if (leaf.key == key)
                    return leaf.produce();
            }
            return Error{a.path(), QStringLiteral("no mapped tensor for '%1'").arg(key)};
        }
        return a.read(a.indexOf(key));
    }
};

struct DiffWindow::Detail {
    QString key;
    TensorBytes a;
    TensorBytes b;
    DType aType = DType::Float32;
    DType bType = DType::Float32;
    Shape shape;
    TensorStatistics aStats;
    TensorStatistics bStats;
    PairStatistics pair;
    HeatMapGrid gridA;
    HeatMapGrid gridB;
    HeatMapGrid gridDiff;
};

namespace {

constexpr int kBins = 60;
constexpr int kGrid = 256;

void plotHistograms(QChartView *view, const QString &title, const std::vector<std::pair<QString, Histogram>> &histograms)
{
    QChart *chart = view->chart();
    chart->removeAllSeries();
    // removeAxis() gives the axis back to us (removeAllSeries() deletes the series itself);
    // without the delete every refresh leaked two axes (LeakSanitizer).
    for (QAbstractAxis *axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
    chart->setTitle(title);
    auto *x = new QValueAxis;
    auto *y = new QValueAxis;
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double lo = 0;
    double hi = 1;
    double top = 1;
    bool first = true;
    const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x6a, 0x3d, 0x9a)};
    int c = 0;
    for (const auto &[name, histogram] : histograms) {
        if (histogram.counts.empty())
            continue;
        auto *series = new QLineSeries;
        series->setName(name);
        series->setColor(colors[c++ % 3]);
        const double width = (histogram.hi - histogram.lo) / static_cast<double>(histogram.counts.size());
        for (size_t bin = 0; bin < histogram.counts.size(); ++bin) {
            series->append(histogram.lo + width * static_cast<double>(bin), static_cast<double>(histogram.counts[bin]));
            series->append(histogram.lo + width * static_cast<double>(bin + 1), static_cast<double>(histogram.counts[bin]));
            top = std::max(top, static_cast<double>(histogram.counts[bin]));
        }
        lo = first ? histogram.lo : std::min(lo, histogram.lo);
        hi = first ? histogram.hi : std::max(hi, histogram.hi);
        first = false;
        chart->addSeries(series);
        series->attachAxis(x);
        series->attachAxis(y);
    }
    x->setRange(lo, hi > lo ? hi : lo + 1);
    x->setLabelFormat(QStringLiteral("%.3g"));
    y->setRange(0, top * 1.05);
    y->applyNiceNumbers();
    y->setLabelFormat(QStringLiteral("%.0f"));
}

QChartView *makeChart(QWidget *parent)
{
    auto *view = new QChartView(parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->chart()->legend()->setAlignment(Qt::AlignTop);
    view->chart()->setMargins(QMargins(2, 2, 2, 2));
    view->setMinimumHeight(170);
    return view;
}

QString valueAt(const TensorBytes &bytes, DType dtype, qint64 index)
{
    double value = 0;
    decodeToDouble(bytes.data() + index * dtypeSize(dtype), dtype, 1, &value);
    return QString::number(value, 'g', 7);
}

} // namespace

DiffWindow::DiffWindow(QWidget *parent)
    : QMainWindow(parent), m_model(new DiffTableModel(this)), m_proxy(new KeyFilterProxyModel(this)), m_table(new QTableView(this)),
      m_filter(new QLineEdit(this)), m_summary(new QLabel(this)), m_keyChanges(new QPlainTextEdit(this)),
      m_progress(new QProgressBar(this)), m_valueHistogram(makeChart(this)), m_diffHistogram(makeChart(this)),
      m_heatA(new HeatMapWidget(this)), m_heatB(new HeatMapWidget(this)), m_heatDiff(new HeatMapWidget(this)),
      m_jobProgress(new JobProgress(this))
{
    setWindowTitle(tr("Graft — Diff"));
    connect(m_jobProgress, &JobProgress::progressed, this, [this](qint64 done, qint64 total) {
        if (total > 0)
            m_progress->setValue(static_cast<int>(1000.0 * static_cast<double>(done) / static_cast<double>(total)));
    });
    setAttribute(Qt::WA_DeleteOnClose, false);
    // Closed from the keyboard too (it has no menu bar of its own): Ctrl+W and Escape.
    QList<QKeySequence> closeKeys = QKeySequence::keyBindings(QKeySequence::Close);
    for (const QKeySequence &keys : {QKeySequence(Qt::CTRL | Qt::Key_W), QKeySequence(Qt::Key_Escape)}) {
        if (!closeKeys.contains(keys))
            closeKeys << keys;
    }
    for (const QKeySequence &keys : closeKeys) {
        auto *shortcut = new QShortcut(keys, this, this, &QWidget::close);
        shortcut->setContext(Qt::WindowShortcut);
    }
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(DiffTableModel::SortRole);
    m_proxy->setKeyRole(DiffTableModel::KeyRole);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder); // the diff's own order: largest difference first
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(DiffTableModel::KeyColumn, 190);
    m_table->setColumnWidth(DiffTableModel::ShapeColumn, 95);
    m_table->setColumnWidth(DiffTableModel::DTypeColumn, 80);
    m_table->setColumnWidth(DiffTableModel::EqualColumn, 60);
    for (int column = DiffTableModel::MaxAbsColumn; column < DiffTableModel::ColumnCount; ++column)
        m_table->setColumnWidth(column, 72);
    m_table->setWordWrap(false);
    m_filter->setPlaceholderText(tr("Filter keys (substring)"));
    m_filter->setClearButtonEnabled(true);
    m_keyChanges->setReadOnly(true);
    m_keyChanges->setMaximumHeight(110);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(4, 4, 4, 4);
    leftLayout->addWidget(m_summary);
    leftLayout->addWidget(m_filter);
    leftLayout->addWidget(m_table, 1);
    leftLayout->addWidget(new QLabel(tr("Keys, shapes and dtypes that differ:"), left));
    leftLayout->addWidget(m_keyChanges);

    auto *right = new QWidget(this);
    auto *grid = new QGridLayout(right);
    grid->setContentsMargins(4, 4, 4, 4);
    grid->addWidget(m_valueHistogram, 0, 0, 1, 3);
    grid->addWidget(m_diffHistogram, 1, 0, 1, 3);
    grid->addWidget(m_heatA, 2, 0);
    grid->addWidget(m_heatB, 2, 1);
    grid->addWidget(m_heatDiff, 2, 2);
    grid->setRowStretch(2, 1);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setSizes({620, 780});
    setCentralWidget(splitter);
    m_progress->setMaximumWidth(200);
    m_progress->hide();
    statusBar()->addPermanentWidget(m_progress);

    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) { m_proxy->setFilter(text, false); });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
        if (current.isValid())
            showDetail(current.data(DiffTableModel::KeyRole).toString());
    });
    resize(1400, 900);
}

DiffWindow::~DiffWindow()
{
    // Cancel, then wait: the diff stops at its next tensor (its progress callback says no).
    ++m_generation;
    m_jobProgress->cancel();
    for (QFutureWatcherBase *watcher : findChildren<QFutureWatcherBase *>()) {
        watcher->disconnect(this);
        watcher->waitForFinished();
    }
}

void DiffWindow::setBusy(bool busy, const QString &text)
{
    m_busy = busy;
    m_progress->setVisible(busy);
    if (busy)
        statusBar()->showMessage(text);
    else
        statusBar()->clearMessage();
}

void DiffWindow::compareFiles(const QString &pathA, const QString &pathB)
{
    start([pathA, pathB]() -> Result<DiffJob> {
        // Opened as `graft-cli diff` opens them (A, then B; the first failure is the error).
        Result<MappingSetup> files = loadMappingSetup(pathA, pathB, QString(), {});
        if (!files)
            return files.error();
        DiffJob job{std::move(files->source), std::move(files->target), std::nullopt, std::nullopt, {}};
        return job;
    });
}

void DiffWindow::compareThroughMapping(const Checkpoint &source, const Checkpoint &target, const MappingResult &mapping, const QString &resultPath)
{
    start([source, target, mapping, resultPath]() -> Result<DiffJob> {
        Result<Checkpoint> result = openCheckpoint(resultPath);
        if (!result)
            return result.error();
        MappingResult remapped = mapping;
        // A bare .eqx lists its records as [0], [1], ... in the target's leaf order: each
        // mapping's record is found through its target key (the mappings may come in any order).
        if (result->format() == CheckpointFormat::Eqx) {
            if (result->tensors().size() != target.tensors().size())
                return Error{resultPath, QStringLiteral("has %1 records, the target %2 leaves").arg(result->tensors().size()).arg(target.tensors().size())};
            for (Mapping &m : remapped.mappings) {
                const int index = target.indexOf(m.target);
                if (index >= 0)
                    m.target = result->tensors()[static_cast<size_t>(index)].key;
            }
        }
        DiffJob job{source, std::move(result).value(), std::nullopt, std::nullopt, {}};
        Result<ConversionPlan> plan = planConversion(job.a, job.b, remapped, true);
        if (!plan)
            return plan.error();
        job.plan = std::move(plan).value();
        job.mapping = std::move(remapped); // the diff aligns through the same keys as the plan
        return job;
    });
}

void DiffWindow::start(std::function<Result<DiffJob>()> open)
{
    setBusy(true, tr("Comparing…"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    const quint64 generation = ++m_generation;
    ProgressCallback progress = m_jobProgress->start(); // cancels the diff before; no widget touched from the worker
    auto *watcher = new QFutureWatcher<Result<DiffJob>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return;
        m_jobProgress->finish();
        Result<DiffJob> job = watcher->result();
        setBusy(false);
        if (!job) {
            m_summary->setText(QStringLiteral("<span style='color:#c62828'>%1</span>").arg(job.error().toString().toHtmlEscaped()));
            Q_EMIT idle();
            return;
        }
        m_job = std::make_shared<DiffJob>(std::move(job).value());
        m_model->setDiff(m_job->diff);
        showSummary();
        if (m_model->rowCount() > 0)
            m_table->selectRow(0);
        else
            Q_EMIT idle();
    });
    watcher->setFuture(QtConcurrent::run(guardMemory(tr("comparing the checkpoints"), [open = std::move(open), progress = std::move(progress)]() -> Result<DiffJob> {
        Result<DiffJob> job = open();
        if (!job)
            return job;
        DiffOptions options;
        options.tensorStatistics = true;
        options.mapping = job->mapping;
        options.progress = progress;
        Result<CheckpointDiff> diff = diffCheckpoints(job->a, job->b, options);
        if (!diff)
            return diff.error();
        job->diff = std::move(diff).value();
        return job;
    })));
}

void DiffWindow::showSummary()
{
    const CheckpointDiff &d = m_job->diff;
    m_summary->setText(tr("<b>A</b> %1<br><b>B</b> %2%3<br>%4 compared, <b>%5 differ</b> · only in A: %6 · only in B: %7 · shape changed: %8 · dtype changed: %9")
                           .arg(m_job->a.path().toHtmlEscaped(), m_job->b.path().toHtmlEscaped(),
                                d.throughMapping ? tr(" (A brought into B's layout through the mapping)") : QString())
                           .arg(d.compared.size()).arg(d.differingRows()).arg(d.onlyInA.size()).arg(d.onlyInB.size())
                           .arg(d.shapeChanged.size()).arg(d.dtypeChanged.size()));
    QStringList lines;
    for (const QString &key : d.onlyInA)
        lines << tr("only in A: %1").arg(key);
    for (const QString &key : d.onlyInB)
        lines << tr("only in B: %1").arg(key);
    for (const ShapeChange &c : d.shapeChanged)
        lines << tr("shape changed: %1 %2 → %3").arg(c.key, shapeToString(c.a), shapeToString(c.b));
    for (const DTypeChange &c : d.dtypeChanged)
        lines << tr("dtype changed: %1 %2 → %3").arg(c.key, dtypeName(c.a), dtypeName(c.b));
    m_keyChanges->setPlainText(lines.isEmpty() ? tr("(none)") : lines.join(QLatin1Char('\n')));
}

void DiffWindow::selectKey(const QString &key)
{
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        if (m_proxy->index(row, 0).data(DiffTableModel::KeyRole).toString() == key) {
            m_table->selectRow(row);
            return;
        }
    }
}

void DiffWindow::showDetail(const QString &key)
{
    if (!m_job)
        return;
    const std::shared_ptr<DiffJob> job = m_job;
    const int bIndex = job->b.indexOf(key);
    if (bIndex < 0)
        return;
    setBusy(true, tr("Computing histograms and heat maps of %1…").arg(key));
    m_progress->setRange(0, 0);
    const quint64 generation = m_generation;
    auto *watcher = new QFutureWatcher<Result<std::shared_ptr<Detail>>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return;
        setBusy(false);
        Result<std::shared_ptr<Detail>> detail = watcher->result();
        if (!detail) {
            statusBar()->showMessage(detail.error().toString(), 10000);
            Q_EMIT idle();
            return;
        }
        m_detail = *detail;
        const Detail &d = *m_detail;
        std::vector<std::pair<QString, Histogram>> values;
        if (d.aStats.histogram)
            values.emplace_back(tr("A"), *d.aStats.histogram);
        if (d.bStats.histogram)
            values.emplace_back(tr("B"), *d.bStats.histogram);
        plotHistograms(m_valueHistogram, tr("Values of %1").arg(d.key), values);
        std::vector<std::pair<QString, Histogram>> diffs;
        if (d.pair.diffHistogram)
            diffs.emplace_back(tr("A − B"), *d.pair.diffHistogram);
        plotHistograms(m_diffHistogram, tr("A − B (max |Δ| %1)").arg(d.pair.maxAbsDiff, 0, 'g', 4), diffs);
        const double scale = std::max({d.gridA.maxAbs, d.gridB.maxAbs, 1e-30});
        m_heatA->setGrid(d.gridA, tr("A"), scale);
        m_heatB->setGrid(d.gridB, tr("B"), scale);
        m_heatDiff->setGrid(d.gridDiff, tr("A − B"), std::max(d.gridDiff.maxAbs, 1e-30));
        const std::shared_ptr<Detail> held = m_detail;
        const auto hover = [held](qint64 row, qint64 column, qint64 rows, qint64 columns) {
            const qint64 width = heatMapLayout(held->shape).second;
            const qint64 index = row * width + column;
            if (rows * columns == 1)
                return QObject::tr("[%1, %2] (flat %3)\nA = %4\nB = %5")
                    .arg(row).arg(column).arg(index)
                    .arg(valueAt(held->a, held->aType, index), valueAt(held->b, held->bType, index));
            return QObject::tr("rows %1–%2, columns %3–%4").arg(row).arg(row + rows - 1).arg(column).arg(column + columns - 1);
        };
        m_heatA->setHoverText(hover);
        m_heatB->setHoverText(hover);
        m_heatDiff->setHoverText(hover);
        Q_EMIT idle();
    });
    watcher->setFuture(QtConcurrent::run(guardMemory(tr("reading '%1'").arg(key), [job, key, bIndex]() -> Result<std::shared_ptr<Detail>> {
        auto detail = std::make_shared<Detail>();
        detail->key = key;
        Result<TensorBytes> a = job->bytesOfA(key);
        if (!a)
            return a.error();
        Result<TensorBytes> b = job->b.read(bIndex);
        if (!b)
            return b.error();
        const TensorEntry &entry = job->b.tensors()[static_cast<size_t>(bIndex)];
        detail->a = *a;
        detail->b = *b;
        detail->bType = entry.dtype;
        detail->shape = entry.shape;
        const int aIndex = job->plan ? -1 : job->a.indexOf(key);
        detail->aType = aIndex >= 0 ? job->a.tensors()[static_cast<size_t>(aIndex)].dtype : entry.dtype;
        const qint64 numel = entry.numel();
        if (detail->a.size() != numel * dtypeSize(detail->aType))
            return Error{job->a.path(), QStringLiteral("'%1' has another size in A").arg(key)};
        // A common range for both value histograms.
        StatisticsOptions plain;
        Result<TensorStatistics> aRange = tensorStatistics({detail->a.data(), detail->aType, numel}, plain);
        Result<TensorStatistics> bRange = tensorStatistics({detail->b.data(), detail->bType, numel}, plain);
        if (!aRange || !bRange)
            return Error{QString(), QStringLiteral("cancelled")};
        // About sqrt(n) bins (at most kBins): few values must not make a comb of empty bins.
        const int bins = std::clamp(static_cast<int>(std::sqrt(static_cast<double>(numel))), 8, kBins);
        StatisticsOptions binned;
        binned.bins = bins;
        binned.lo = std::min(aRange->min, bRange->min);
        binned.hi = std::max(aRange->max, bRange->max);
        if (!(binned.lo < binned.hi)) {
            binned.lo -= 0.5;
            binned.hi += 0.5;
        }
        detail->aStats = *tensorStatistics({detail->a.data(), detail->aType, numel}, binned);
        detail->bStats = *tensorStatistics({detail->b.data(), detail->bType, numel}, binned);
        StatisticsOptions diffBins;
        diffBins.bins = bins;
        Result<Comparison> comparison = compareTensors({detail->a.data(), detail->aType, numel}, {detail->b.data(), detail->bType, numel},
                                                       Tolerance{}, false, diffBins);
        if (comparison)
            detail->pair = comparison->pair;
        detail->gridA = heatMapGrid(detail->a.data(), detail->aType, nullptr, detail->aType, entry.shape, kGrid, kGrid);
        detail->gridB = heatMapGrid(detail->b.data(), detail->bType, nullptr, detail->bType, entry.shape, kGrid, kGrid);
        detail->gridDiff = heatMapGrid(detail->a.data(), detail->aType, detail->b.data(), detail->bType, entry.shape, kGrid, kGrid);
        return detail;
    })));
}

} // namespace graft::ui
