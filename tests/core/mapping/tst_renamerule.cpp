// Rename rules: the literal text a key must contain for the expression to match (checked before
// running it), and that a rule gives exactly what QRegularExpression's replace gives.

#include "mapping/renamerule.h"

#include <QRegularExpression>
#include <QTest>

using namespace graft;

class TestRenameRule : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void requiredLiteral_data();
    void requiredLiteral();
    void applyEqualsReplace();
    void parseRefusesBadRules();
};

void TestRenameRule::requiredLiteral_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("required");
    QTest::newRow("escaped dots") << QStringLiteral("\\.self_attn\\.q_proj\\.") << QStringLiteral(".self_attn.q_proj.");
    QTest::newRow("anchored prefix and a group") << QStringLiteral("^module\\.(.*)") << QStringLiteral("module.");
    QTest::newRow("longest run wins") << QStringLiteral("^ab\\.(\\d+)\\.mlp_block$") << QStringLiteral(".mlp_block");
    QTest::newRow("optional last character") << QStringLiteral("layers?\\.") << QStringLiteral("layer");
    QTest::newRow("repeated character kept once") << QStringLiteral("ab+c") << QStringLiteral("ab");
    QTest::newRow("brace quantifier") << QStringLiteral("abc{2}") << QStringLiteral("ab");
    QTest::newRow("alternation: nothing certain") << QStringLiteral("encoder|decoder") << QString();
    QTest::newRow("inline option: nothing certain") << QStringLiteral("(?i)Encoder") << QString();
    QTest::newRow("group content is not required") << QStringLiteral("(layer)?norm") << QStringLiteral("norm");
    QTest::newRow("class is skipped") << QStringLiteral("h[.\\]x]y") << QStringLiteral("h");
    QTest::newRow("hex escape is not text") << QStringLiteral("\\x41bc") << QString();
    QTest::newRow("braced escape") << QStringLiteral("\\x{41}\\.weight") << QStringLiteral(".weight");
    QTest::newRow("property escape") << QStringLiteral("\\p{L}+_proj") << QStringLiteral("_proj");
    QTest::newRow("digit class then text") << QStringLiteral("\\d\\.bias") << QStringLiteral(".bias");
    QTest::newRow("escaped dot made optional") << QStringLiteral("a\\.?b") << QStringLiteral("a");
    QTest::newRow("dot is any character") << QStringLiteral("q.proj") << QStringLiteral("proj");
    QTest::newRow("astral character made optional") << QString::fromUtf8("ab\xF0\x9F\x98\x80?c") << QStringLiteral("ab");
}

void TestRenameRule::requiredLiteral()
{
    QFETCH(QString, pattern);
    QFETCH(QString, required);
    QCOMPARE(RenameRule::requiredLiteral(pattern), required);
}

// The shortcut never changes a result: every rule on every key gives what the expression's own
// replace gives (keys with and without the required text, matched or not).
void TestRenameRule::applyEqualsReplace()
{
    const QList<QPair<QString, QString>> rules{
        {QStringLiteral("\\.self_attn\\.q_proj\\."), QStringLiteral(".attn.query_proj.")},
        {QStringLiteral("^module\\.(.*)"), QStringLiteral("\\1")},
        {QStringLiteral("layers?\\.(\\d+)"), QStringLiteral("blocks.\\1")},
        {QStringLiteral("(layer)?norm"), QStringLiteral("ln")},
        {QStringLiteral("\\x41bc"), QStringLiteral("abc")},
        {QStringLiteral("ab+c"), QStringLiteral("X")},
        {QStringLiteral("encoder|decoder"), QStringLiteral("coder")},
        {QStringLiteral("q.proj"), QStringLiteral("query")},
        {QString::fromUtf8("ab\xF0\x9F\x98\x80?"), QStringLiteral("X")},
    };
    const QStringList keys{QStringLiteral("model.layers.3.self_attn.q_proj.weight"), QStringLiteral("module.encoder.layer.0.norm.bias"),
                           QStringLiteral("layer.12.layernorm.weight"), QStringLiteral("Abc.weight"), QStringLiteral("abbbc"),
                           QStringLiteral("ac"), QStringLiteral("decoder.q_proj.weight"), QStringLiteral("qXproj"),
                           QStringLiteral("module."), QStringLiteral("abc"), QString::fromUtf8("ab\xF0\x9F\x98\x80"), QString()};
    for (const auto &[pattern, replacement] : rules) {
        Result<RenameRule> rule = RenameRule::create(pattern, replacement);
        QVERIFY(rule.ok());
        for (const QString &key : keys) {
            QString expected = key;
            expected.replace(QRegularExpression(pattern), replacement);
            QCOMPARE(rule->apply(key), expected);
        }
    }
}

void TestRenameRule::parseRefusesBadRules()
{
    QVERIFY(!RenameRule::parse(QStringLiteral("no arrow")).ok());
    QVERIFY(!RenameRule::parse(QStringLiteral("=>x")).ok());
    const Result<RenameRule> broken = RenameRule::parse(QStringLiteral("(unclosed=>x"));
    QVERIFY(!broken.ok());
    QVERIFY2(broken.error().message.contains(QStringLiteral("invalid regular expression")), qPrintable(broken.error().message));
}

QTEST_APPLESS_MAIN(TestRenameRule)
#include "tst_renamerule.moc"
