// Guessed matches in the workbench: their colour and problems entries, the keyboard review
// queue (accept, reject, accept all, undo/redo restoring the whole document), Combine & Save
// with unaccepted guesses, unused buffers, tied sources and constant leaves. Offscreen, on the
// real fixtures (vgg11.pth onto vgg11_renamed.skeleton.json: six leaves only order and shape
// can match).

#include "checkpoint/checkpointopener.h"
#include "checkpointtreemodel.h"
#include "combinesavedialog.h"
#include "inspectorwidget.h"
#include "mainwindow.h"
#include "documentstate.h"
#include "mappingcheck.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "mappingtablemodel.h"
#include "mappingtableview.h"
#include "problemsmodel.h"
#include "reviewqueue.h"
#include "statusstyle.h"
#include "tensor/tensorvalues.h"
#include "unusedsourcesmodel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace graft;
using namespace graft::ui;
using graft::test::chainText;
using graft::test::documentState;
using graft::test::mappingFixture;

namespace {

Checkpoint open(const QString &path)
{
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    if (!checkpoint)
        qFatal("%s", qPrintable(checkpoint.error().toString()));
    return std::move(checkpoint).value();
}

// Opens a pair into the document and pushes the automatic match, as the window does.
void load(MappingDocument &document, const QString &source, const QString &target)
{
    document.setSource(open(source));
    document.setTarget(open(target));
    document.undoStack()->push(new ReplaceMappingCommand(&document, QStringLiteral("match"),
                                                         matchCheckpoints(*document.source(), *document.target(), document.options()),
                                                         document.options()));
}

QString vggSource() { return mappingFixture(QStringLiteral("vgg11.pth")); }
QString vggTarget() { return mappingFixture(QStringLiteral("vgg11_renamed.skeleton.json")); }

const Mapping &mappingOf(const MappingDocument &document, const QString &target)
{
    const int m = document.mappingIndex(target);
    if (m < 0)
        qFatal("no mapping for %s", qPrintable(target));
    return document.result().mappings[static_cast<size_t>(m)];
}

QStringList guessedTargets(const MappingDocument &document)
{
    QStringList targets;
    for (const Mapping &m : document.result().mappings) {
        if (m.status == MatchStatus::Guessed)
            targets << m.target;
    }
    return targets;
}

// The window with vgg11 -> vgg11_renamed opened and matched, shown and active (shortcuts need it).
void openVgg(MainWindow &window)
{
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QSignalSpy idle(&window, &MainWindow::idle);
    window.openSource(vggSource(), true);
    window.openTarget(vggTarget(), true);
    while (window.isBusy() || idle.isEmpty())
        QVERIFY(idle.wait(10000));
}

// Values of leaf `index` of the file at `path`.
std::vector<double> valuesIn(const QString &path, int index)
{
    const Checkpoint checkpoint = open(path);
    Result<std::vector<double>> values = tensorValues(checkpoint, index, -1);
    if (!values)
        qFatal("%s", qPrintable(values.error().toString()));
    return std::move(values).value();
}

} // namespace

class TestReviewQueue : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void guessesHaveAColourOfTheirOwn();
    void guessesShowInEveryViewAndCountAsNotMapped();
    void reviewByKeyboardAcceptsRejectsAndUndoesExactly();
    void nextGuessWrapsAroundInTargetOrder();
    void acceptAllIsOneUndoStep();
    void combineAndSaveWritesOnlyAcceptedGuesses();
    void unusedBuffersAreListedApartFromProblems();
    void tiedSourcesShowAsOneTensor();
    void constantLeafShowsItsValue();
};

void TestReviewQueue::guessesHaveAColourOfTheirOwn()
{
    const QColor guessed = statusColor(MatchStatus::Guessed);
    const QColor background = statusBackground(MatchStatus::Guessed).value<QColor>();
    QVERIFY(guessed.isValid());
    QVERIFY(background.isValid());
    for (MatchStatus other : {MatchStatus::Exact, MatchStatus::Fixable, MatchStatus::Incompatible, MatchStatus::Unmapped, MatchStatus::Kept}) {
        QVERIFY(statusColor(other) != guessed);
        QVERIFY(statusBackground(other).value<QColor>() != background);
    }
    QCOMPARE(statusLabel(MatchStatus::Guessed), QStringLiteral("guessed"));
}

