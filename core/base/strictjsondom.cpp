#include "base/strictjsondom.h"

#include "base/strictjson.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <vector>

namespace graft {
namespace {

// Where a container sits, built into text only for a message: the key it is the value of, or
// its index in the enclosing array (then the array's own place comes first: 'leaves[3]').
struct Place {
    const Place *parent = nullptr;
    std::string_view key;
    qint64 index = -1;

    QString text() const
    {
        if (index < 0)
            return jsonText(key);
        return (parent ? parent->text() : QString()) + QStringLiteral("[%1]").arg(index);
    }
};

// The first object (in the order of the text) holding a key twice, as parseStrictJson() reports
// it: "duplicate key 'k'" at the top level, "... inside 'parent'" below it (for an object in an
// array, 'parent[i]'). Keys compare as simdjson decodes them (escapes resolved), as Qt compares
// them. Depth is bounded by the parser (1024).
QString findDuplicateKey(simdjson::dom::element element, const Place *place)
{
    if (simdjson::dom::array array; element.get_array().get(array) == simdjson::SUCCESS) {
        qint64 index = 0;
        for (simdjson::dom::element item : array) {
            if (item.is_array() || item.is_object()) {
                const Place itemPlace{place, {}, index};
                QString found = findDuplicateKey(item, &itemPlace);
                if (!found.isEmpty())
                    return found;
            }
            ++index;
        }
        return QString();
    }
    simdjson::dom::object object;
    if (element.get_object().get(object) != simdjson::SUCCESS)
        return QString();
    // A list while small (a skeleton leaf has four keys), a set once an object has many.
    constexpr size_t kLinear = 16;
    std::vector<std::string_view> keys;
    std::unordered_set<std::string_view> many;
    for (simdjson::dom::key_value_pair field : object) {
        const std::string_view key = field.key;
        const bool seen = keys.size() < kLinear ? std::find(keys.begin(), keys.end(), key) != keys.end() : many.count(key) > 0;
        if (seen) {
            if (!place)
                return QStringLiteral("duplicate key '%1'").arg(jsonText(key));
            return QStringLiteral("duplicate key '%1' inside '%2'").arg(jsonText(key), place->text());
        }
        if (keys.size() < kLinear) {
            keys.push_back(key);
            if (keys.size() == kLinear)
                many.insert(keys.begin(), keys.end());
        } else {
            many.insert(key);
        }
        if (field.value.is_array() || field.value.is_object()) {
            const Place valuePlace{place, key, -1};
            QString found = findDuplicateKey(field.value, &valuePlace);
            if (!found.isEmpty())
                return found;
        }
    }
    return QString();
}

} // namespace

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
    const QString duplicate = findDuplicateKey(dom->root, nullptr);
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
