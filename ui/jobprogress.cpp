#include "jobprogress.h"

namespace graft::ui {

JobProgress::JobProgress(QObject *parent) : QObject(parent)
{
    m_timer.setInterval(100);
    connect(&m_timer, &QTimer::timeout, this, &JobProgress::poll);
}

ProgressCallback JobProgress::start()
{
    cancel();
    m_state = std::make_shared<State>();
    m_timer.start();
    return [state = m_state](qint64 done, qint64 total) {
        state->total.store(total);
        state->done.store(done);
        return !state->cancelled.load();
    };
}

void JobProgress::cancel()
{
    if (m_state)
        m_state->cancelled.store(true);
}

void JobProgress::finish()
{
    poll();
    m_timer.stop();
}

void JobProgress::poll()
{
    if (m_state)
        Q_EMIT progressed(m_state->done.load(), m_state->total.load());
}

} // namespace graft::ui