void TestReviewQueue::guessesShowInEveryViewAndCountAsNotMapped()
{
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    CheckpointTreeModel target(&document, CheckpointTreeModel::Side::Target);
    MappingTableModel table(&document);
    ProblemsModel problems(&document);
    QAbstractItemModelTester t1(&target, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&problems, QAbstractItemModelTester::FailureReportingMode::QtTest);
    load(document, vggSource(), vggTarget());
    const QStringList guesses = guessedTargets(document);
    QVERIFY2(guesses.size() >= 2, "the fixture pair should have leaves only order and shape match");
    QCOMPARE(document.result().summary().guessed, guesses.size());

    const QString first = guesses.front();
    const Mapping &guess = mappingOf(document, first);
    // Target tree: the leaf says "guessed" in the violet; its parent does not count it as mapped.
    const QModelIndex leaf = target.indexOfKey(first);
    QCOMPARE(target.index(leaf.row(), CheckpointTreeModel::StatusColumn, leaf.parent()).data().toString(), QStringLiteral("guessed"));
    QCOMPARE(target.index(leaf.row(), CheckpointTreeModel::StatusColumn, leaf.parent()).data(Qt::ForegroundRole).value<QColor>(),
             statusColor(MatchStatus::Guessed));
    QCOMPARE(leaf.data(Qt::BackgroundRole).value<QColor>(), statusBackground(MatchStatus::Guessed).value<QColor>());
    const QModelIndex group = leaf.parent();
    int mapped = 0;
    int guessedHere = 0;
    for (const QString &key : target.keysUnder(group)) {
        const MatchStatus status = mappingOf(document, key).status;
        mapped += status == MatchStatus::Exact || status == MatchStatus::Fixable || status == MatchStatus::Kept ? 1 : 0;
        guessedHere += status == MatchStatus::Guessed ? 1 : 0;
    }
    QVERIFY(guessedHere > 0);
    QCOMPARE(target.index(group.row(), CheckpointTreeModel::StatusColumn, group.parent()).data().toString(),
             QStringLiteral("%1 / %2 · %3 guessed").arg(mapped).arg(target.keysUnder(group).size()).arg(guessedHere));
    // Source tree: the guessed source points at its target, marked as a guess.
    const QModelIndex sourceLeaf = source.indexOfKey(guess.sources.front());
    QCOMPARE(source.index(sourceLeaf.row(), CheckpointTreeModel::StatusColumn, sourceLeaf.parent()).data().toString(),
             QStringLiteral("→ %1 (guessed)").arg(first));

    // Mapping table: "guessed" in the status column, violet row.
    const int row = document.mappingIndex(first);
    QCOMPARE(table.index(row, MappingTableModel::StatusColumn).data().toString(), QStringLiteral("guessed"));
    QCOMPARE(table.index(row, MappingTableModel::TargetColumn).data(Qt::BackgroundRole).value<QColor>(),
             statusBackground(MatchStatus::Guessed).value<QColor>());

    // Problems: one entry per guess, jumping to its target.
    QStringList guessProblems;
    for (int r = 0; r < problems.rowCount(); ++r) {
        const QModelIndex index = problems.index(r);
        if (index.data().toString().startsWith(QLatin1String("guessed by order and shape: check and accept, or map it")))
            guessProblems << index.data(ProblemsModel::TargetKeyRole).toString();
    }
    QCOMPARE(guessProblems, guesses);
}

