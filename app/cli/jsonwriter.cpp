#include "cli/jsonwriter.h"

#include <cmath>

namespace graft::cli {

QString jsonQuote(const QString &text)
{
    QString out;
    out.reserve(text.size() + 2);
    out += QLatin1Char('"');
    for (QChar c : text) {
        switch (c.unicode()) {
        case '"': out += QStringLiteral("\\\""); break;
        case '\\': out += QStringLiteral("\\\\"); break;
        case '\n': out += QStringLiteral("\\n"); break;
        case '\r': out += QStringLiteral("\\r"); break;
        case '\t': out += QStringLiteral("\\t"); break;
        default:
            if (c.unicode() < 0x20)
                out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    out += QLatin1Char('"');
    return out;
}

void JsonWriter::separate()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_first.empty()) {
        if (!m_first.back())
            m_text += QStringLiteral(", ");
        m_first.back() = false;
    }
}

JsonWriter &JsonWriter::beginObject()
{
    separate();
    m_text += QLatin1Char('{');
    m_first.push_back(true);
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    m_text += QLatin1Char('}');
    m_first.pop_back();
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    separate();
    m_text += QLatin1Char('[');
    m_first.push_back(true);
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    m_text += QLatin1Char(']');
    m_first.pop_back();
    return *this;
}

JsonWriter &JsonWriter::key(const QString &name)
{
    separate();
    m_text += jsonQuote(name) + QStringLiteral(": ");
    m_afterKey = true;
    return *this;
}

JsonWriter &JsonWriter::value(const QString &text)
{
    separate();
    m_text += jsonQuote(text);
    return *this;
}

JsonWriter &JsonWriter::value(qint64 number)
{
    separate();
    m_text += QString::number(number);
    return *this;
}

JsonWriter &JsonWriter::value(double number)
{
    separate();
    if (std::isnan(number) || std::isinf(number))
        m_text += QStringLiteral("null"); // JSON has no NaN/Inf
    else
        m_text += QString::number(number, 'g', 17);
    return *this;
}

JsonWriter &JsonWriter::value(bool flag)
{
    separate();
    m_text += flag ? QStringLiteral("true") : QStringLiteral("false");
    return *this;
}

JsonWriter &JsonWriter::null()
{
    separate();
    m_text += QStringLiteral("null");
    return *this;
}

JsonWriter &JsonWriter::value(const std::vector<qint64> &numbers)
{
    beginArray();
    for (qint64 n : numbers)
        value(n);
    return endArray();
}

} // namespace graft::cli
