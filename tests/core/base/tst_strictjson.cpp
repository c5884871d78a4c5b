// Strict JSON, two ways: parseStrictJson() (QJsonDocument plus a scan for repeated keys) for
// small files, parseStrictJsonDom() (simdjson) for large ones. Each text here is given to both:
// they must accept and refuse the same texts, with the same message, and the DOM must hold what
// QJsonDocument holds.

#include "base/strictjson.h"
#include "base/strictjsondom.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

using namespace graft;

namespace {

// The DOM's value as QJsonDocument would hold it (numbers as doubles, as Qt keeps them).
QJsonValue toQt(simdjson::dom::element element)
{
    switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: {
        QJsonArray array;
        // A named copy: value() of a temporary result is a reference into it.
        const simdjson::dom::array items = element.get_array().value();
        for (simdjson::dom::element item : items)
            array.append(toQt(item));
        return array;
    }
    case simdjson::dom::element_type::OBJECT: {
        QJsonObject object;
        const simdjson::dom::object fields = element.get_object().value();
        for (simdjson::dom::key_value_pair field : fields)
            object.insert(jsonText(field.key), toQt(field.value));
        return object;
    }
    case simdjson::dom::element_type::STRING:
        return jsonText(element.get_string().value());
    case simdjson::dom::element_type::BOOL:
        return element.get_bool().value();
    case simdjson::dom::element_type::NULL_VALUE:
        return QJsonValue::Null;
    default:
        return element.get_double().value();
    }
}

} // namespace