void TestReviewQueue::reviewByKeyboardAcceptsRejectsAndUndoesExactly()
{
    MainWindow window;
    openVgg(window);
    MappingDocument *document = window.document();
    auto *inspector = window.findChild<InspectorWidget *>();
    auto *table = window.findChild<MappingTableView *>();
    QVERIFY(inspector && table);
    auto *unused = window.findChild<UnusedSourcesModel *>();
    QVERIFY(unused);
    QAbstractItemModelTester tester(unused, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QStringList guesses = guessedTargets(*document);
    QVERIFY(guesses.size() >= 3);

    // Start on the first target (not a guess); the queue goes to the first guess after it.
    const QString firstTarget = document->result().mappings.front().target;
    QVERIFY(!guesses.contains(firstTarget));
    QVERIFY(table->selectTarget(firstTarget));
    QCOMPARE(inspector->currentTarget(), firstTarget);
    table->setFocus();
    const QString start = documentState(*document);
    const int startSteps = document->undoStack()->count();

    // The inspector's Accept button shows only while a guess is inspected.
    QToolButton *acceptButton = nullptr;
    for (QToolButton *button : inspector->findChildren<QToolButton *>()) {
        if (button->defaultAction() == window.reviewQueue()->acceptAction())
            acceptButton = button;
    }
    QVERIFY(acceptButton);
    QVERIFY(!acceptButton->isVisible());
    QTest::keyClick(table, Qt::Key_G, Qt::ControlModifier);
    QCOMPARE(inspector->currentTarget(), guesses[0]);
    QVERIFY(acceptButton->isVisible());
    QCOMPARE(table->currentIndex().data(MappingTableModel::TargetKeyRole).toString(), guesses[0]);

    // Accept: an explicit pin with the guessed sources and chain.
    const Mapping guess0 = mappingOf(*document, guesses[0]);
    QTest::keyClick(table, Qt::Key_Return, Qt::ControlModifier);
    const Mapping &accepted = mappingOf(*document, guesses[0]);
    QCOMPARE(accepted.sources, guess0.sources);
    QCOMPARE(chainText(accepted.transforms), chainText(guess0.transforms));
    QCOMPARE(accepted.status, guess0.transforms.empty() ? MatchStatus::Exact : MatchStatus::Fixable);
    QCOMPARE(accepted.origin, MatchOrigin::Explicit);
    QVERIFY2(accepted.reason.startsWith(QLatin1String("guess accepted")), qPrintable(accepted.reason));
    const auto &pins = document->options().explicitMappings;
    QVERIFY(std::any_of(pins.begin(), pins.end(), [&](const ExplicitMapping &e) { return e.target == guesses[0] && e.sources == guess0.sources; }));
    QCOMPARE(inspector->currentTarget(), guesses[1]); // moved on

    // Reject: unmapped, and the queue moves on again.
    const Mapping guess1 = mappingOf(*document, guesses[1]);
    QVERIFY(document->result().unusedSources.isEmpty());
    QTest::keyClick(table, Qt::Key_Backspace, Qt::ControlModifier);
    const Mapping &rejected = mappingOf(*document, guesses[1]);
    QCOMPARE(rejected.status, MatchStatus::Unmapped);
    QVERIFY(rejected.sources.isEmpty());
    QVERIFY2(rejected.reason.startsWith(QLatin1String("guess rejected")), qPrintable(rejected.reason));
    QCOMPARE(inspector->currentTarget(), guesses[2]);
    QCOMPARE(guessedTargets(*document), guesses.mid(2));
    // The rejected guess's source is unused now (listed as such, not as a buffer).
    QCOMPARE(document->result().unusedSources, guess1.sources);
    QCOMPARE(unused->rowCount(), 1);
    QCOMPARE(unused->index(0, UnusedSourcesModel::KeyColumn).data().toString(), guess1.sources.front());

    // History names the targets.
    QCOMPARE(document->undoStack()->count(), startSteps + 2);
    QCOMPARE(document->undoStack()->text(startSteps), QStringLiteral("Accept guess %1").arg(guesses[0]));
    QCOMPARE(document->undoStack()->text(startSteps + 1), QStringLiteral("Reject guess %1").arg(guesses[1]));
    const QString decided = documentState(*document);
    QVERIFY(decided != start);

    // Undo both with the keyboard: the whole document is as it was, options and all.
    QTest::keyClick(table, Qt::Key_Z, Qt::ControlModifier);
    QTest::keyClick(table, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(documentState(*document), start);
    QCOMPARE(guessedTargets(*document), guesses);
    // Redo both: exactly the decided state again.
    QTest::keyClick(table, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QTest::keyClick(table, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(documentState(*document), decided);
}

void TestReviewQueue::nextGuessWrapsAroundInTargetOrder()
{
    MappingDocument document;
    ReviewQueue queue(&document);
    QCOMPARE(queue.nextGuess(QString()), QString()); // nothing open: no guess
    QVERIFY(!queue.acceptAction()->isEnabled());
    load(document, vggSource(), vggTarget());
    QVERIFY(queue.acceptAction()->isEnabled());
    const QStringList guesses = guessedTargets(document);
    QCOMPARE(queue.guessCount(), guesses.size());
    QCOMPARE(queue.nextGuess(QString()), guesses.front());
    for (int i = 0; i + 1 < guesses.size(); ++i)
        QCOMPARE(queue.nextGuess(guesses[i]), guesses[i + 1]);
    QCOMPARE(queue.nextGuess(guesses.back()), guesses.front()); // wraps
    QCOMPARE(queue.nextGuess(document.result().mappings.back().target), guesses.front());

    // Review without a current target starts at the first guess; accept decides what is shown.
    QString shown;
    queue.setCurrentTargetProvider([&] { return shown; });
    connect(&queue, &ReviewQueue::selectTargetRequested, this, [&](const QString &target) { shown = target; });
    queue.reviewNext();
    QCOMPARE(shown, guesses.front());
    queue.acceptCurrent();
    QCOMPARE(shown, guesses[1]);
    QCOMPARE(mappingOf(document, guesses.front()).origin, MatchOrigin::Explicit);
}

void TestReviewQueue::acceptAllIsOneUndoStep()
{
    MainWindow window;
    openVgg(window);
    MappingDocument *document = window.document();
    const QString start = documentState(*document);
    const QStringList guesses = guessedTargets(*document);
    const int steps = document->undoStack()->count();
    window.findChild<MappingTableView *>()->setFocus();
    QTest::keyClick(window.findChild<MappingTableView *>(), Qt::Key_Return, Qt::ControlModifier | Qt::ShiftModifier);
    QVERIFY(guessedTargets(*document).isEmpty());
    QCOMPARE(document->undoStack()->count(), steps + 1);
    QCOMPARE(document->undoStack()->text(steps), QStringLiteral("Accept %1 guesses").arg(guesses.size()));
    QVERIFY(document->result().complete());
    for (const QString &target : guesses)
        QCOMPARE(mappingOf(*document, target).origin, MatchOrigin::Explicit);
    QVERIFY(!window.reviewQueue()->acceptAllAction()->isEnabled());
    document->undoStack()->undo();
    QCOMPARE(documentState(*document), start);
    QVERIFY(window.reviewQueue()->acceptAllAction()->isEnabled());
}

void TestReviewQueue::combineAndSaveWritesOnlyAcceptedGuesses()
{
    MappingDocument document;
    load(document, vggSource(), vggTarget());
    const QStringList guesses = guessedTargets(document);
    QVERIFY(!guesses.isEmpty());
    QTemporaryDir dir;

    // Saves through the dialog; `said` tells whether its message counted the unaccepted guesses.
    auto saveWith = [&](bool keepUnmapped, const QString &name, QString *message, bool *said) {
        CombineSaveDialog dialog(&document, vggSource(), vggTarget());
        const QList<QLabel *> labels = dialog.findChildren<QLabel *>();
        *said = std::any_of(labels.begin(), labels.end(), [&](QLabel *label) {
            return label->text().startsWith(QStringLiteral("%1 guesses by order and shape are not accepted: not written from the source")
                                                .arg(guessedTargets(document).size()));
        });
        dialog.findChild<QCheckBox *>()->setChecked(keepUnmapped);
        dialog.setOutputPath(dir.filePath(name));
        QSignalSpy finished(&dialog, &CombineSaveDialog::finished);
        dialog.save();
        if (finished.isEmpty() && !finished.wait(20000))
            return false;
        *message = finished.front().at(1).toString();
        return finished.front().at(0).toBool();
    };

    QString message;
    bool said = false;
    // Unaccepted guesses without the checkbox: no file, the guesses named.
    QVERIFY(!saveWith(false, QStringLiteral("refused.eqx"), &message, &said));
    QVERIFY(said);
    QVERIFY2(message.contains(QStringLiteral("%1: guessed from %2 by order and shape, not accepted")
                                  .arg(guesses.front(), mappingOf(document, guesses.front()).sources.front())),
             qPrintable(message));
    // The dialog names its own controls, not graft-cli's flags.
    QVERIFY2(!message.contains(QStringLiteral("--keep-unmapped")) && !message.contains(QStringLiteral("--accept-guesses")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("Review Guesses")) && message.contains(QStringLiteral("with the checkbox")), qPrintable(message));
    QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("refused.eqx"))));

    // With it: written, the guessed leaves keep the target's values.
    const int t = document.target()->indexOf(guesses.front());
    const int s = document.source()->indexOf(mappingOf(document, guesses.front()).sources.front());
    const std::vector<double> targetValues = *tensorValues(*document.target(), t, -1);
    const std::vector<double> sourceValues = *tensorValues(*document.source(), s, -1);
    QVERIFY(targetValues != sourceValues);
    QVERIFY2(saveWith(true, QStringLiteral("kept.eqx"), &message, &said), qPrintable(message));
    QVERIFY(said);
    QVERIFY(valuesIn(message, t) == targetValues);

    // Accepted (the queue's command), the source's values are written.
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("accept"), {document.acceptedGuess(guesses.front())}));
    QVERIFY2(saveWith(true, QStringLiteral("accepted.eqx"), &message, &said), qPrintable(message));
    QVERIFY(said); // the other guesses are still unaccepted
    QVERIFY(valuesIn(message, t) == sourceValues);
}

