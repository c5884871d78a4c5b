// The workbench's models, commands and window, offscreen, on real files.

#include "checkpoint/checkpointopener.h"
#include "checkpointtreemodel.h"
#include "documentstate.h"
#include "manykeys.h"
#include "keyfilterproxymodel.h"
#include "keytreeview.h"
#include "mainwindow.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "mappingtablemodel.h"
#include "statusstyle.h"
#include "problemsmodel.h"

#include <QAbstractItemModelTester>
#include <QIdentityProxyModel>
#include <QFile>
#include <QImage>
#include <QMimeData>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QSortFilterProxyModel>
#include <QTest>
#include <QUndoStack>

using namespace graft;
using namespace graft::ui;

namespace {

QString example(const char *name) { return QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }

Checkpoint open(const QString &path)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!checkpoint)
        qFatal("%s", qPrintable(checkpoint.error().toString()));
    return std::move(checkpoint).value();
}

// A document with the example opened and automatically matched (as the window does).
void loadExample(MappingDocument &document)
{
    document.setSource(open(example("tiny_vgg.pth")));
    document.setTarget(open(example("tiny_vgg.skeleton.json")));
    document.undoStack()->push(new ReplaceMappingCommand(&document, QStringLiteral("match"),
                                                         matchCheckpoints(*document.source(), *document.target(), document.options()),
                                                         document.options()));
}

QString mappingText(const MappingDocument &document)
{
    QStringList rows;
    for (const Mapping &m : document.result().mappings)
        rows << m.target + QStringLiteral("<-") + m.sources.join(QLatin1Char(',')) + QLatin1Char(' ') + matchStatusName(m.status)
                    + QLatin1Char(' ') + m.expression();
    return rows.join(QLatin1Char('\n'));
}

// Every row a proxy shows, as "parent/…/name" paths, depth first.
QStringList visibleRows(const QAbstractItemModel &model, const QModelIndex &parent = {}, const QString &prefix = {})
{
    QStringList rows;
    for (int row = 0; row < model.rowCount(parent); ++row) {
        const QModelIndex index = model.index(row, 0, parent);
        const QString path = prefix + QLatin1Char('/') + index.data().toString();
        rows << path << visibleRows(model, index, path);
    }
    return rows;
}

} // namespace

class TestWorkbench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void modelsPassTheModelTester();
    void unmappedRowsKeepTheViewsBackground();
    void treeGroupsKeysByPathComponent();
    void undoRedoOfEveryCommand();
    void dropMapsWithTheSuggestedFix();
    void incompatibleDropIsRefused();
    void subtreeDropMatchesInsideTheSubtrees();
    void filteringKeepsAncestorsAndSortsNaturally();
    void onePassTreeFilterAgreesWithQtsRecursiveFilter();
    void keyFilterExpandsSmallResultsOnly();
    void sortByStatusFollowsAMatchAtEveryDepth();
    void brokenFileShowsAnErrorAndTheWindowStaysUsable();
    void noShortcutIsBoundTwice();
    void unmapFromTheKeyboardNamesTheTargetInHistory();
    void screenshotOfTheExample();
};

