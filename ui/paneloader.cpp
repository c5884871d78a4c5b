#include "paneloader.h"

#include "checkpoint/checkpointopener.h"
#include "jobrunner.h"
#include "mappingdocument.h"

#include <QFileInfo>

namespace graft::ui {

PaneLoader::PaneLoader(MappingDocument *document, JobRunner *jobs, QObject *parent)
    : QObject(parent), m_document(document), m_jobs(jobs)
{
}

void PaneLoader::open(Pane pane, const QString &path, std::function<void(Result<Checkpoint>)> done)
{
    const int slot = pane == Pane::Source ? 0 : 1;
    const quint64 generation = ++m_paneGeneration[slot];
    stopRunningMatch(); // computed for a file this open replaces
    m_jobs->run(tr("Opening %1…").arg(QFileInfo(path).fileName()), [path] { return openCheckpoint(path); },
                [this, slot, generation, done = std::move(done)](Result<Checkpoint> checkpoint) {
                    if (generation != m_paneGeneration[slot]) { // a newer file was opened into this pane
                        ++m_dropped;
                        m_jobs->finishJob();
                        return;
                    }
                    done(std::move(checkpoint));
                });
}

void PaneLoader::match(const MatchOptions &options, std::function<void(const MappingResult &)> done)
{
    if (!m_document->source() || !m_document->target())
        return;
    const Checkpoint source = *m_document->source();
    const Checkpoint target = *m_document->target();
    const quint64 files = m_document->generation();
    const quint64 generation = ++m_matchGeneration;
    stopRunningMatch(); // superseded by this one
    m_matchStale = std::make_shared<std::atomic<bool>>(false);
    MatchOptions stoppable = options;
    stoppable.stop = [stale = m_matchStale, cancelled = m_jobs->stopToken(), outer = options.stop] {
        return stale->load() || cancelled->load() || (outer && outer());
    };
    m_jobs->run(tr("Matching…"), [source, target, stoppable] { return matchCheckpoints(source, target, stoppable); },
                [this, files, generation, done = std::move(done)](const MappingResult &result) {
                    if (result.cancelled)
                        ++m_stopped;
                    // Computed for other files (a source or target opened since) or superseded
                    // by a newer match: applying it would put the old target's keys in place.
                    // A stopped match holds only its first passes: never applied either.
                    if (result.cancelled || files != m_document->generation() || generation != m_matchGeneration) {
                        ++m_dropped;
                        m_jobs->finishJob();
                        return;
                    }
                    done(result);
                });
}

void PaneLoader::stopRunningMatch()
{
    if (m_matchStale)
        m_matchStale->store(true);
}

} // namespace graft::ui