void TestReviewQueue::unusedBuffersAreListedApartFromProblems()
{
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    UnusedSourcesModel unused(&document);
    ProblemsModel problems(&document);
    QAbstractItemModelTester tester(&unused, QAbstractItemModelTester::FailureReportingMode::QtTest);
    load(document, QStringLiteral(GRAFT_FIXTURE_DIR "/resnet18.pth"), mappingFixture(QStringLiteral("resnet18_eqx.skeleton.json")));
    const auto buffersShown = [&] {
        QStringList keys;
        for (int row = 0; row < unused.rowCount(); ++row) {
            if (unused.index(row, 0).data(UnusedSourcesModel::IsBufferRole).toBool())
                keys << unused.index(row, 0).data(UnusedSourcesModel::SourceKeyRole).toString();
        }
        return keys;
    };
    QStringList expected;
    for (const BufferEntry &buffer : matchCheckpoints(*document.source(), *document.target(), {}).unusedBuffers)
        expected << buffer.key;
    QVERIFY(!expected.isEmpty());
    QCOMPARE(buffersShown(), expected);
    QCOMPARE(unused.bufferCount(), expected.size());
    QCOMPARE(unused.index(0, UnusedSourcesModel::KindColumn).data().toString(), QStringLiteral("buffer"));
    for (int row = 0; row < problems.rowCount(); ++row)
        QVERIFY2(!problems.index(row).data().toString().contains(QLatin1String("num_batches_tracked")), qPrintable(problems.index(row).data().toString()));
    // The source tree says "buffer" (with why) where a plain unused source says "unused".
    const QModelIndex bufferLeaf = source.indexOfKey(expected.front());
    QCOMPARE(source.index(bufferLeaf.row(), CheckpointTreeModel::StatusColumn, bufferLeaf.parent()).data().toString(),
             QStringLiteral("buffer: %1").arg(document.bufferReason(expected.front())));
    QVERIFY(!document.bufferReason(expected.front()).isEmpty());

    // A hand edit recomputes what is unused: buffers stay buffers, not unused sources.
    const QString firstTarget = document.result().mappings.front().target;
    const QString freed = mappingOf(document, firstTarget).sources.front();
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("unmap"), {document.keptMapping(firstTarget)}));
    QCOMPARE(buffersShown(), expected);
    QCOMPARE(document.result().unusedSources, QStringList{freed});
    QCOMPARE(unused.index(0, UnusedSourcesModel::KeyColumn).data().toString(), freed);
    QCOMPARE(unused.index(0, UnusedSourcesModel::KindColumn).data().toString(), QStringLiteral("unused source"));
    document.undoStack()->undo();
    QCOMPARE(unused.rowCount(), expected.size());
}

