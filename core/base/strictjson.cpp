#include "base/strictjson.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QSet>

#include <algorithm>
#include <deque>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace graft {
namespace {

// The decoded text of the string token json[begin..end] (quotes included).
QString decodeString(const QByteArray &json, qsizetype begin, qsizetype end)
{
    const QByteArray token = json.mid(begin, end - begin);
    if (!token.contains('\\'))
        return QString::fromUtf8(token.constData() + 1, token.size() - 2);
    // Let Qt's own parser decode escapes, so keys compare exactly as QJsonDocument sees them.
    return QJsonDocument::fromJson('[' + token + ']').array().at(0).toString();
}

} // namespace

// Keys are compared as their bytes (views into `json`; a key with escapes or non-ASCII bytes is
// decoded the way QJsonDocument decodes it and compared re-encoded), in a small list per object and a hash set
// once an object has many keys: a 100k-leaf skeleton has 100k small objects, and a QSet of
// decoded QStrings for each was a fifth of opening it.
QString findRepeatedKey(const QByteArray &json)
{
    struct Frame {
        bool isObject = false;
        bool expectingKey = false;
        std::string_view name; // key under which this container sits in its parent (an object)
        qint64 position = -1;  // or its index in its parent (an array)
        qint64 elements = 0;   // an array's elements so far, less one
        std::vector<std::string_view> keys;
        std::unordered_set<std::string_view> many; // from kLinear keys on
    };
    constexpr size_t kLinear = 16;
    std::vector<Frame> stack;
    std::deque<QByteArray> decoded; // re-encoded keys that had escapes (views point into them)
    std::string_view lastKey;
    auto text = [](std::string_view key) { return QString::fromUtf8(key.data(), static_cast<qsizetype>(key.size())); };
    // Where stack[depth] sits: its key, or its enclosing container's place and its index there.
    const auto place = [&](size_t depth) {
        QString indexes;
        for (; stack[depth].position >= 0; --depth) {
            indexes.prepend(QStringLiteral("[%1]").arg(stack[depth].position));
            if (depth == 0)
                return indexes;
        }
        return text(stack[depth].name) + indexes;
    };
    const qsizetype size = json.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char c = json[i];
        if (c == '{' || c == '[') {
            Frame frame;
            frame.isObject = c == '{';
            frame.expectingKey = frame.isObject;
            if (!stack.empty() && !stack.back().isObject)
                frame.position = stack.back().elements;
            else
                frame.name = lastKey;
            stack.push_back(std::move(frame));
        } else if (c == '}' || c == ']') {
            if (!stack.empty())
                stack.pop_back();
        } else if (c == ',' && !stack.empty()) {
            stack.back().expectingKey = stack.back().isObject;
            ++stack.back().elements;
        } else if (c == ':' && !stack.empty()) {
            stack.back().expectingKey = false;
        } else if (c == '"') {
            const qsizetype begin = i;
            bool escaped = false; // or not ASCII: compared as Qt decodes it (invalid UTF-8 included)
            for (++i; i < size && json[i] != '"'; ++i) {
                escaped = escaped || static_cast<unsigned char>(json[i]) >= 0x80;
                if (json[i] == '\\') {
                    escaped = true;
                    ++i;
                }
            }
            if (stack.empty() || !stack.back().expectingKey)
                continue;
            Frame &frame = stack.back();
            std::string_view key(json.constData() + begin + 1, static_cast<size_t>(i - begin - 1));
            if (escaped) {
                decoded.push_back(decodeString(json, begin, i + 1).toUtf8());
                key = std::string_view(decoded.back().constData(), static_cast<size_t>(decoded.back().size()));
            }
            const bool seen = frame.keys.size() < kLinear ? std::find(frame.keys.begin(), frame.keys.end(), key) != frame.keys.end()
                                                          : frame.many.count(key) > 0;
            if (seen) {
                if (stack.size() == 1)
                    return QStringLiteral("duplicate key '%1'").arg(text(key));
                return QStringLiteral("duplicate key '%1' inside '%2'").arg(text(key), place(stack.size() - 1));
            }
            if (frame.keys.size() < kLinear) {
                frame.keys.push_back(key);
                if (frame.keys.size() == kLinear)
                    frame.many.insert(frame.keys.begin(), frame.keys.end());
            } else {
                frame.many.insert(key);
            }
            lastKey = key;
        }
    }
    return QString();
}

Result<QJsonDocument> parseStrictJson(const QByteArray &json)
{
    QJsonParseError parseError;
    QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return Error{QString(), QStringLiteral("not valid JSON: %1 at byte %2")
                                    .arg(parseError.errorString()).arg(parseError.offset)};
    const QString duplicate = findRepeatedKey(json);
    if (!duplicate.isEmpty())
        return Error{QString(), duplicate};
    return document;
}

Result<QByteArray> readJsonFileBytes(const QString &path, qint64 maxBytes)
{
    const QFileInfo info(path);
    if (!info.exists())
        return Error{path, QStringLiteral("no such file")};
    if (info.isDir())
        return Error{path, QStringLiteral("is a directory, not a JSON file")};
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error{path, QStringLiteral("cannot open: %1").arg(file.errorString())};
    if (file.size() > maxBytes)
        return Error{path, QStringLiteral("%1 bytes is larger than the %2-byte limit for this JSON file")
                               .arg(file.size()).arg(maxBytes)};
    // Never file.read(maxBytes + 1): QIODevice::read(n) allocates n bytes up front, so every
    // skeleton (256 MiB limit) or index (64 MiB) cost that much memory even when it held a few
    // bytes (found by fuzz_skeleton and fuzz_safetensorsindex, which ran at 1 input/s). Ask for
    // the size the file reports plus one byte, then in 16 KiB steps in case it grew (or is not a
    // regular file), still stopping one byte past the limit.
    QByteArray json;
    qint64 chunk = std::min(file.size(), maxBytes) + 1;
    while (json.size() <= maxBytes) {
        const QByteArray part = file.read(std::min<qint64>(chunk, maxBytes + 1 - json.size()));
        if (part.isEmpty())
            break;
        json += part;
        chunk = 16 * 1024;
    }
    if (json.size() > maxBytes)
        return Error{path, QStringLiteral("larger than the %1-byte limit for this JSON file").arg(maxBytes)};
    if (json.isEmpty())
        return Error{path, QStringLiteral("the file is empty")};
    return json;
}

Result<QJsonDocument> readStrictJsonFile(const QString &path, qint64 maxBytes)
{
    Result<QByteArray> json = readJsonFileBytes(path, maxBytes);
    if (!json)
        return json.error();
    Result<QJsonDocument> document = parseStrictJson(*json);
    if (!document)
        return Error{path, document.error().message};
    return document;
}

} // namespace graft