class TestStrictJson : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void bothParsersAgree_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("message"); // empty: accepted

        QTest::newRow("object") << QByteArray(R"({"a": [1, 2.5, -3], "b": {"c": "d", "e": null, "f": true}})") << QString();
        QTest::newRow("escaped distinct keys") << QByteArray(R"({"a": 1, "\u0062": 2})") << QString();
        QTest::newRow("same key in sibling objects") << QByteArray(R"([{"a": 1}, {"a": 2}])") << QString();
        QTest::newRow("non-ASCII text") << QByteArray("{\"k\xc3\xa9\": \"\xe2\x82\xac\"}") << QString();
        QTest::newRow("many keys") << [] {
            QByteArray json = "{";
            for (int i = 0; i < 40; ++i)
                json += (i ? ", \"k" : "\"k") + QByteArray::number(i) + "\": " + QByteArray::number(i);
            return json + "}";
        }() << QString();

        QTest::newRow("empty") << QByteArray() << QStringLiteral("not valid JSON: illegal value at byte 0");
        QTest::newRow("truncated") << QByteArray(R"({"a": [1, 2)") << QStringLiteral("not valid JSON: ");
        QTest::newRow("trailing garbage") << QByteArray(R"({"a": 1} x)") << QStringLiteral("not valid JSON: ");
        QTest::newRow("invalid UTF-8") << QByteArray("{\"a\": \"\xff\xfe\"}") << QStringLiteral("not valid JSON: ");
        QTest::newRow("a lone number") << QByteArray("0") << QStringLiteral("not valid JSON: illegal value at byte 1");
        QTest::newRow("a lone string") << QByteArray(R"("text")") << QStringLiteral("not valid JSON: ");
        QTest::newRow("deep nesting") << QByteArray(5000, '[') + QByteArray(5000, ']') << QStringLiteral("too deeply nested");

        QTest::newRow("top-level repeat") << QByteArray(R"({"a": 1, "b": 2, "a": 3})") << QStringLiteral("duplicate key 'a'");
        QTest::newRow("repeat spelled with an escape") << QByteArray(R"({"ab": 1, "a\u0062": 2})")
                                                       << QStringLiteral("duplicate key 'ab'");
        QTest::newRow("nested repeat") << QByteArray(R"({"x": {"dtype": "F32", "dtype": "F16"}})")
                                       << QStringLiteral("duplicate key 'dtype' inside 'x'");
        QTest::newRow("first repeat in the text wins") << QByteArray(R"({"x": {"b": 1, "b": 2}, "x": 3})")
                                                       << QStringLiteral("duplicate key 'b' inside 'x'");
        QTest::newRow("repeat among many keys") << [] {
            QByteArray json = "{";
            for (int i = 0; i < 40; ++i)
                json += "\"k" + QByteArray::number(i) + "\": 0, ";
            return json + "\"k33\": 1}";
        }() << QStringLiteral("duplicate key 'k33'");
    }

    void bothParsersAgree()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, message);
        const Result<QJsonDocument> qt = parseStrictJson(json);
        const Result<std::unique_ptr<JsonDom>> dom = parseStrictJsonDom(json);
        if (message.isEmpty()) {
            QVERIFY2(qt.ok(), qPrintable(qt ? QString() : qt.error().message));
            QVERIFY2(dom.ok(), qPrintable(dom ? QString() : dom.error().message));
            const QJsonValue fromDom = toQt((*dom)->root);
            const QJsonValue fromQt = qt->isArray() ? QJsonValue(qt->array()) : QJsonValue(qt->object());
            QCOMPARE(fromDom, fromQt);
            return;
        }
        QVERIFY(!qt.ok());
        QVERIFY(!dom.ok());
        QVERIFY2(qt.error().message.startsWith(message) || qt.error().message.contains(message), qPrintable(qt.error().message));
        QCOMPARE(dom.error().message, qt.error().message);
    }

    // An object inside an array is named by the array's key and its index.
    void aRepeatInAnArrayElementNamesTheElement()
    {
        const QByteArray json = R"({"leaves": [{"path": "a"}, {"path": "b", "kind": "x", "path": "c"}]})";
        const Result<std::unique_ptr<JsonDom>> dom = parseStrictJsonDom(json);
        QVERIFY(!dom.ok());
        QCOMPARE(dom.error().message, QStringLiteral("duplicate key 'path' inside 'leaves[1]'"));
        QCOMPARE(parseStrictJson(json).error().message, dom.error().message);
        const QByteArray nestedJson = R"([[{"a": 1}], [{"a": 1, "a": 2}]])";
        const Result<std::unique_ptr<JsonDom>> nested = parseStrictJsonDom(nestedJson);
        QVERIFY(!nested.ok());
        QCOMPARE(nested.error().message, QStringLiteral("duplicate key 'a' inside '[1][0]'"));
        QCOMPARE(parseStrictJson(nestedJson).error().message, nested.error().message);
    }

    // Where the two differ: QJsonDocument takes an integer beyond 64 bits (as a double; the
    // grammar allows it, RFC 8259 warns it does not travel) and an unknown escape (as the
    // letter; the grammar forbids it); simdjson refuses both, naming why. No file Graft reads
    // needs either.
    void textsOnlyQtToleratesAreRefused_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("integer beyond 64 bits") << QByteArray(R"({"shape": [99999999999999999999999]})");
        QTest::newRow("unknown escape") << QByteArray(R"({"path": "\q"})");
    }

    void textsOnlyQtToleratesAreRefused()
    {
        QFETCH(QByteArray, json);
        QVERIFY(parseStrictJson(json).ok());
        const Result<std::unique_ptr<JsonDom>> dom = parseStrictJsonDom(json);
        QVERIFY(!dom.ok());
        QVERIFY2(dom.error().message.startsWith(QStringLiteral("not valid JSON: ")), qPrintable(dom.error().message));
        QVERIFY2(dom.error().message.size() > QStringLiteral("not valid JSON: ").size(), qPrintable(dom.error().message));
    }

    // QJsonValue::toInteger()'s rule, which skeleton dims and safetensors offsets kept.
    void wholeNumbersAreThoseQtTakesAsIntegers_data()
    {
        QTest::addColumn<QByteArray>("number");
        QTest::newRow("4") << QByteArray("4");
        QTest::newRow("4.0") << QByteArray("4.0");
        QTest::newRow("-3") << QByteArray("-3");
        QTest::newRow("4e3") << QByteArray("4e3");
        QTest::newRow("4.5") << QByteArray("4.5");
        QTest::newRow("1e30") << QByteArray("1e30");
        QTest::newRow("2^63 - 1") << QByteArray("9223372036854775807");
        QTest::newRow("2^63") << QByteArray("9223372036854775808");
        QTest::newRow("-2^63") << QByteArray("-9223372036854775808");
        QTest::newRow("a string") << QByteArray("\"4\"");
        QTest::newRow("true") << QByteArray("true");
    }

    void wholeNumbersAreThoseQtTakesAsIntegers()
    {
        QFETCH(QByteArray, number);
        const QByteArray json = "[" + number + "]";
        const Result<QJsonDocument> qt = parseStrictJson(json);
        const Result<std::unique_ptr<JsonDom>> dom = parseStrictJsonDom(json);
        QVERIFY(qt.ok() && dom.ok());
        const simdjson::dom::array items = (*dom)->root.get_array().value();
        const std::optional<qint64> whole = jsonWholeNumber(items.at(0).value());
        const qint64 fromQt = qt->array().at(0).toInteger(-1);
        const bool qtWhole = qt->array().at(0).isDouble() && (fromQt != -1 || number == "-1");
        QCOMPARE(whole.has_value(), qtWhole);
        if (whole)
            QCOMPARE(*whole, fromQt);
    }

    void aFileIsReadWithinItsLimit()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("x.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"a": [1, 2, 3]})");
        file.close();
        Result<std::unique_ptr<JsonDom>> dom = readStrictJsonDomFile(path, 1024);
        QVERIFY(dom.ok());
        QCOMPARE((*dom)->root["a"].get_array().value().size(), size_t(3));
        const Result<std::unique_ptr<JsonDom>> tooLarge = readStrictJsonDomFile(path, 4);
        QVERIFY(!tooLarge.ok());
        QCOMPARE(tooLarge.error().file, path);
        QVERIFY2(tooLarge.error().message.contains(QStringLiteral("limit")), qPrintable(tooLarge.error().message));
        const Result<std::unique_ptr<JsonDom>> missing = readStrictJsonDomFile(dir.filePath(QStringLiteral("none.json")), 1024);
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().message, QStringLiteral("no such file"));
    }
};

QTEST_GUILESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