void TestWorkbench::modelsPassTheModelTester()
{
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    MappingTableModel table(&document);
    ProblemsModel problems(&document);
    KeyFilterProxyModel proxy;
    proxy.setSourceModel(&target);
    QAbstractItemModelTester t1(&source, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&target, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t3(&table, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t4(&problems, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t5(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    loadExample(document);
    proxy.setFilter(QStringLiteral("bias"), false);
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("unmap"), {document.keptMapping(QStringLiteral(".features[0].weight"))}));
    document.undoStack()->undo();
    QCOMPARE(table.rowCount(), 18);
    QCOMPARE(source.rowCount(), 2); // features, classifier
}

// An unmapped row has no background of its own: an invalid QColor in Qt::BackgroundRole was
// painted black, hiding the row's text (seen in a screenshot with a source that failed to open).
void TestWorkbench::unmappedRowsKeepTheViewsBackground()
{
    const QVariant unmapped = statusBackground(MatchStatus::Unmapped); // not a QVariant holding QColor()
    QVERIFY(!unmapped.isValid());
    for (MatchStatus status : {MatchStatus::Exact, MatchStatus::Fixable, MatchStatus::Incompatible, MatchStatus::Kept})
        QVERIFY(statusBackground(status).value<QColor>().isValid());

    // Through the model: every row of the example is mapped or kept, so each has a colour.
    MappingDocument document;
    MappingTableModel table(&document);
    loadExample(document);
    QVERIFY(table.rowCount() > 0);
    for (int row = 0; row < table.rowCount(); ++row)
        QCOMPARE(table.index(row, 0).data(Qt::BackgroundRole).typeId(), int(QMetaType::QColor));
}

void TestWorkbench::treeGroupsKeysByPathComponent()
{
    MappingDocument document;
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    loadExample(document);
    const QModelIndex leaf = target.indexOfKey(QStringLiteral(".features[0].bias"));
    QVERIFY(leaf.isValid());
    QCOMPARE(leaf.data().toString(), QStringLiteral("bias"));
    QCOMPARE(leaf.parent().data().toString(), QStringLiteral("0"));
    QCOMPARE(leaf.parent().parent().data().toString(), QStringLiteral("features"));
    QCOMPARE(target.index(leaf.row(), CheckpointTreeModel::ShapeColumn, leaf.parent()).data().toString(), QStringLiteral("[8, 1, 1]"));
    QCOMPARE(target.index(leaf.row(), CheckpointTreeModel::StatusColumn, leaf.parent()).data().toString(), QStringLiteral("fixable"));
    // features has 8 leaves (3 convs x 2 + 2 maxpool inits), all mapped or kept.
    const QModelIndex features = leaf.parent().parent();
    QCOMPARE(target.index(features.row(), CheckpointTreeModel::StatusColumn).data().toString(), QStringLiteral("8 / 8"));
}

void TestWorkbench::undoRedoOfEveryCommand()
{
    MappingDocument document;
    loadExample(document);
    const QString matched = mappingText(document);
    const QString matchedState = graft::test::documentState(document);

    // Unmap one leaf.
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("unmap"), {document.keptMapping(QStringLiteral(".features[0].bias"))}));
    const QString unmapped = mappingText(document);
    QVERIFY(unmapped != matched);
    QVERIFY(unmapped.contains(QStringLiteral(".features[0].bias<- kept")));
    document.undoStack()->undo();
    QCOMPARE(mappingText(document), matched);
    // Exactly as before, options too: undo must not pin the automatic match it restores.
    QCOMPARE(graft::test::documentState(document), matchedState);
    document.undoStack()->redo();
    QCOMPARE(mappingText(document), unmapped);

    // Change a transform chain (explicit reshape instead of the suggested one: same result shape).
    Mapping changed = document.proposeMapping(QStringLiteral(".features[0].bias"), {QStringLiteral("features.0.bias")},
                                              TransformChain{Transform::reshape({8, 1, 1})});
    QCOMPARE(changed.status, MatchStatus::Fixable);
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("change"), {changed}));
    QVERIFY(mappingText(document).contains(QStringLiteral(".features[0].bias<-features.0.bias fixable w[:, None, None]")));
    document.undoStack()->undo();
    QCOMPARE(mappingText(document), unmapped);

    // A rename rule / automatic match / profile replace the whole mapping.
    MatchOptions options = document.options();
    options.rules.push_back(*RenameRule::parse(QStringLiteral("^features\\.=>feat.")));
    const MappingResult renamed = matchCheckpoints(*document.source(), *document.target(), options);
    document.undoStack()->push(new ReplaceMappingCommand(&document, QStringLiteral("rule"), renamed, options));
    const QString afterRule = mappingText(document);
    QCOMPARE(document.options().rules.size(), options.rules.size());
    document.undoStack()->undo();
    QCOMPARE(mappingText(document), unmapped);
    QVERIFY(document.options().rules.empty());
    document.undoStack()->redo();
    QCOMPARE(mappingText(document), afterRule);
}

