#pragma once
// Opens files into the workbench's two panes and runs the automatic matching off the GUI thread
// (through the window's JobRunner), and makes sure a late result never wins over a newer one:
//  - each pane has a generation; opening a file into a pane makes every earlier open of that
//    pane stale (a slow file opened first cannot replace a fast one opened after it);
//  - a match remembers the document's generation (the files it was computed for) and its own;
//    a new source or target, or a newer match, makes it stale.
// A stale result is dropped: its job ends, nothing is applied. A match made stale is also
// stopped (MatchOptions::stop) at its next pass instead of running to its end.

#include "checkpoint/checkpoint.h"
#include "mapping/automatcher.h"

#include <QObject>

#include <atomic>
#include <functional>
#include <memory>

namespace graft::ui {

class JobRunner;
class MappingDocument;

class PaneLoader : public QObject {
    Q_OBJECT
public:
    enum class Pane { Source, Target };

    /// Neither `document` nor `jobs` is owned; both must outlive the loader.
    PaneLoader(MappingDocument *document, JobRunner *jobs, QObject *parent = nullptr);

    /// Opens `path` in the background; calls `done` (on this thread) with the file or its error
    /// unless another open of `pane` started meanwhile. `done` must end the job (finishJob).
    void open(Pane pane, const QString &path, std::function<void(Result<Checkpoint>)> done);
    /// Matches the document's source and target with `options` in the background; calls `done`
    /// with the result unless the files or a newer match superseded it. `done` must end the job.
    /// Nothing happens unless both files are open.
    void match(const MatchOptions &options, std::function<void(const MappingResult &)> done);

    /// Results dropped as stale so far (tests).
    int droppedResults() const { return m_dropped; }
    /// Matches that came back stopped early (stale, or cancelled) so far (tests).
    int stoppedMatches() const { return m_stopped; }

private:
    MappingDocument *m_document;
    JobRunner *m_jobs;
    quint64 m_paneGeneration[2] = {0, 0};
    quint64 m_matchGeneration = 0;
    int m_dropped = 0;
    int m_stopped = 0;
    /// Raised when the running match goes stale (a file opened, a newer match).
    std::shared_ptr<std::atomic<bool>> m_matchStale;
    void stopRunningMatch();
};

} // namespace graft::ui
