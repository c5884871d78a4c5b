// The workbench's models, commands and window, offscreen, on real files.

#include "checkpointopener.h"
#include "checkpointtreemodel.h"
#include "keyfilterproxymodel.h"
#include "mainwindow.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "mappingtablemodel.h"
#include "problemsmodel.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QImage>
#include <QMimeData>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

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

} // namespace

class TestWorkbench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void modelsPassTheModelTester();
    void treeGroupsKeysByPathComponent();
    void undoRedoOfEveryCommand();
    void dropMapsWithTheSuggestedFix();
    void incompatibleDropIsRefused();
    void subtreeDropMatchesInsideTheSubtrees();
    void filteringKeepsAncestorsAndSortsNaturally();
    void brokenFileShowsAnErrorAndTheWindowStaysUsable();
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

    // Unmap one leaf.
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("unmap"), {document.keptMapping(QStringLiteral(".features[0].bias"))}));
    const QString unmapped = mappingText(document);
    QVERIFY(unmapped != matched);
    QVERIFY(unmapped.contains(QStringLiteral(".features[0].bias<- kept")));
    document.undoStack()->undo();
    QCOMPARE(mappingText(document), matched);
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