void TestWorkbench::dropMapsWithTheSuggestedFix()
{
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    loadExample(document);
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("unmap"), {document.keptMapping(QStringLiteral(".features[2].bias"))}));
    const int before = document.undoStack()->count();

    std::unique_ptr<QMimeData> data(source.mimeData({source.indexOfKey(QStringLiteral("features.2.bias"))}));
    QCOMPARE(CheckpointTreeModel::keysFromMime(data.get()), QStringList{QStringLiteral("features.2.bias")});
    const QModelIndex leaf = target.indexOfKey(QStringLiteral(".features[2].bias"));
    QString detail;
    QCOMPARE(target.dropFit(data.get(), leaf, &detail), MatchStatus::Fixable);
    QVERIFY2(detail.contains(QStringLiteral("w[:, None, None]")), qPrintable(detail));
    QVERIFY(target.canDropMimeData(data.get(), Qt::CopyAction, -1, -1, leaf));
    QVERIFY(target.dropMimeData(data.get(), Qt::CopyAction, -1, -1, leaf));
    QCOMPARE(document.undoStack()->count(), before + 1); // one command
    const Mapping &m = document.result().mappings[static_cast<size_t>(document.mappingIndex(QStringLiteral(".features[2].bias")))];
    QCOMPARE(m.sources, QStringList{QStringLiteral("features.2.bias")});
    QCOMPARE(m.expression(), QStringLiteral("w[:, None, None]"));
    document.undoStack()->undo();
    QCOMPARE(document.result().mappings[static_cast<size_t>(document.mappingIndex(QStringLiteral(".features[2].bias")))].status, MatchStatus::Kept);
}

void TestWorkbench::incompatibleDropIsRefused()
{
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    loadExample(document);
    const QString before = mappingText(document);
    std::unique_ptr<QMimeData> data(source.mimeData({source.indexOfKey(QStringLiteral("classifier.0.weight"))})); // [32, 64]
    const QModelIndex leaf = target.indexOfKey(QStringLiteral(".features[0].weight"));                            // [8, 3, 3, 3]
    QCOMPARE(target.dropFit(data.get(), leaf), MatchStatus::Incompatible);
    QVERIFY(!target.canDropMimeData(data.get(), Qt::CopyAction, -1, -1, leaf));
    QVERIFY(!target.dropMimeData(data.get(), Qt::CopyAction, -1, -1, leaf));
    QCOMPARE(mappingText(document), before);
    // The source side accepts no drops at all.
    QVERIFY(!(source.flags(source.indexOfKey(QStringLiteral("features.0.bias"))) & Qt::ItemIsDropEnabled));
}

void TestWorkbench::subtreeDropMatchesInsideTheSubtrees()
{
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    loadExample(document);
    std::vector<Mapping> unmapAll;
    for (const Mapping &m : document.result().mappings)
        unmapAll.push_back(document.keptMapping(m.target));
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("unmap all"), unmapAll));

    // Drag source `classifier` onto target `classifier`: its 6 arrays get mapped, nothing else.
    const QModelIndex sourceClassifier = source.index(1, 0);
    const QModelIndex targetClassifier = target.index(1, 0);
    QCOMPARE(sourceClassifier.data().toString(), QStringLiteral("classifier"));
    std::unique_ptr<QMimeData> data(source.mimeData({sourceClassifier}));
    QCOMPARE(CheckpointTreeModel::keysFromMime(data.get()).size(), 6);
    QVERIFY(target.dropMimeData(data.get(), Qt::CopyAction, -1, -1, targetClassifier));
    int mapped = 0;
    for (const Mapping &m : document.result().mappings) {
        if (m.status == MatchStatus::Exact || m.status == MatchStatus::Fixable) {
            QVERIFY(m.target.startsWith(QStringLiteral(".classifier")));
            ++mapped;
        }
    }
    QCOMPARE(mapped, 6);
}

void TestWorkbench::filteringKeepsAncestorsAndSortsNaturally()
{
    MappingDocument document;
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    KeyFilterProxyModel proxy;
    proxy.setSourceModel(&target);
    proxy.setKeyRole(CheckpointTreeModel::KeyRole);
    loadExample(document);
    proxy.setFilter(QStringLiteral("inference"), false);
    QCOMPARE(proxy.rowCount(), 1); // classifier only
    QCOMPARE(proxy.index(0, 0).data().toString(), QStringLiteral("classifier"));
    QCOMPARE(proxy.rowCount(proxy.index(0, 0)), 2); // [2] and [5]
    proxy.setFilter(QStringLiteral("features\\[[05]\\]\\.weight"), true);
    QCOMPARE(proxy.rowCount(proxy.index(0, 0)), 2);
    proxy.setFilter(QStringLiteral("(unclosed"), true);
    QVERIFY(!proxy.filterError().isEmpty());
    QCOMPARE(proxy.rowCount(), 0);
    // Natural order: "6" before "10".
    proxy.setFilter(QString(), false);
    QVERIFY(naturalCompareForTests(QStringLiteral("layers.9"), QStringLiteral("layers.10")) < 0);
    QVERIFY(naturalCompareForTests(QStringLiteral("layers.10.weight"), QStringLiteral("layers.9.weight")) > 0);
    QVERIFY(naturalCompareForTests(QStringLiteral("Block_002"), QStringLiteral("block_2")) == 0);
    proxy.sort(0);
    const QModelIndex classifier = proxy.index(0, 0).data().toString() == QLatin1String("classifier") ? proxy.index(0, 0) : proxy.index(1, 0);
    QStringList order;
    for (int row = 0; row < proxy.rowCount(classifier); ++row)
        order << proxy.index(row, 0, classifier).data().toString();
    QCOMPARE(order, (QStringList{QStringLiteral("0"), QStringLiteral("2"), QStringLiteral("3"), QStringLiteral("5"), QStringLiteral("6")}));
}

