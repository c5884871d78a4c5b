#pragma once
// The visual diff of two checkpoints (or of a source and the file Graft made from it, through
// the mapping): a sortable, filterable table of keys with their difference statistics,
// coloured by the size of the difference; for the selected key, overlaid histograms of A and B,
// the histogram of A − B, and heat maps of A, B and A − B. Statistics run off the GUI thread.

#include "checkpoint/checkpoint.h"
#include "mapping/mapping.h"

#include <QMainWindow>

#include <functional>
#include <memory>

class QChartView;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QTableView;

namespace graft::ui {

class DiffTableModel;
class HeatMapWidget;
class JobProgress;
class KeyFilterProxyModel;

class DiffWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit DiffWindow(QWidget *parent = nullptr);
    ~DiffWindow() override;

    /// Compares two files key by key.
    void compareFiles(const QString &pathA, const QString &pathB);
    /// Compares `source` (transformed by `mapping`, whose targets are `target`'s keys) with the
    /// file Graft wrote from them at `resultPath`.
    void compareThroughMapping(const Checkpoint &source, const Checkpoint &target, const MappingResult &mapping, const QString &resultPath);

    bool isBusy() const { return m_busy; }
    DiffTableModel *model() const { return m_model; }
    /// Selects the row of `key` (tests, screenshots).
    void selectKey(const QString &key);

Q_SIGNALS:
    /// The diff (or the detail of the selected key) finished.
    void idle();

private:
    struct Detail;
    void start(std::function<Result<struct DiffJob>()> open);
    void showDetail(const QString &key);
    void showSummary();
    void setBusy(bool busy, const QString &text = QString());

    DiffTableModel *m_model;
    KeyFilterProxyModel *m_proxy;
    QTableView *m_table;
    QLineEdit *m_filter;
    QLabel *m_summary;
    QPlainTextEdit *m_keyChanges;
    QProgressBar *m_progress;
    QChartView *m_valueHistogram;
    QChartView *m_diffHistogram;
    HeatMapWidget *m_heatA;
    HeatMapWidget *m_heatB;
    HeatMapWidget *m_heatDiff;
    JobProgress *m_jobProgress;
    std::shared_ptr<struct DiffJob> m_job;
    std::shared_ptr<Detail> m_detail;
    bool m_busy = false;
    quint64 m_generation = 0;
};

} // namespace graft::ui
