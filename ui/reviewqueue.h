#pragma once
// The review queue for guessed matches (decided by order and shape alone, never written unless
// accepted): keyboard-driven actions that walk the guesses in target order (wrapping), accept
// one (an explicit pin with the guessed chain), reject one (unmapped) or accept them all. Each
// edit is one undo command on the document's stack; the queue then asks the window to show
// the next guess.

#include <QObject>
#include <QString>

#include <functional>

class QAction;
class QMenu;

namespace graft::ui {

class MappingDocument;

class ReviewQueue : public QObject {
    Q_OBJECT
public:
    /// The actions are children of `parent`; add them to a menu with addTo().
    ReviewQueue(MappingDocument *document, QObject *parent = nullptr);

    /// Where the queue stands: the target the user looks at (the inspector's). Without it the
    /// queue starts at the first guess.
    void setCurrentTargetProvider(std::function<QString()> provider) { m_currentTarget = std::move(provider); }

    /// Review guesses (Ctrl+G), Accept guess (Ctrl+Return), Reject guess (Ctrl+Backspace),
    /// Accept all guesses (Ctrl+Shift+Return).
    QAction *reviewAction() const { return m_review; }
    QAction *acceptAction() const { return m_accept; }
    QAction *rejectAction() const { return m_reject; }
    QAction *acceptAllAction() const { return m_acceptAll; }
    /// Adds the four actions to `menu`.
    void addTo(QMenu *menu) const;

    /// The first guessed target after `target` in target order, wrapping around (`target`
    /// itself when it is the only guess); empty when there is no guess.
    QString nextGuess(const QString &target) const;
    int guessCount() const;

    void reviewNext();
    void acceptCurrent();
    void rejectCurrent();
    void acceptAll();

Q_SIGNALS:
    /// Show this target (select it in the trees and the table, inspect it).
    void selectTargetRequested(const QString &target);
    /// A short note for the status bar ("no guesses left").
    void message(const QString &text);

private:
    QString currentTarget() const { return m_currentTarget ? m_currentTarget() : QString(); }
    bool isGuess(const QString &target) const;
    /// Accepts or rejects the current guess, then shows the next one.
    void decide(bool accept);
    void updateActions();

    MappingDocument *m_document;
    std::function<QString()> m_currentTarget;
    QAction *m_review;
    QAction *m_accept;
    QAction *m_reject;
    QAction *m_acceptAll;
};

} // namespace graft::ui