void TestWorkbench::onePassTreeFilterAgreesWithQtsRecursiveFilter()
{
    // The same tree filtered two ways: KeyFilterProxyModel's one pass over a FilterableKeyTree
    // (CheckpointTreeModel) and, through an identity proxy that hides that interface,
    // QSortFilterProxyModel's own recursive filtering row by row. Same rows for every filter.
    MappingDocument document;
    CheckpointTreeModel tree(&document, CheckpointTreeModel::Side::Source);
    QIdentityProxyModel plain;
    plain.setSourceModel(&tree);
    KeyFilterProxyModel fast;
    fast.setKeyRole(CheckpointTreeModel::KeyRole);
    fast.setSourceModel(&tree);
    KeyFilterProxyModel reference;
    reference.setKeyRole(CheckpointTreeModel::KeyRole);
    reference.setSourceModel(&plain);
    QAbstractItemModelTester tester(&fast, QAbstractItemModelTester::FailureReportingMode::QtTest);
    document.setSource(open(QStringLiteral(GRAFT_FIXTURE_DIR "/resnet18.pth")));
    QVERIFY(tree.filterRows().size() > 150);

    const QList<std::pair<QString, bool>> filters = {
        {QStringLiteral("layer1"), false},      {QStringLiteral("LAYER2.0.CONV"), false}, // case-insensitive
        {QStringLiteral("bn1"), false},         {QStringLiteral("downsample"), false},    // a group name: its whole subtree
        {QStringLiteral("0.weight"), false},    {QStringLiteral("weight"), false},        // across components; almost all
        {QStringLiteral("running_"), false},    {QStringLiteral("fc"), false},
        {QStringLiteral("."), false},           {QStringLiteral("s"), false},
        {QStringLiteral("nothing-like-it"), false},
        {QStringLiteral("bias\nlayer"), false}, // would only "match" across two rows of the search text
        {QStringLiteral("layer[34]\\.1\\.bn"), true}, {QStringLiteral("^fc"), true}, {QStringLiteral("(unclosed"), true},
    };
    for (const auto &[text, regex] : filters) {
        fast.setFilter(text, regex);
        reference.setFilter(text, regex);
        QCOMPARE(visibleRows(fast), visibleRows(reference));
    }
    // Matches that exist, so the comparison above compared something.
    fast.setFilter(QStringLiteral("downsample"), false);
    QCOMPARE(fast.acceptedLeafCount(), 3 * 6); // layer2-4: conv weight + bn weight/bias/mean/var/count
    QVERIFY(visibleRows(fast).contains(QStringLiteral("/layer2/0/downsample/1/running_mean")));
    fast.setFilter(QStringLiteral("bias\nlayer"), false);
    QCOMPARE(fast.acceptedLeafCount(), 0);
    QCOMPARE(fast.rowCount(), 0);
    // The tree changes under a filter: the filter applies to the new tree.
    fast.setFilter(QStringLiteral("classifier"), false);
    QCOMPARE(fast.rowCount(), 0);
    document.setSource(open(example("tiny_vgg.pth")));
    reference.setFilter(QStringLiteral("classifier"), false);
    const QStringList rows = visibleRows(fast);
    QCOMPARE(rows, visibleRows(reference));
    QVERIFY(rows.size() > 3);
    QCOMPARE(rows.filter(QRegularExpression(QStringLiteral("^/classifier(/|$)"))).size(), rows.size());
}

