#pragma once
// Writes JSON with keys in the order given. The CLI's JSON output is a contract whose key
// order is documented; QJsonObject sorts keys, so it cannot keep that order.

#include <QString>

#include <vector>

namespace graft::cli {

class JsonWriter {
public:
    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();
    /// Starts a member of the current object; follow with a value or begin*.
    JsonWriter &key(const QString &name);
    JsonWriter &value(const QString &text);
    JsonWriter &value(const char *text) { return value(QString::fromUtf8(text)); }
    JsonWriter &value(qint64 number);
    JsonWriter &value(int number) { return value(static_cast<qint64>(number)); }
    JsonWriter &value(double number);
    JsonWriter &value(bool flag);
    JsonWriter &null();
    JsonWriter &value(const std::vector<qint64> &numbers);

    const QString &text() const { return m_text; }

private:
    void separate();

    QString m_text;
    std::vector<bool> m_first; // per open container: no member written yet
    bool m_afterKey = false;
};

/// JSON string literal with escapes.
QString jsonQuote(const QString &text);

} // namespace graft::cli
