#pragma once
// JSON for untrusted headers and sidecar files: QJsonDocument, plus the checks it lacks.
// QJsonDocument refuses nesting deeper than 1024 by itself (measured with Qt 6.4: 10M nested
// arrays give "too deeply nested document", no crash) but silently keeps one of two equal keys
// in an object, which for a tensor index means a hidden tensor. parseStrictJson() rescans the
// text for that.

#include "base/result.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QString>

namespace graft {

/// Parses `json`; refuses invalid JSON (with the byte offset) and any object holding the same
/// key twice (naming the key and, below the top level, the key of the enclosing object).
/// Errors carry no file name; callers add it.
Result<QJsonDocument> parseStrictJson(const QByteArray &json);

/// In valid JSON, the first object (in the text's order) that holds a key twice, as a message:
/// "duplicate key 'k'" at the top level, "duplicate key 'k' inside 'parent'" below it, an
/// object in an array named by the array's place and its index ('leaves[3]'); empty if none.
/// Both strict parsers (this one and strictjsondom.h) check with it.
QString findRepeatedKey(const QByteArray &json);

/// The bytes of the JSON file at `path`: at most `maxBytes` (checked before reading), not empty.
/// Errors name the file.
Result<QByteArray> readJsonFileBytes(const QString &path, qint64 maxBytes);

/// Reads the whole file at `path` (at most `maxBytes`, checked before reading) and parses it
/// with parseStrictJson(). Errors name the file.
Result<QJsonDocument> readStrictJsonFile(const QString &path, qint64 maxBytes);

} // namespace graft
