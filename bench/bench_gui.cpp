// W4: the workbench's tree models with a ~100k-key checkpoint, offscreen.
//
//   bench_gui SOURCE TARGET [--rules FILE] [--reps N] [--filter TEXT]
//
// Does what MainWindow does when the user opens both files, typing a filter, step by step,
// on a fresh MappingDocument each repetition (views shown offscreen, events processed):
//   load source     openCheckpoint + MappingDocument::setSource (CheckpointTreeModel rebuilds,
//                   the KeyTreeView behind its KeyFilterProxyModel resets, expandToDepth(0))
//   load target     the same for the target pane
//   match           matchCheckpoints with the rules (runs off the GUI thread in the app)
//   apply result    MappingDocument::replaceResult: both trees recount and repaint statuses
//   keystroke       one character more in the source pane's filter: KeyTreeView::setKeyFilter
//                   (what MainWindow's filter box calls: filter, expand small results) +
//                   repaint; every prefix of TEXT
// Prints one JSON line with the timings of each step.

#include "benchsupport.h"

#include "checkpoint/checkpointopener.h"
#include "checkpointtreemodel.h"
#include "keyfilterproxymodel.h"
#include "keytreeview.h"
#include "mappingdocument.h"

#include <QApplication>

using namespace graft;
using namespace graft::ui;

namespace {

Checkpoint open(const QString &path)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!checkpoint)
        bench::fail(checkpoint.error().toString());
    return std::move(checkpoint).value();
}

// Rows the proxy accepts, walking every accepted subtree (forces the filter everywhere).
int acceptedRows(const QAbstractItemModel &model, const QModelIndex &parent = {})
{
    int rows = model.rowCount(parent);
    int total = rows;
    for (int row = 0; row < rows; ++row)
        total += acceptedRows(model, model.index(row, 0, parent));
    return total;
}

struct Pane {
    Pane(MappingDocument *document, CheckpointTreeModel::Side side)
        : model(document, side), proxy()
    {
        proxy.setSourceModel(&model);
        proxy.setKeyRole(CheckpointTreeModel::KeyRole);
        view.setModel(&proxy);
        view.setTreeModel(&model);
        view.resize(900, 700);
        view.show();
    }
    CheckpointTreeModel model;
    KeyFilterProxyModel proxy;
    KeyTreeView view;
};

void settle() { QApplication::processEvents(); }

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    QString rulesPath;
    QString filterText = QStringLiteral("layers.1.self_attn");
    int reps = 5;
    QStringList files;
    for (int i = 0; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--rules") && i + 1 < args.size())
            rulesPath = args[++i];
        else if (args[i] == QLatin1String("--reps") && i + 1 < args.size())
            reps = std::max(1, args[++i].toInt());
        else if (args[i] == QLatin1String("--filter") && i + 1 < args.size())
            filterText = args[++i];
        else
            files << args[i];
    }
    if (files.size() != 2)
        bench::fail(QStringLiteral("usage: bench_gui SOURCE TARGET [--rules FILE] [--reps N] [--filter TEXT]"));
    MatchOptions options;
    options.rules = bench::readRules(rulesPath);

    std::vector<double> openSource, setSource, loadSource, openTarget, setTarget, loadTarget, match, apply;
    std::vector<double> keystroke, firstKeystroke, clearFilter;
    qint64 sourceKeys = 0;
    qint64 targetKeys = 0;
    qint64 treeRows = 0;
    for (int rep = 0; rep < reps; ++rep) {
        MappingDocument document;
        Pane source(&document, CheckpointTreeModel::Side::Source);
        Pane target(&document, CheckpointTreeModel::Side::Target);
        settle();

        Checkpoint sourceFile;
        openSource.push_back(bench::timeMs([&] { sourceFile = open(files[0]); }));
        setSource.push_back(bench::timeMs([&] {
            document.setSource(sourceFile);
            source.view.expandToDepth(0);
            settle();
        }));
        loadSource.push_back(openSource.back() + setSource.back());

        Checkpoint targetFile;
        openTarget.push_back(bench::timeMs([&] { targetFile = open(files[1]); }));
        setTarget.push_back(bench::timeMs([&] {
            document.setTarget(targetFile);
            target.view.expandToDepth(0);
            settle();
        }));
        loadTarget.push_back(openTarget.back() + setTarget.back());

        MappingResult result;
        match.push_back(bench::timeMs([&] { result = matchCheckpoints(sourceFile, targetFile, options); }));
        apply.push_back(bench::timeMs([&] {
            document.replaceResult(result, options);
            settle();
        }));
        sourceKeys = static_cast<qint64>(sourceFile.tensors().size());
        targetKeys = static_cast<qint64>(targetFile.tensors().size());

        // Typing the filter in the source pane, one character at a time (MainWindow's applyFilter).
        for (int length = 1; length <= filterText.size(); ++length) {
            const double ms = bench::timeMs([&] {
                source.view.setKeyFilter(filterText.left(length), false);
                settle();
            });
            (length == 1 ? firstKeystroke : keystroke).push_back(ms);
        }
        clearFilter.push_back(bench::timeMs([&] {
            source.view.setKeyFilter(QString(), false);
            settle();
        }));

        // Rows of the whole source tree (every group and leaf), for the report.
        KeyFilterProxyModel bare;
        bare.setSourceModel(&source.model);
        treeRows = acceptedRows(bare);
    }

    bench::printJson({{QStringLiteral("workload"), QStringLiteral("gui")},
                      {QStringLiteral("source_keys"), sourceKeys},
                      {QStringLiteral("target_keys"), targetKeys},
                      {QStringLiteral("source_tree_rows"), treeRows},
                      {QStringLiteral("filter"), filterText},
                      {QStringLiteral("open_source"), bench::timings(openSource)},
                      {QStringLiteral("set_source"), bench::timings(setSource)},
                      {QStringLiteral("load_source"), bench::timings(loadSource)},
                      {QStringLiteral("open_target"), bench::timings(openTarget)},
                      {QStringLiteral("set_target"), bench::timings(setTarget)},
                      {QStringLiteral("load_target"), bench::timings(loadTarget)},
                      {QStringLiteral("match"), bench::timings(match)},
                      {QStringLiteral("apply_result"), bench::timings(apply)},
                      {QStringLiteral("first_keystroke"), bench::timings(firstKeystroke)},
                      {QStringLiteral("keystroke"), bench::timings(keystroke)},
                      {QStringLiteral("clear_filter"), bench::timings(clearFilter)},
                      {QStringLiteral("peak_rss_kb"), bench::peakRssKb()}});
    return 0;
}
