#include "reviewqueue.h"

#include "mappingcommands.h"
#include "mappingdocument.h"
#include "statusstyle.h"

#include <QAction>
#include <QKeySequence>
#include <QMenu>

namespace graft::ui {

ReviewQueue::ReviewQueue(MappingDocument *document, QObject *parent)
    : QObject(parent), m_document(document), m_review(new QAction(tr("Review &Guesses"), this)),
      m_accept(new QAction(tr("&Accept Guess"), this)), m_reject(new QAction(tr("Re&ject Guess"), this)),
      m_acceptAll(new QAction(tr("Accept A&ll Guesses"), this))
{
    m_review->setShortcut(QKeySequence(tr("Ctrl+G")));
    m_review->setIcon(statusIcon(MatchStatus::Guessed));
    m_review->setStatusTip(tr("Show the next match guessed by order and shape alone"));
    m_accept->setShortcuts({QKeySequence(tr("Ctrl+Return")), QKeySequence(tr("Ctrl+Enter"))});
    m_accept->setStatusTip(tr("Pin the shown guess as an explicit mapping, then show the next guess"));
    m_reject->setShortcut(QKeySequence(tr("Ctrl+Backspace")));
    m_reject->setStatusTip(tr("Leave the shown target unmapped, then show the next guess"));
    m_acceptAll->setShortcut(QKeySequence(tr("Ctrl+Shift+Return")));
    m_acceptAll->setStatusTip(tr("Pin every guess as an explicit mapping (one undo step)"));
    connect(m_review, &QAction::triggered, this, &ReviewQueue::reviewNext);
    connect(m_accept, &QAction::triggered, this, &ReviewQueue::acceptCurrent);
    connect(m_reject, &QAction::triggered, this, &ReviewQueue::rejectCurrent);
    connect(m_acceptAll, &QAction::triggered, this, &ReviewQueue::acceptAll);
    connect(document, &MappingDocument::resultReset, this, &ReviewQueue::updateActions);
    connect(document, &MappingDocument::mappingsChanged, this, &ReviewQueue::updateActions);
    updateActions();
}

void ReviewQueue::addTo(QMenu *menu) const
{
    menu->addAction(m_review);
    menu->addAction(m_accept);
    menu->addAction(m_reject);
    menu->addAction(m_acceptAll);
}

int ReviewQueue::guessCount() const
{
    int count = 0;
    for (const Mapping &mapping : m_document->result().mappings)
        count += mapping.status == MatchStatus::Guessed ? 1 : 0;
    return count;
}

bool ReviewQueue::isGuess(const QString &target) const
{
    const int m = target.isEmpty() ? -1 : m_document->mappingIndex(target);
    return m >= 0 && m_document->result().mappings[static_cast<size_t>(m)].status == MatchStatus::Guessed;
}

QString ReviewQueue::nextGuess(const QString &target) const
{
    const auto &mappings = m_document->result().mappings;
    const int count = static_cast<int>(mappings.size());
    const int start = target.isEmpty() ? -1 : m_document->mappingIndex(target);
    for (int step = 1; step <= count; ++step) {
        const int i = (start + step) % count; // start is -1 without a current target
        if (mappings[static_cast<size_t>(i)].status == MatchStatus::Guessed)
            return mappings[static_cast<size_t>(i)].target;
    }
    return {};
}

void ReviewQueue::reviewNext()
{
    const QString next = nextGuess(currentTarget());
    if (next.isEmpty()) {
        Q_EMIT message(tr("No guesses to review."));
        return;
    }
    int position = 0; // 1-based among the guesses, in target order
    for (const Mapping &mapping : m_document->result().mappings) {
        position += mapping.status == MatchStatus::Guessed ? 1 : 0;
        if (mapping.target == next)
            break;
    }
    Q_EMIT selectTargetRequested(next);
    Q_EMIT message(tr("Guess %1 of %2: accept with Ctrl+Return, reject with Ctrl+Backspace, skip with Ctrl+G.").arg(position).arg(guessCount()));
}

void ReviewQueue::acceptCurrent() { decide(true); }
void ReviewQueue::rejectCurrent() { decide(false); }

void ReviewQueue::decide(bool accept)
{
    const QString target = currentTarget();
    if (!isGuess(target)) {
        // Nothing guessed is shown: show the next guess first, so that a second press decides
        // what the user has seen.
        reviewNext();
        return;
    }
    const Mapping after = accept ? m_document->acceptedGuess(target) : m_document->rejectedGuess(target);
    m_document->undoStack()->push(
        new SetMappingsCommand(m_document, (accept ? tr("Accept guess %1") : tr("Reject guess %1")).arg(target), {after}));
    const QString next = nextGuess(target);
    if (next.isEmpty()) {
        Q_EMIT message(tr("Every guess is reviewed."));
        return;
    }
    Q_EMIT selectTargetRequested(next);
    Q_EMIT message(tr("%1 guesses left.").arg(guessCount()));
}

void ReviewQueue::acceptAll()
{
    std::vector<Mapping> accepted;
    for (const Mapping &mapping : m_document->result().mappings) {
        if (mapping.status == MatchStatus::Guessed)
            accepted.push_back(m_document->acceptedGuess(mapping.target));
    }
    if (accepted.empty()) {
        Q_EMIT message(tr("No guesses to accept."));
        return;
    }
    const int count = static_cast<int>(accepted.size());
    const QString text = count == 1 ? tr("Accept 1 guess") : tr("Accept %1 guesses").arg(count);
    m_document->undoStack()->push(new SetMappingsCommand(m_document, text, std::move(accepted)));
    Q_EMIT message(text);
}

void ReviewQueue::updateActions()
{
    const int guesses = guessCount();
    for (QAction *action : {m_review, m_accept, m_reject, m_acceptAll})
        action->setEnabled(guesses > 0);
    m_review->setText(guesses > 0 ? tr("Review &Guesses (%1)").arg(guesses) : tr("Review &Guesses"));
}

} // namespace graft::ui
