#pragma once
// Large untrusted JSON through simdjson's DOM (a 100k-leaf skeleton is 9 MB in 100k objects):
// QJsonDocument took ~180 ms to build its tree of that file here, simdjson 17 ms (2026-12-08,
// bench W6), and a reader then walks the tree without a QJsonValue per field. The checks are
// parseStrictJson()'s (strictjson.h): invalid JSON is refused with QJsonDocument's own message
// and byte offset, an object holding one key twice is refused naming it (the same scan,
// findRepeatedKey()). simdjson refuses
// nesting deeper than 1024 by itself, as Qt does.
// Include it only where such a file is read: simdjson.h costs ~1.5 s of compile per file.

#include "base/result.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>
#include <string_view>

#include <simdjson.h>

namespace graft {

/// A parsed document: `root`, and every element and string view reached from it, live as long
/// as this object.
struct JsonDom {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
};

/// Parses `json` like parseStrictJson(). Errors carry no file name; callers add it.
Result<std::unique_ptr<JsonDom>> parseStrictJsonDom(const QByteArray &json);

/// Reads the file at `path` (readJsonFileBytes(): at most `maxBytes`) and parses it with
/// parseStrictJsonDom(). Errors name the file.
Result<std::unique_ptr<JsonDom>> readStrictJsonDomFile(const QString &path, qint64 maxBytes);

/// A JSON number that is a whole number representable as qint64, QJsonValue::toInteger()'s rule
/// (4 and 4.0 are, 4.5 and 1e30 are not); nothing for anything else.
std::optional<qint64> jsonWholeNumber(simdjson::dom::element value);

/// A JSON string (UTF-8, validated by simdjson) as a QString.
inline QString jsonText(std::string_view text)
{
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

} // namespace graft
