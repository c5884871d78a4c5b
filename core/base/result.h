#pragma once
// Errors as values: every core operation that can fail on user input returns a Result<T>.
// The Error names the file and what is wrong; the CLI and GUI show it at the boundary.

#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace graft {

/// What went wrong, and where. `file` is the path of the input concerned (may be empty for
/// errors that concern no file); `message` is one readable sentence without the file name.
struct Error {
    QString file;
    QString message;

    /// "file: message", the form both front ends print.
    QString toString() const { return file.isEmpty() ? message : file + QStringLiteral(": ") + message; }
};

/// Either a value or an Error. Deliberately small: has(), value(), error(), and a conversion
/// from both so functions can `return Error{...};` or `return value;`.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_state(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(m_state); }
    const T &value() const & { return std::get<0>(m_state); }
    T &&value() && { return std::get<0>(std::move(m_state)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

    const Error &error() const { return std::get<1>(m_state); }

private:
    std::variant<T, Error> m_state;
};

/// Result of an operation that produces nothing but can fail.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error) : m_error(std::move(error)) {}
    static Status success() { return {}; }

    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

} // namespace graft