void TestWorkbench::keyFilterExpandsSmallResultsOnly()
{
    // A safetensors file with more leaves than KeyTreeView expands for a filter.
    const int blocks = static_cast<int>(KeyTreeView::kExpandMatchesLimit) + 500;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("many.safetensors"));
    QVERIFY(test::writeManyKeys(path, blocks, QStringLiteral("blocks"), 1));
    MappingDocument document;
    CheckpointTreeModel tree(&document, CheckpointTreeModel::Side::Source);
    KeyFilterProxyModel proxy;
    proxy.setKeyRole(CheckpointTreeModel::KeyRole);
    proxy.setSourceModel(&tree);
    KeyTreeView view;
    view.setModel(&proxy);
    document.setSource(open(path));
    view.collapseAll();
    // Every leaf matches: too many to expand, the tree stays as it was.
    QCOMPARE(view.setKeyFilter(QStringLiteral("blocks."), false), QString());
    QCOMPARE(proxy.acceptedLeafCount(), blocks);
    QVERIFY(!view.isExpanded(proxy.index(0, 0)));
    // blocks.7, 70–79, 700–799: 111 leaves, expanded down to each of them.
    QCOMPARE(view.setKeyFilter(QStringLiteral("blocks.7"), false), QString());
    QCOMPARE(proxy.acceptedLeafCount(), 111);
    const QModelIndex top = proxy.index(0, 0);
    QCOMPARE(proxy.rowCount(top), 111);
    QVERIFY(view.isExpanded(top));
    QVERIFY(view.isExpanded(proxy.index(110, 0, top)));
    // An invalid regex: the error comes back, nothing shows.
    QVERIFY(!view.setKeyFilter(QStringLiteral("(blocks"), true).isEmpty());
    QCOMPARE(proxy.rowCount(), 0);
    // Clearing the filter leaves the expansion as it was.
    view.collapseAll();
    QCOMPARE(view.setKeyFilter(QString(), false), QString());
    QCOMPARE(proxy.rowCount(proxy.index(0, 0)), blocks);
    QVERIFY(!view.isExpanded(proxy.index(0, 0)));
}

void TestWorkbench::sortByStatusFollowsAMatchAtEveryDepth()
{
    // The tree reports a new match as one change of its top-level rows; a proxy sorted by the
    // status column must still re-sort the rows below.
    MappingDocument document;
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    KeyFilterProxyModel proxy;
    proxy.setSourceModel(&target);
    proxy.setSortRole(CheckpointTreeModel::StatusRole);
    document.setSource(open(example("tiny_vgg.pth")));
    document.setTarget(open(example("tiny_vgg.skeleton.json")));
    proxy.sort(CheckpointTreeModel::StatusColumn);
    const auto statusesUnderFirstConv = [&] {
        const QModelIndex features = proxy.index(0, 0).data().toString() == QLatin1String("features") ? proxy.index(0, 0) : proxy.index(1, 0);
        QModelIndex conv;
        for (int row = 0; row < proxy.rowCount(features); ++row) {
            if (proxy.index(row, 0, features).data().toString() == QLatin1String("0"))
                conv = proxy.index(row, 0, features);
        }
        QStringList rows;
        for (int row = 0; row < proxy.rowCount(conv); ++row)
            rows << proxy.index(row, 0, conv).data().toString() + QLatin1Char('=') + proxy.index(row, CheckpointTreeModel::StatusColumn, conv).data().toString();
        return rows;
    };
    QCOMPARE(statusesUnderFirstConv(), (QStringList{QStringLiteral("weight=unmapped"), QStringLiteral("bias=unmapped")}));
    // Match: exact sorts before fixable.
    document.undoStack()->push(new ReplaceMappingCommand(&document, QStringLiteral("match"),
                                                         matchCheckpoints(*document.source(), *document.target(), document.options()),
                                                         document.options()));
    QCOMPARE(statusesUnderFirstConv(), (QStringList{QStringLiteral("weight=exact"), QStringLiteral("bias=fixable")}));
    // Keeping the weight (kept sorts after fixable) puts the bias first.
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("keep"), {document.keptMapping(QStringLiteral(".features[0].weight"))}));
    QCOMPARE(statusesUnderFirstConv(), (QStringList{QStringLiteral("bias=fixable"), QStringLiteral("weight=kept")}));
}

