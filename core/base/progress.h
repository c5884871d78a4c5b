#pragma once
// The one progress/cancel callback of every long core operation (writing, statistics, diff).

#include <QtGlobal>

#include <functional>

namespace graft {

/// Called after each unit of work with (units done, units total); return false to cancel.
/// Core never runs threads of its own for this: the caller decides where the work runs.
using ProgressCallback = std::function<bool(qint64 done, qint64 total)>;

} // namespace graft
