#pragma once
// Work run on a worker thread (QtConcurrent::run) must not end the program when it runs out of
// memory: the future would rethrow std::bad_alloc on the GUI thread, from result(). Core
// catches it where it allocates for a file (open, convert, diff); this catches what is left.

#include "base/result.h"

#include <QString>

#include <new>
#include <type_traits>
#include <utility>

namespace graft::ui {

/// `work`, with std::bad_alloc turned into an error result ("not enough memory (<what>)") when
/// its result can carry one (Result<T>); other results are returned as they are.
template <typename Work>
auto guardMemory(const QString &what, Work work)
{
    return [what, work = std::move(work)]() mutable -> std::invoke_result_t<Work> {
        using Value = std::invoke_result_t<Work>;
        if constexpr (std::is_constructible_v<Value, Error>) {
            try {
                return work();
            } catch (const std::bad_alloc &) {
                return Value(Error{QString(), QStringLiteral("not enough memory (%1)").arg(what)});
            }
        } else {
            return work();
        }
    };
}

} // namespace graft::ui