void TestWorkbench::brokenFileShowsAnErrorAndTheWindowStaysUsable()
{
    QTemporaryDir dir;
    const QString broken = dir.filePath(QStringLiteral("broken.pth"));
    QFile file(QStringLiteral(GRAFT_SOURCE_DIR "/resources/examples/tiny_vgg.pth"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QFile out(broken);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(file.read(5000)); // truncated: no central directory
    out.close();

    MainWindow window;
    QSignalSpy idle(&window, &MainWindow::idle);
    window.openSource(broken, true);
    QVERIFY(idle.wait(10000));
    QCOMPARE(window.document()->source(), nullptr);
    // The window still opens good files afterwards.
    window.openSource(example("tiny_vgg.pth"), true);
    QVERIFY(idle.wait(10000));
    QVERIFY(window.document()->source() != nullptr);
    window.openTarget(example("tiny_vgg.skeleton.json"), true);
    QVERIFY(idle.wait(10000));
    QVERIFY(window.document()->result().complete());
}

void TestWorkbench::noShortcutIsBoundTwice()
{
    // A key sequence on two actions (or twice on one, as QKeySequence::Redo plus Ctrl+Shift+Z
    // on platforms whose Redo is Ctrl+Shift+Z) is an "ambiguous shortcut": it does nothing.
    MainWindow window;
    QHash<QString, QStringList> owners;
    for (const QAction *action : window.findChildren<QAction *>()) {
        for (const QKeySequence &sequence : action->shortcuts()) {
            if (!sequence.isEmpty())
                owners[sequence.toString()] << action->text();
        }
    }
    QVERIFY(!owners.isEmpty());
    for (auto it = owners.constBegin(); it != owners.constEnd(); ++it)
        QVERIFY2(it.value().size() == 1, qPrintable(it.key() + QStringLiteral(" is bound to ") + it.value().join(QStringLiteral(", "))));
    // Redo answers Ctrl+Shift+Z whatever the platform's own Redo keys are.
    const QList<QAction *> actions = window.findChildren<QAction *>();
    const auto redo = std::find_if(actions.begin(), actions.end(), [](const QAction *a) { return a->text().contains(QStringLiteral("Redo")); });
    QVERIFY(redo != actions.end());
    QVERIFY((*redo)->shortcuts().contains(QKeySequence(QStringLiteral("Ctrl+Shift+Z"))));
}

void TestWorkbench::unmapFromTheKeyboardNamesTheTargetInHistory()
{
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QSignalSpy idle(&window, &MainWindow::idle);
    window.openSource(example("tiny_vgg.pth"), true);
    window.openTarget(example("tiny_vgg.skeleton.json"), true);
    while (window.isBusy() || idle.isEmpty())
        QVERIFY(idle.wait(10000));
    const QString target = QStringLiteral(".features[0].weight");
    KeyTreeView *view = nullptr;
    for (KeyTreeView *candidate : window.findChildren<KeyTreeView *>()) {
        auto *proxy = qobject_cast<QSortFilterProxyModel *>(candidate->model());
        auto *tree = proxy ? qobject_cast<CheckpointTreeModel *>(proxy->sourceModel()) : nullptr;
        if (tree && tree->indexOfKey(target).isValid()) {
            view = candidate;
            view->expandAll();
            view->setCurrentIndex(proxy->mapFromSource(tree->indexOfKey(target)));
        }
    }
    QVERIFY(view);
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Delete);
    QUndoStack *stack = window.document()->undoStack();
    QVERIFY(stack->count() > 0);
    QCOMPARE(stack->text(stack->index() - 1), QStringLiteral("Unmap ") + target);
    QCOMPARE(window.document()->result().mappings[static_cast<size_t>(window.document()->mappingIndex(target))].status, MatchStatus::Kept);
}

void TestWorkbench::screenshotOfTheExample()
{
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QSignalSpy idle(&window, &MainWindow::idle);
    window.openSource(example("tiny_vgg.pth"), true);
    window.openTarget(example("tiny_vgg.skeleton.json"), true);
    while (window.isBusy() || idle.isEmpty())
        QVERIFY(idle.wait(10000));
    const QImage image = window.grab().toImage();
    QCOMPARE(image.size(), QSize(1400, 900));
    QTemporaryDir dir;
    QVERIFY(image.save(dir.filePath(QStringLiteral("workbench.png"))));
    // Not a blank image: many distinct colours (status colours, text).
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
        for (int x = 0; x < image.width(); x += 7)
            colours.insert(image.pixel(x, y));
    QVERIFY(colours.size() > 20);
}

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