void TestReviewQueue::tiedSourcesShowAsOneTensor()
{
    // views.pth saves one tensor as both "base" and "tied".
    MappingDocument document;
    CheckpointTreeModel source(&document, CheckpointTreeModel::Side::Source);
    InspectorWidget inspector(&document);
    const QString views = QStringLiteral(GRAFT_FIXTURE_DIR "/views.pth");
    load(document, views, views);
    QCOMPARE(document.tiedWith(QStringLiteral("base")), QStringList{QStringLiteral("tied")});
    QCOMPARE(document.tiedWith(QStringLiteral("row")), QStringList());
    inspector.showTarget(QStringLiteral("base"));
    const QList<QLabel *> labels = inspector.findChildren<QLabel *>();
    QVERIFY(std::any_of(labels.begin(), labels.end(), [](QLabel *label) { return label->text().contains(QLatin1String("same storage as tied")); }));
    QVERIFY(source.indexOfKey(QStringLiteral("tied")).data(Qt::ToolTipRole).toString().contains(QLatin1String("same storage as base")));

    // Only "base" feeds a target: its twin is the same tensor, in use, not unused.
    document.undoStack()->push(new SetMappingsCommand(&document, QStringLiteral("keep tied"), {document.keptMapping(QStringLiteral("tied"))}));
    QVERIFY(!document.result().unusedSources.contains(QStringLiteral("tied")));
    const QModelIndex twin = source.indexOfKey(QStringLiteral("tied"));
    QCOMPARE(source.index(twin.row(), CheckpointTreeModel::StatusColumn, twin.parent()).data().toString(), QStringLiteral("→ base (tied)"));
}

