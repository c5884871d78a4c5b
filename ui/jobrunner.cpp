#include "jobrunner.h"

#include <algorithm>

namespace graft::ui {

JobRunner::JobRunner(QObject *receiver) : QObject(receiver) {}

JobRunner::~JobRunner()
{
    ++m_generation;
    m_stop->store(true);
    for (QFutureWatcherBase *watcher : findChildren<QFutureWatcherBase *>(Qt::FindDirectChildrenOnly)) {
        watcher->disconnect(this);
        watcher->cancel(); // a job still queued in the thread pool never starts
        watcher->waitForFinished();
    }
}

void JobRunner::begin(const QString &text)
{
    ++m_pending;
    Q_EMIT jobStarted(text);
}

void JobRunner::finishJob()
{
    m_pending = std::max(0, m_pending - 1);
    if (m_pending == 0)
        Q_EMIT allFinished();
}

void JobRunner::raiseStop()
{
    m_stop->store(true);
    m_stop = std::make_shared<std::atomic<bool>>(false);
}

void JobRunner::dropLateResults()
{
    ++m_generation;
    raiseStop();
}

void JobRunner::cancel()
{
    ++m_generation; // results still on their way are dropped
    raiseStop();
    m_pending = 0;
    Q_EMIT allFinished();
}

} // namespace graft::ui
