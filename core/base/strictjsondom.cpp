#include "base/strictjsondom.h"

#include "base/strictjson.h"

#include <cmath>

namespace graft {

std::optional<qint64> jsonWholeNumber(simdjson::dom::element value)
{
    if (int64_t whole; value.get_int64().get(whole) == simdjson::SUCCESS)
        return whole;
    if (double number; value.is_double() && value.get_double().get(number) == simdjson::SUCCESS) {
        // 2^63 itself is not representable; every whole double below it is.
        if (number >= -9223372036854775808.0 && number < 9223372036854775808.0 && number == std::trunc(number))
            return static_cast<qint64>(number);
    }
    return std::nullopt;
}

Result<std::unique_ptr<JsonDom>> parseStrictJsonDom(const QByteArray &json)
{
    auto dom = std::make_unique<JsonDom>();
    // realloc_if_needed: simdjson reads up to SIMDJSON_PADDING bytes past the end; the parser
    // copies the text into a padded buffer of its own.
    simdjson::error_code code = dom->parser.parse(json.constData(), static_cast<size_t>(json.size()), true).get(dom->root);
    // A document is an object or an array, as for QJsonDocument (simdjson takes a lone scalar).
    if (code == simdjson::SUCCESS && !dom->root.is_object() && !dom->root.is_array())
        code = simdjson::INCORRECT_TYPE;
    if (code != simdjson::SUCCESS) {
        // Qt's message gives the byte offset; simdjson's names the kind of error only. Both
        // refuse the same texts but for numbers out of range and nesting beyond 1024.
        Result<QJsonDocument> qt = parseStrictJson(json);
        if (!qt)
            return qt.error();
        return Error{QString(), QStringLiteral("not valid JSON: %1").arg(QString::fromUtf8(simdjson::error_message(code)))};
    }
    const QString duplicate = findRepeatedKey(json);
    if (!duplicate.isEmpty())
        return Error{QString(), duplicate};
    return dom;
}

Result<std::unique_ptr<JsonDom>> readStrictJsonDomFile(const QString &path, qint64 maxBytes)
{
    Result<QByteArray> json = readJsonFileBytes(path, maxBytes);
    if (!json)
        return json.error();
    Result<std::unique_ptr<JsonDom>> dom = parseStrictJsonDom(*json);
    if (!dom)
        return Error{path, dom.error().message};
    return dom;
}

} // namespace graft
