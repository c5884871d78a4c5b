// libFuzzer harness: a Graft skeleton JSON next to the fixtures' real leaves files. The skeleton
// is parsed by simdjson (strictjsondom.h); the input also goes to parseStrictJson (QJsonDocument)
// and the two must agree: what the DOM accepts Qt accepts, a repeated key is found by both with
// one message, and any text both refuse gets one message (Qt's). Only Qt may accept more (an
// integer beyond 64 bits, an unknown escape: tst_strictjson).
#include "fuzzcommon.h"
#include "base/strictjson.h"
#include "base/strictjsondom.h"
#include "checkpoint/formats/readers.h"

#include <cstdio>
#include <cstdlib>

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bool leaves = [] {
        fuzz::copyFixture(QStringLiteral("tiny_vgg.eqx"));
        fuzz::copyFixture(QStringLiteral("bf16_skeleton.eqx"));
        return true;
    }();
    (void)leaves;
    const QByteArray bytes(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const Result<QJsonDocument> qt = parseStrictJson(bytes);
    const Result<std::unique_ptr<JsonDom>> dom = parseStrictJsonDom(bytes);
    const bool qtRepeat = !qt && qt.error().message.startsWith(QStringLiteral("duplicate key"));
    const bool domRepeat = !dom && dom.error().message.startsWith(QStringLiteral("duplicate key"));
    if ((dom && !qt) || qtRepeat != domRepeat || (!qt && !dom && !qtRepeat && dom.error().message != qt.error().message)) {
        std::fprintf(stderr, "strict JSON parsers disagree: Qt '%s', simdjson '%s'\n",
                     qPrintable(qt ? QStringLiteral("accepted") : qt.error().message),
                     qPrintable(dom ? QStringLiteral("accepted") : dom.error().message));
        std::abort();
    }
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.skeleton.json"));
    Result<Checkpoint> checkpoint = readSkeleton(path);
    if (checkpoint)
        fuzz::exercise(*checkpoint);
    return 0;
}
