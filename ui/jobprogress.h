#pragma once
// Progress and cancellation between a background job and the window that started it, with no
// QObject touched from the worker: the job's ProgressCallback stores (done, total) in atomics
// and returns false once cancelled (core stops at its next unit of work); a timer on the GUI
// thread reads the atomics and emits progressed(). Each job gets its own state, so cancelling
// one never stops a later job, and a worker's copy of the callback stays valid after the
// window is gone (owners cancel, then wait for the job in their destructors).

#include "base/progress.h"

#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>

namespace graft::ui {

class JobProgress : public QObject {
    Q_OBJECT
public:
    explicit JobProgress(QObject *parent = nullptr);

    /// Cancels the job before (if any) and returns the callback for a new one; progressed()
    /// follows it until finish().
    ProgressCallback start();
    /// Makes the current job's callback return false from its next call on.
    void cancel();
    /// The current job ended: emits its last progress and stops following it.
    void finish();
    bool isCancelled() const { return m_state && m_state->cancelled.load(); }

Q_SIGNALS:
    void progressed(qint64 done, qint64 total);

private:
    struct State {
        std::atomic<qint64> done{0};
        std::atomic<qint64> total{0};
        std::atomic<bool> cancelled{false};
    };
    void poll();

    std::shared_ptr<State> m_state;
    QTimer m_timer;
};

} // namespace graft::ui
