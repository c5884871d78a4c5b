// Several source keys dropped on one target leaf, in the real window offscreen: a GPT-2 layer
// group (`transformer.h`) onto an eqx.filter_vmap stacked leaf [L, 3D, D], and q, k, v of a ViT
// layer (selected v, q, k) onto a fused qkv [3D, D]. The selection is made with mouse clicks,
// the drag data comes from the view's model as QAbstractItemView::startDrag makes it, and the
// drag enter / move / drop events go to the target view's viewport as a real drag sends them.
// Checks the mapping (sources in order, chain, status), one undo command restoring the whole
// document, the inspector, and the converted values against numpy.

#include "checkpoint/checkpointopener.h"
#include "checkpoint/checkpointwriter.h"
#include "checkpointtreemodel.h"
#include "documentstate.h"
#include "inspectorwidget.h"
#include "keyfilterproxymodel.h"
#include "keypane.h"
#include "keytreeview.h"
#include "mainwindow.h"
#include "mapping/conversionplan.h"
#include "mappingcommands.h"
#include "mappingdocument.h"

#include <QApplication>
#include <QDropEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMimeData>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include <cstring>

using namespace graft;
using namespace graft::ui;
using graft::test::chainText;
using graft::test::documentState;

namespace {

constexpr int kLayers = 3;

// A float32 leaf whose values are `base`, base + 1, …: every element of every leaf differs.
OutputLeaf leaf(const QString &key, Shape shape, float base)
{
    OutputLeaf out{key, {DType::Float32, shape}, {}};
    out.produce = [shape, base]() -> Result<TensorBytes> {
        qint64 count = 1;
        for (qint64 d : shape)
            count *= d;
        std::vector<uchar> bytes(static_cast<size_t>(count) * sizeof(float));
        for (qint64 i = 0; i < count; ++i) {
            const float value = base + static_cast<float>(i);
            std::memcpy(bytes.data() + i * sizeof(float), &value, sizeof(float));
        }
        return TensorBytes::owned(std::move(bytes));
    };
    return out;
}

// HF GPT-2 blocks (D = 4; Conv1D weights are (in, out)) and HF ViT's q, k, v of layer 0, as .npz
// (numpy reads it for the expected values); the Equinox-style target as safetensors.
void writeFiles(const QString &source, const QString &target)
{
    std::vector<OutputLeaf> sources;
    float base = 0;
    for (int i = 0; i < kLayers; ++i) {
        const QString b = QStringLiteral("transformer.h.%1.").arg(i);
        sources.push_back(leaf(b + "ln_1.weight", {4}, base += 1000));
        sources.push_back(leaf(b + "attn.c_attn.weight", {4, 12}, base += 1000));
        sources.push_back(leaf(b + "attn.c_attn.bias", {12}, base += 1000));
        sources.push_back(leaf(b + "attn.c_proj.weight", {4, 4}, base += 1000));
    }
    for (const char *part : {"query", "key", "value"})
        sources.push_back(leaf(QStringLiteral("vit.encoder.layer.0.attention.attention.%1.weight").arg(QLatin1String(part)), {4, 4}, base += 1000));
    const std::vector<OutputLeaf> targets{leaf(".blocks.attn.qkv.weight", {kLayers, 12, 4}, 0), leaf(".blocks.attn.qkv.bias", {kLayers, 12}, 0),
                                          leaf(".vit.blocks[0].attn.qkv.weight", {12, 4}, 0), leaf(".other.weight", {2, 12, 4}, 0)};
    WriteOptions options;
    options.format = OutputFormat::Npz;
    QVERIFY(writeCheckpoint(source, sources, options));
    options.format = OutputFormat::Safetensors;
    QVERIFY(writeCheckpoint(target, targets, options));
}

CheckpointTreeModel *treeModel(KeyPane *pane) { return qobject_cast<CheckpointTreeModel *>(pane->proxy()->sourceModel()); }

// Clicks the rows in order (the first plainly, the others with Ctrl), as a user selects.
void clickRows(KeyPane *pane, const QList<QModelIndex> &modelIndexes)
{
    bool first = true;
    for (const QModelIndex &modelIndex : modelIndexes) {
        const QModelIndex index = pane->proxy()->mapFromSource(modelIndex);
        pane->view()->scrollTo(index);
        QTest::mouseClick(pane->view()->viewport(), Qt::LeftButton, first ? Qt::NoModifier : Qt::ControlModifier,
                          pane->view()->visualRect(index).center());
        first = false;
    }
}

// The drag data of the view's selection, as QAbstractItemView::startDrag makes it.
std::unique_ptr<QMimeData> dragData(KeyPane *pane)
{
    return std::unique_ptr<QMimeData>(pane->view()->model()->mimeData(pane->view()->selectionModel()->selectedIndexes()));
}

struct DragOutcome {
    bool accepted = false; ///< the move over the leaf was accepted (the fit colour shown)
    QString tooltip;       ///< what the view said about the fit
};

// Drags `data` over the target leaf `key` and drops it there, through the viewport's events.
DragOutcome dragOnto(KeyPane *pane, const QString &key, const QMimeData *data)
{
    const QModelIndex index = pane->proxy()->mapFromSource(treeModel(pane)->indexOfKey(key));
    pane->view()->scrollTo(index);
    const QPoint at = pane->view()->visualRect(index).center();
    const Qt::DropActions actions = Qt::CopyAction | Qt::LinkAction;
    QDragEnterEvent enter(at, actions, data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(pane->view()->viewport(), &enter);
    QDragMoveEvent move(at, actions, data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(pane->view()->viewport(), &move);
    DragOutcome outcome{move.isAccepted(), QToolTip::text()};
    QDropEvent drop(QPointF(at), actions, data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(pane->view()->viewport(), &drop);
    return outcome;
}

const Mapping &mappingOf(const MappingDocument &document, const QString &target)
{
    const int m = document.mappingIndex(target);
    if (m < 0)
        qFatal("no mapping for %s", qPrintable(target));
    return document.result().mappings[static_cast<size_t>(m)];
}

// The values the conversion writes for `target` (through planConversion and the tensor engine).
std::vector<float> convertedValues(const MappingDocument &document, const QString &target)
{
    Result<ConversionPlan> plan = planConversion(*document.source(), *document.target(), document.result(), true);
    if (!plan)
        qFatal("%s", qPrintable(plan.error().toString()));
    for (const OutputLeaf &out : plan->leaves) {
        if (out.key != target)
            continue;
        Result<TensorBytes> bytes = out.produce();
        if (!bytes)
            qFatal("%s", qPrintable(bytes.error().toString()));
        std::vector<float> values(static_cast<size_t>(bytes->size()) / sizeof(float));
        std::memcpy(values.data(), bytes->data(), values.size() * sizeof(float));
        return values;
    }
    qFatal("no output leaf %s", qPrintable(target));
}

// numpy's answer for both leaves, computed from the source file.
QJsonObject numpyExpectations(const QString &source)
{
    const QString script = QStringLiteral(
        "import json, sys, numpy as np\n"
        "z = np.load(sys.argv[1])\n"
        "stacked = np.stack([z['transformer.h.%1.attn.c_attn.weight' % i].T for i in range(%2)])\n"
        "fused = np.concatenate([z['vit.encoder.layer.0.attention.attention.%3.weight' % p] for p in ('query', 'key', 'value')], 0)\n"
        "print(json.dumps({'stacked': stacked.ravel().tolist(), 'stackedShape': list(stacked.shape),\n"
        "                  'fused': fused.ravel().tolist(), 'fusedShape': list(fused.shape)}))\n")
        .arg(QStringLiteral("%d"), QString::number(kLayers), QStringLiteral("%s"));
    QProcess python;
    python.start(QStringLiteral(GRAFT_PYTHON), {QStringLiteral("-c"), script, source});
    if (!python.waitForFinished(60000) || python.exitCode() != 0)
        qFatal("numpy failed: %s", python.readAllStandardError().constData());
    return QJsonDocument::fromJson(python.readAllStandardOutput()).object();
}

std::vector<float> floats(const QJsonArray &array)
{
    std::vector<float> out;
    for (const QJsonValue &value : array)
        out.push_back(static_cast<float>(value.toDouble()));
    return out;
}

} // namespace

class TestMultiSourceDrop : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void layerGroupStacksOntoAStackedLeaf();
    void qkvConcatenateOntoAFusedLeaf();
    void wrongLayerCountIsRefusedWhileDragging();
    void convertedValuesAreNumpys();

private:
    void openWindow();
    void unmapAll();

    QTemporaryDir m_dir;
    QString m_source;
    QString m_target;
    std::unique_ptr<MainWindow> m_window;
    KeyPane *m_sourcePane = nullptr;
    KeyPane *m_targetPane = nullptr;
    MappingDocument *m_document = nullptr;
};

void TestMultiSourceDrop::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_source = m_dir.filePath(QStringLiteral("gpt2_vit.npz"));
    m_target = m_dir.filePath(QStringLiteral("stacked.safetensors"));
    writeFiles(m_source, m_target);
    openWindow();
}

void TestMultiSourceDrop::openWindow()
{
    m_window = std::make_unique<MainWindow>();
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QSignalSpy idle(m_window.get(), &MainWindow::idle);
    m_window->openSource(m_source, true);
    m_window->openTarget(m_target, true);
    while (m_window->isBusy() || idle.isEmpty())
        QVERIFY(idle.wait(10000));
    m_document = m_window->document();
    for (KeyPane *pane : m_window->findChildren<KeyPane *>()) {
        if (treeModel(pane)->indexOfKey(QStringLiteral("transformer.h.0.ln_1.weight")).isValid())
            m_sourcePane = pane;
        else if (treeModel(pane)->indexOfKey(QStringLiteral(".other.weight")).isValid())
            m_targetPane = pane;
    }
    QVERIFY(m_sourcePane && m_targetPane);
    m_sourcePane->view()->expandAll();
    m_targetPane->view()->expandAll();
}

// Whatever the automatic match found, each test starts from every target unmapped (kept).
void TestMultiSourceDrop::unmapAll()
{
    std::vector<Mapping> kept;
    for (const Mapping &m : m_document->result().mappings)
        kept.push_back(m_document->keptMapping(m.target));
    m_document->undoStack()->push(new SetMappingsCommand(m_document, QStringLiteral("unmap all"), kept));
}

void TestMultiSourceDrop::layerGroupStacksOntoAStackedLeaf()
{
    unmapAll();
    const QString target = QStringLiteral(".blocks.attn.qkv.weight");
    // The group `transformer.h` (its children are the layers 0, 1, 2).
    const QModelIndex group = treeModel(m_sourcePane)->indexOfKey(QStringLiteral("transformer.h.0.ln_1.weight")).parent().parent().parent();
    QCOMPARE(group.data().toString(), QStringLiteral("h"));
    clickRows(m_sourcePane, {group});
    const std::unique_ptr<QMimeData> data = dragData(m_sourcePane);
    QCOMPARE(CheckpointTreeModel::keysFromMime(data.get()).size(), kLayers * 4);

    const QString before = documentState(*m_document);
    const int commands = m_document->undoStack()->count();
    const DragOutcome outcome = dragOnto(m_targetPane, target, data.get());
    QVERIFY(outcome.accepted);
    QVERIFY2(outcome.tooltip.contains(QStringLiteral("fits with a fix")) && outcome.tooltip.contains(QStringLiteral("np.stack")),
             qPrintable(outcome.tooltip));

    QCOMPARE(m_document->undoStack()->count(), commands + 1); // one command for the whole drop
    const Mapping &m = mappingOf(*m_document, target);
    QCOMPARE(m.sources, (QStringList{"transformer.h.0.attn.c_attn.weight", "transformer.h.1.attn.c_attn.weight",
                                     "transformer.h.2.attn.c_attn.weight"}));
    QCOMPARE(chainText(m.transforms), chainText({Transform::stack(0), Transform::transpose({0, 2, 1})}));
    QCOMPARE(m.status, MatchStatus::Fixable);
    QCOMPARE(m.origin, MatchOrigin::Stacked);
    QVERIFY2(m.reason.contains(QStringLiteral("stacked 3 layers of transformer.h.#.attn.c_attn.weight")), qPrintable(m.reason));
    QVERIFY2(m_document->undoStack()->text(commands).contains(QStringLiteral("stacked 3 layers")),
             qPrintable(m_document->undoStack()->text(commands)));

    // The inspector: each source with its shape and role, and the expression.
    auto *inspector = m_window->findChild<InspectorWidget *>();
    inspector->showTarget(target);
    const QString shapes = inspector->findChild<QLabel *>(QStringLiteral("inspectorShapes"))->text();
    for (int i = 0; i < kLayers; ++i)
        QVERIFY2(shapes.contains(QStringLiteral("<code>w%1</code> = transformer.h.%1.attn.c_attn.weight [4, 12]").arg(i)), qPrintable(shapes));
    QVERIFY2(shapes.contains(QStringLiteral("(role attn.qkv.weight)")), qPrintable(shapes));
    const QString expression = inspector->findChild<QLabel *>(QStringLiteral("inspectorExpression"))->text();
    QVERIFY2(expression.contains(m.expression().toHtmlEscaped()), qPrintable(expression));
    QVERIFY(m.expression().startsWith(QStringLiteral("np.stack([w0, w1, w2]")));

    // Undo restores the whole document; redo the drop's.
    const QString after = documentState(*m_document);
    m_document->undoStack()->undo();
    QCOMPARE(documentState(*m_document), before);
    m_document->undoStack()->redo();
    QCOMPARE(documentState(*m_document), after);
}

void TestMultiSourceDrop::qkvConcatenateOntoAFusedLeaf()
{
    unmapAll();
    const QString target = QStringLiteral(".vit.blocks[0].attn.qkv.weight");
    auto keyIndex = [&](const char *part) {
        return treeModel(m_sourcePane)->indexOfKey(QStringLiteral("vit.encoder.layer.0.attention.attention.%1.weight").arg(QLatin1String(part)));
    };
    clickRows(m_sourcePane, {keyIndex("value"), keyIndex("query"), keyIndex("key")}); // selected v, q, k
    const std::unique_ptr<QMimeData> data = dragData(m_sourcePane);
    QCOMPARE(CheckpointTreeModel::keysFromMime(data.get()).size(), 3);

    const QString before = documentState(*m_document);
    const int commands = m_document->undoStack()->count();
    QVERIFY(dragOnto(m_targetPane, target, data.get()).accepted);
    QCOMPARE(m_document->undoStack()->count(), commands + 1);
    const Mapping &m = mappingOf(*m_document, target);
    QCOMPARE(m.sources, (QStringList{"vit.encoder.layer.0.attention.attention.query.weight", "vit.encoder.layer.0.attention.attention.key.weight",
                                     "vit.encoder.layer.0.attention.attention.value.weight"}));
    QCOMPARE(chainText(m.transforms), chainText({Transform::concat(0)}));
    QCOMPARE(m.status, MatchStatus::Fixable);
    QCOMPARE(m.origin, MatchOrigin::Concat);
    QVERIFY2(m.reason.contains(QStringLiteral("concatenated q, k, v")), qPrintable(m.reason));
    QVERIFY(m_document->undoStack()->text(commands).endsWith(QStringLiteral("concatenated q, k, v")));
    // The chain is what analyseChain accepts for these sources and this target.
    std::vector<TensorSpec> specs(3, TensorSpec{DType::Float32, {4, 4}});
    QCOMPARE(analyseChain(specs, m.transforms, TensorSpec{DType::Float32, {12, 4}}).status, MatchStatus::Fixable);

    auto *inspector = m_window->findChild<InspectorWidget *>();
    inspector->showTarget(target);
    const QString shapes = inspector->findChild<QLabel *>(QStringLiteral("inspectorShapes"))->text();
    QVERIFY2(shapes.contains(QStringLiteral("<code>w1</code> = vit.encoder.layer.0.attention.attention.key.weight [4, 4]")), qPrintable(shapes));
    QVERIFY2(shapes.contains(QStringLiteral("(role attn.k.weight)")), qPrintable(shapes));

    const QString after = documentState(*m_document);
    m_document->undoStack()->undo();
    QCOMPARE(documentState(*m_document), before);
    m_document->undoStack()->redo();
    QCOMPARE(documentState(*m_document), after);
}

void TestMultiSourceDrop::wrongLayerCountIsRefusedWhileDragging()
{
    unmapAll();
    const QModelIndex group = treeModel(m_sourcePane)->indexOfKey(QStringLiteral("transformer.h.0.ln_1.weight")).parent().parent().parent();
    clickRows(m_sourcePane, {group});
    const std::unique_ptr<QMimeData> data = dragData(m_sourcePane);
    const QString before = documentState(*m_document);
    const int commands = m_document->undoStack()->count();
    QString detail;
    QCOMPARE(treeModel(m_targetPane)->dropFit(data.get(), treeModel(m_targetPane)->indexOfKey(QStringLiteral(".other.weight")), &detail),
             MatchStatus::Incompatible);
    QVERIFY2(detail.contains(QStringLiteral("3 layers dropped, the leaf's first axis is 2")), qPrintable(detail));
    const DragOutcome outcome = dragOnto(m_targetPane, QStringLiteral(".other.weight"), data.get());
    QVERIFY(!outcome.accepted);
    QVERIFY2(outcome.tooltip.contains(QStringLiteral("incompatible")), qPrintable(outcome.tooltip));
    QCOMPARE(m_document->undoStack()->count(), commands);
    QCOMPARE(documentState(*m_document), before);
}

void TestMultiSourceDrop::convertedValuesAreNumpys()
{
    // Both drops in place (the tests above leave their drop redone; set them again here).
    unmapAll();
    const QStringList stackedKeys{"transformer.h.0.attn.c_attn.weight", "transformer.h.1.attn.c_attn.weight", "transformer.h.2.attn.c_attn.weight"};
    const QStringList qkvKeys{"vit.encoder.layer.0.attention.attention.value.weight", "vit.encoder.layer.0.attention.attention.query.weight",
                              "vit.encoder.layer.0.attention.attention.key.weight"};
    m_document->undoStack()->push(new SetMappingsCommand(
        m_document, QStringLiteral("drops"),
        {m_document->proposeGathered(QStringLiteral(".blocks.attn.qkv.weight"), stackedKeys),
         m_document->proposeGathered(QStringLiteral(".vit.blocks[0].attn.qkv.weight"), qkvKeys)}));
    const QJsonObject expected = numpyExpectations(m_source);
    QCOMPARE(expected.value(QStringLiteral("stackedShape")).toArray(), (QJsonArray{kLayers, 12, 4}));
    const std::vector<float> stacked = convertedValues(*m_document, QStringLiteral(".blocks.attn.qkv.weight"));
    QCOMPARE(stacked, floats(expected.value(QStringLiteral("stacked")).toArray()));
    const std::vector<float> fused = convertedValues(*m_document, QStringLiteral(".vit.blocks[0].attn.qkv.weight"));
    QCOMPARE(fused, floats(expected.value(QStringLiteral("fused")).toArray()));
}

QTEST_MAIN(TestMultiSourceDrop)
#include "tst_multisourcedrop.moc"
