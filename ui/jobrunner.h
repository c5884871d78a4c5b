#pragma once
// Runs the workbench's long work (opening files, matching) off the GUI thread and brings the
// results back to it, counting the jobs still pending so the window can show progress and say
// when it is idle.
//
// Each job is QtConcurrent::run(work) watched by a QFutureWatcher that is a child of this
// runner, itself a child of the receiver (the window): when the receiver dies, results still
// on their way die with it. cancel() drops the results of the jobs started before it (`done` is
// never called for them) and raises their stop token (stopToken()): a job that polls it (the
// matcher, between its passes) returns early; opening a file does not poll (it reads headers
// only). The destructor raises the token too, then waits for the jobs still running.

#include "memoryguard.h"

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent>

#include <atomic>
#include <memory>
#include <type_traits>
#include <utility>

namespace graft::ui {

class JobRunner : public QObject {
    Q_OBJECT
public:
    /// `receiver` owns the runner (and so every watcher); the `done` callbacks run on its thread.
    explicit JobRunner(QObject *receiver);
    /// Drops every result, cancels the jobs not started yet and waits for the running ones: a
    /// job never outlives the window that started it.
    ~JobRunner() override;

    /// Runs `work()` on Qt's global thread pool; on this thread, calls `done(result)` unless
    /// cancel() or dropLateResults() came in between. The job counts as pending from now until
    /// `done` calls finishJob(): `done` decides when, so it can start a follow-up job first (the
    /// runner stays busy) or report an error after the window went idle. `work` must own what
    /// it uses (capture by value).
    template <typename Work, typename Done>
    void run(const QString &text, Work work, Done done)
    {
        using Value = std::invoke_result_t<Work>;
        begin(text);
        auto *watcher = new QFutureWatcher<Value>(this);
        const quint64 generation = m_generation;
        connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, done = std::move(done)]() mutable {
            watcher->deleteLater();
            if (generation != m_generation)
                return; // cancelled: the pending count was reset already
            done(watcher->result());
        });
        watcher->setFuture(QtConcurrent::run(guardMemory(text, std::move(work))));
    }

    /// Ends one pending job; emits allFinished() when none is left.
    void finishJob();
    /// Drops the results of every job started so far, ends them all and emits allFinished().
    void cancel();
    /// Drops the results of every job started so far without ending them (closing the window).
    void dropLateResults();
    /// Raised (true) once the jobs started so far are cancelled or dropped: a job captures it
    /// when it starts and may stop early when it reads true.
    std::shared_ptr<const std::atomic<bool>> stopToken() const { return m_stop; }
    /// True while a job is pending.
    bool isBusy() const { return m_pending > 0; }

Q_SIGNALS:
    /// A job started; `text` says what it does ("Opening x.pth…").
    void jobStarted(const QString &text);
    /// The last pending job finished (or all were cancelled).
    void allFinished();

private:
    void begin(const QString &text);

    int m_pending = 0;
    quint64 m_generation = 0; // a job's `done` runs only if this is unchanged since it started
    std::shared_ptr<std::atomic<bool>> m_stop = std::make_shared<std::atomic<bool>>(false);
    /// Raises the token of the jobs started so far and gives the next ones a fresh one.
    void raiseStop();
};

} // namespace graft::ui