void TestReviewQueue::constantLeafShowsItsValue()
{
    // The matcher sets an Equinox BatchNorm first-time flag to False (origin Constant); the
    // views show the value. A bool leaf of the vgg target stands in for the flag here.
    MappingDocument document;
    MappingTableModel table(&document);
    InspectorWidget inspector(&document);
    load(document, vggSource(), vggTarget());
    const QString flag = QStringLiteral(".drops[0].inference");
    QCOMPARE(document.target()->tensors()[static_cast<size_t>(document.target()->indexOf(flag))].dtype, DType::Bool);
    MappingResult result = document.result();
    Mapping &mapping = result.mappings[static_cast<size_t>(result.indexOfTarget(flag))];
    mapping.status = MatchStatus::Fixable;
    mapping.origin = MatchOrigin::Constant;
    mapping.constant = QByteArray(1, '\0');
    document.undoStack()->push(new ReplaceMappingCommand(&document, QStringLiteral("constant"), result, document.options()));
    QCOMPARE(table.index(document.mappingIndex(flag), MappingTableModel::SourceColumn).data().toString(), QStringLiteral("= False"));
    inspector.showTarget(flag);
    const QList<QLabel *> labels = inspector.findChildren<QLabel *>();
    QVERIFY(std::any_of(labels.begin(), labels.end(), [](QLabel *label) { return label->text().contains(QLatin1String("constant <b>False</b>")); }));
    mapping.constant = QByteArray(1, '\1');
    document.undoStack()->push(new ReplaceMappingCommand(&document, QStringLiteral("constant"), result, document.options()));
    QCOMPARE(table.index(document.mappingIndex(flag), MappingTableModel::SourceColumn).data().toString(), QStringLiteral("= True"));
}

QTEST_MAIN(TestReviewQueue)
#include "tst_reviewqueue.moc"
