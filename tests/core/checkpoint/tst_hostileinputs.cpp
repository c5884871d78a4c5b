// The hostile-input suite: one generated file per corruption kind for every format, opened the
// way a user opens it (openCheckpoint, loadProfile, graft-cli inspect). Each must be refused
// with an error naming the file, in bounded time and memory, writing nothing and running
// nothing. Kinds the per-reader tables already cover are not repeated here:
//   tst_pickle::hostilePickles (empty, no STOP, unknown opcode, huge memo index, ...),
//   tst_pickle::deepNestingIsRefused, tst_pickle::globalsAreNeverCalled (os.system on raw bytes),
//   tst_safetensorsreader (header length lies, deep nesting, duplicate names, dim overflow,
//     offsets outside / overlapping / holes, index shards), tst_npyformat + tst_npyreader +
//   tst_npzreader + tst_eqxreader (header length lies, dim overflow, unknown dtypes, ...).
// Here: the same attacks through the containers that had no table (torch zip, legacy torch,
// skeleton and profile JSON, zip directory lies, pickled models and TorchScript archives),
// truncation at every 1/16th and flipped bytes of each fixture, wrong magic, empty files,
// directories, unreadable files, and the CLI.

#include "checkpoint/checkpointopener.h"
#include "hostilebuilders.h"
#include "hostileinput.h"
#include "modulehostile.h"
#include "mapping/profile.h"
#include "msgpackbuilder.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>
#include <unistd.h>

using namespace graft;
using namespace graft::test;
using namespace graft::test::hostile;

namespace {

enum class Reader { Open, Profile };
// MayOpen: a mutation that can leave a valid file; Opens: must open (a payload stays an inert name).
enum class Outcome { Refused, MayOpen, Opens };

const QString kFixtures = QStringLiteral(GRAFT_FIXTURE_DIR);

QByteArray fixture(const QString &name) { return readBytes(kFixtures + QLatin1Char('/') + name); }

long maxRssMegabytes()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}

QStringList listing(const QString &dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace

class TestHostileInputs : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void templatesAreValid();
    void hostileFiles_data();
    void hostileFiles();
    void directoriesAreRefused_data();
    void directoriesAreRefused();
    void unreadableFileIsRefused();
    void cliRefusesHostileFiles_data();
    void cliRefusesHostileFiles();
    void cleanupTestCase();

private:
    void addCase(const char *name, const QString &fileName, const QByteArray &bytes, const QString &message,
                 Outcome outcome = Outcome::Refused, Reader reader = Reader::Open);

    QTemporaryDir m_dir;
    QString m_marker;    // a payload that ran would create this file
    long m_rssAtStart = 0;
    int m_cases = 0;
    int m_casesWithText = 0; // rows asserting the error (or, for Opens, the listing) text
};

void TestHostileInputs::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_marker = m_dir.filePath(QStringLiteral("PWNED"));
    m_rssAtStart = maxRssMegabytes();
    // Companions: the skeleton's leaves file, the index's shards.
    QVERIFY(QFile::copy(kFixtures + "/tiny_vgg.eqx", m_dir.filePath("tiny_vgg.eqx")));
    QVERIFY(QFile::copy(kFixtures + "/sharded/model-00001-of-00002.safetensors", m_dir.filePath("model-00001-of-00002.safetensors")));
    QVERIFY(QFile::copy(kFixtures + "/sharded/model-00002-of-00002.safetensors", m_dir.filePath("model-00002-of-00002.safetensors")));
}

// The hand-built containers open when nothing is wrong with them, so the hostile rows below fail
// for the reason they were built for.
void TestHostileInputs::templatesAreValid()
{
    const QString zipPath = writeFile(m_dir, "valid.pth", torchZip(dictPickle({{"w", tensor(16, 0, {4, 4}, {4, 1})}})));
    Result<Checkpoint> zip = openCheckpoint(zipPath);
    QVERIFY2(zip.ok(), zip.ok() ? "" : qPrintable(zip.error().message));
    QCOMPARE(zip->tensors().size(), size_t(1));
    const QString legacyPath = writeFile(m_dir, "valid_legacy.pth", legacyTorch(dictPickle({{"w", tensor(16, 0, {4, 4}, {4, 1})}})));
    Result<Checkpoint> legacy = openCheckpoint(legacyPath);
    QVERIFY2(legacy.ok(), legacy.ok() ? "" : qPrintable(legacy.error().message));
    QCOMPARE(legacy->tensors().size(), size_t(1));
    const QByteArray member = npyHeader("<f4", "(4,)") + QByteArray(16, '\0');
    const QString npzPath = writeFile(m_dir, "valid.npz", deflatedZip("a.npy", member, quint64(member.size())));
    Result<Checkpoint> npz = openCheckpoint(npzPath);
    QVERIFY2(npz.ok(), npz.ok() ? "" : qPrintable(npz.error().message));
    QFile::remove(zipPath);
    QFile::remove(legacyPath);
    QFile::remove(npzPath);
}

void TestHostileInputs::addCase(const char *name, const QString &fileName, const QByteArray &bytes,
                                const QString &message, Outcome outcome, Reader reader)
{
    QTest::newRow(name) << fileName << bytes << message << int(outcome) << int(reader);
    ++m_cases;
    if (!message.isEmpty())
        ++m_casesWithText;
}

void TestHostileInputs::hostileFiles_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("bytes");
    // Refused: a part of the error. Opens: a part of the listing ("key type summary" lines).
    // Empty only for the generated truncations and flips, whose outcome depends on the cut.
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<int>("reader");

    // Truncated at every 1/16th, and 16 seeds of 1-4 flipped bytes in the first 4 KiB.
    struct Source { const char *fixture; const char *fileName; bool truncationMayBeValid; Reader reader; };
    const Source sources[] = {
        {"tiny_vgg.pth", "t.pth", false, Reader::Open},
        {"module_wrapped.pth", "t.pth", false, Reader::Open},
        {"script_custom.pt", "t.pt", false, Reader::Open},
        {"legacy_dtypes.pth", "t.pth", false, Reader::Open},
        {"tiny_vgg.safetensors", "t.safetensors", false, Reader::Open},
        {"v1.npy", "t.npy", false, Reader::Open},
        {"stored.npz", "t.npz", false, Reader::Open},
        {"deflated.npz", "t.npz", false, Reader::Open},
        {"tiny_vgg.eqx", "t.eqx", true, Reader::Open}, // an .eqx has no count: a record boundary is a valid end
        {"tiny_vgg.skeleton.json", "t.skeleton.json", false, Reader::Open},
        {"sharded/model.safetensors.index.json", "t.safetensors.index.json", false, Reader::Open},
        {"flax_mixed.msgpack", "t.msgpack", false, Reader::Open},
        {"flax_chunked.msgpack", "t.msgpack", false, Reader::Open},
    };
    for (const Source &source : sources) {
        const QByteArray bytes = fixture(QLatin1String(source.fixture));
        QVERIFY2(!bytes.isEmpty(), source.fixture);
        for (int k = 0; k < 16; ++k) {
            const QByteArray name = QByteArray(source.fixture) + " truncated at " + QByteArray::number(k) + "/16";
            addCase(name.constData(), QLatin1String(source.fileName), bytes.left(bytes.size() * k / 16), QString(),
                    source.truncationMayBeValid && k > 0 ? Outcome::MayOpen : Outcome::Refused, source.reader);
        }
        for (quint32 seed = 1; seed <= 16; ++seed) {
            QRandomGenerator random(seed);
            QByteArray flipped = bytes;
            const int flips = 1 + int(random.bounded(4));
            for (int i = 0; i < flips; ++i)
                flipped[int(random.bounded(qMin<qsizetype>(flipped.size(), 4096)))] ^= char(1 + random.bounded(255));
            const QByteArray name = QByteArray(source.fixture) + " flipped, seed " + QByteArray::number(seed);
            addCase(name.constData(), QLatin1String(source.fileName), flipped, QString(), Outcome::MayOpen, source.reader);
        }
    }

    // Torch zip: the unpickler's attacks through the container, and tensor records that lie.
    const QByteArray w = "w";
    addCase("zip: dim product overflow", "t.pth", torchZip(dictPickle({{w, tensor(16, 0, {qint64(1) << 40, qint64(1) << 40}, {qint64(1) << 40, 1})}})), "shape [1099511627776, 1099511627776] is invalid or its size overflows");
    addCase("zip: huge dims past the storage", "t.pth", torchZip(dictPickle({{w, tensor(16, 0, {1000000, 1000000}, {1000000, 1})}})), "data lies beyond the end of its storage");
    addCase("zip: storage offset outside", "t.pth", torchZip(dictPickle({{w, tensor(16, 1000000000000, {4}, {1})}})), "needs 16 bytes at offset 4000000000000 but its storage holds 64");
    addCase("zip: storage numel past its record", "t.pth", torchZip(dictPickle({{w, tensor(1 << 30, 0, {4}, {1})}})), "declares 1073741824 elements of 4 bytes, but its record holds 64 bytes");
    addCase("zip: negative dim", "t.pth", torchZip(dictPickle({{w, tensor(16, 0, {-4}, {1})}})), "shape [-4] is invalid");
    // torch forbids negative strides (and npy cannot express them): refused, not reversed.
    addCase("zip: negative stride", "t.pth", torchZip(dictPickle({{w, tensor(16, 4, {4}, {-1})}})), "tensor 'w': negative stride");
    // Python keeps the last of repeated dict keys, Graft would have shown the first: refused.
    addCase("zip: duplicate keys", "t.pth", torchZip(dictPickle({{w, tensor(16, 0, {4}, {1})}, {w, tensor(16, 4, {4}, {1})}})), "tensor 'w' appears twice");
    addCase("zip: deep nesting", "t.pth", torchZip(deepPickle()), "nested deeper than");
    addCase("zip: billion laughs, (x, x) 40 levels deep", "t.pth", torchZip(dictPickle({{w, tensor(16, 0, {4}, {1})}, {"laughs", laughs()}})), "billion laughs");
    addCase("zip: keys of 1000 characters for 10,000 memo references", "t.pth", torchZip(dictPickle({{w, longKeys(500, 10'000)}})),
            "flattened keys would take more than");
    addCase("zip: huge memo index", "t.pth", torchZip(QByteArray("\x80\x02j\xff\xff\xff\xff.", 8)), "memo entry");
    addCase("zip: unknown opcode", "t.pth", torchZip(QByteArray("\x80\x02\xff", 3)), "unknown or unsupported opcode");
    addCase("zip: data.pkl truncated", "t.pth", torchZip(QByteArray("\x80\x02}(", 4)), "ends before STOP");
    addCase("zip: no data.pkl", "t.pth", storedZip({{"archive/data/0", QByteArray(64, '\0')}}), "holds no .npy arrays and no data.pkl");
    addCase("zip: missing storage record", "t.pth", storedZip({{"archive/data.pkl", dictPickle({{w, tensor(16, 0, {4}, {1})}})}}), "storage '0' is missing from the archive");
    // __reduce__ payloads: the call must stay a name in the tree, whatever the outcome.
    const QByteArray touch = "touch " + m_marker.toUtf8();
    const QByteArray python = "open('" + m_marker.toUtf8() + "', 'w')";
    addCase("zip: os.system", "t.pth", torchZip(reduceCall("os", "system", touch)), "os.system system('touch ", Outcome::Opens);
    addCase("zip: posix.system", "t.pth", torchZip(reduceCall("posix", "system", touch)), "posix.system system('touch ", Outcome::Opens);
    addCase("zip: subprocess.Popen", "t.pth", torchZip(reduceCall("subprocess", "Popen", touch)), "subprocess.Popen Popen('touch ", Outcome::Opens);
    addCase("zip: builtins.eval", "t.pth", torchZip(reduceCall("builtins", "eval", python)), "builtins.eval eval('open(", Outcome::Opens);
    addCase("zip: builtins.exec", "t.pth", torchZip(reduceCall("builtins", "exec", python)), "builtins.exec exec('open(", Outcome::Opens);
    addCase("zip: __builtin__.eval (protocol 0)", "t.pth", torchZip("c__builtin__\neval\n(V" + python + "\ntR."), "__builtin__.eval eval('open(", Outcome::Opens);
    addCase("zip: INST os.system", "t.pth", torchZip("(S'" + touch + "'\nios\nsystem\n."), "os.system system('touch ", Outcome::Opens);
    addCase("zip: OBJ subprocess.Popen", "t.pth", torchZip(QByteArray("\x80\x02(", 3) + global("subprocess", "Popen") + str(touch) + "o."), "subprocess.Popen Popen('touch ", Outcome::Opens);
    addCase("zip: STACK_GLOBAL os.system", "t.pth", torchZip(QByteArray("\x80\x04", 2) + str("os") + str("system") + "\x93" + str(touch) + "\x85R."), "os.system system('touch ", Outcome::Opens);
    addCase("zip: BUILD __setstate__", "t.pth", torchZip(QByteArray("\x80\x02", 2) + global("os", "system") + ")\x81}(" + str("__setstate__") + global("os", "system") + "ub."), "os.system system(__setstate__=os.system)", Outcome::Opens);
    addCase("zip: os.system in a state dict", "t.pth", torchZip(dictPickle({{w, global("os", "system") + str(touch) + "\x85R"}})), "w os.system system('touch ", Outcome::Opens);
    // Pickled models and TorchScript archives (modulehostile.h).
    for (const ModuleCase &module : moduleCases())
        addCase(module.name, QLatin1String(module.fileName), module.bytes, module.message);
    // Zip directory lies.
    QByteArray centralOutside = torchZip(dictPickle({{w, tensor(16, 0, {4}, {1})}}));
    centralOutside.replace(centralOutside.size() - 6, 4, le(0x7fffff00, 4));
    addCase("zip: central directory outside the file", "t.pth", centralOutside, "outside");
    QByteArray localOutside = storedZip({{"archive/data.pkl", dictPickle({{w, tensor(16, 0, {4}, {1})}})}});
    localOutside.replace(localOutside.indexOf(QByteArray("PK\x01\x02", 4)) + 42, 4, le(0x7fffff00, 4));
    addCase("zip: local header offset outside", "t.pth", localOutside, "entry 'archive/data.pkl' declares sizes or offsets beyond the file");
    addCase("zip: duplicate member names", "t.pth", storedZip({{"archive/data.pkl", dictPickle({})}, {"archive/data.pkl", dictPickle({})}}), "duplicate entry");
    addCase("zip: ZIP64 size lie", "t.pth", storedZip({{"archive/data.pkl", dictPickle({})}}, true, quint64(1) << 62), "entry 'archive/data.pkl' declares sizes or offsets beyond the file");
    QByteArray locatorLie = storedZip({{"archive/data.pkl", dictPickle({})}});
    locatorLie.insert(locatorLie.size() - 22, le(0x07064b50, 4) + le(0, 4) + le(quint64(1) << 60, 8) + le(1, 4));
    locatorLie.replace(locatorLie.size() - 12, 4, le(0xffffffff, 4)); // central size 0xFFFFFFFF: "see ZIP64"
    addCase("zip: ZIP64 locator outside the file", "t.pth", locatorLie, "ZIP64 end record offset 1152921504606846976 is out of range");
    QByteArray manyEntries = storedZip({{"a.npy", npyHeader("<f4", "(1,)") + QByteArray(4, '\0')}});
    manyEntries.replace(manyEntries.size() - 14, 4, le(0xffffffff, 4)); // 65535 entries declared, twice
    addCase("zip: entry count lie", "t.npz", manyEntries, "ZIP64 archive without a ZIP64 end record");
    addCase("zip bomb: 1 KiB declared as 4 GiB", "t.npz", deflatedZip("a.npy", npyHeader("|u1", "(4294967000,)") + QByteArray(1000, '\0'), 0xffffff00), "declares 4294967040 bytes, more than deflate can produce from");
    addCase("zip bomb: header inflates past its member", "t.npz", deflatedZip("a.npy", npyHeader("|u1", "(1000000000,)") + QByteArray(1 << 20, '\0'), (1 << 20) + 64), "needs 1000000000 bytes after the 128-byte header");
    addCase("zip bomb: 16 MiB of zeros, declared honestly", "t.npz", deflatedZip("a.npy", npyHeader("|u1", "(16777216,)") + QByteArray(16 << 20, '\0'), (16 << 20) + 128), "a uint8 [16777216]", Outcome::Opens);

    // Fuzz findings (fuzz/run.sh HARNESS SECONDS), each crashing input verbatim.
    // fuzz_torchzip, oom-1279ffc5f64fd145146bb893f5f183ff2bedd8fd: a 1497-byte torch zip whose
    // data.pkl is deflated (method 8) with 0 compressed bytes declaring 2 GiB; inflateRaw()
    // allocated the declared size before inflating. Now refused: deflate expands at most 1032:1.
    const QByteArray fuzzTorchZipOom = QByteArray::fromBase64(
        "UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAPABMAbmVzdGVkL2RhdGEucGtsRkIPAFpaWlpaWlpaWlpaWlpaWoACfXEA"
        "KFgGAAAAbGF5ZXJzcQFdcQIoY3RvcmNoLl91dGlscwpfcmVidWlsZF90ZW5zb3JfdjIKcQMoKFgHAAAAc3RvcmFnZXEE"
        "Y3RvcmNoCkZsb2F0U3RvcmFnZQpxBVgBAAAAMHEGWAMAAABjcHVxB0sCdHEIUUsASwKFcQlLAYVxColjY29sbGVjdGlv"
        "bnMKT3JkZXJlZERpY3QKcQspUnEMdHENUnEOaAMoKGgEaAVYAQAAADJxD2gHSwN0cRBRSwBLA4VxEUsBhXESiWgLKVJx"
        "E3RxFFJxFWgDKChoBGgFWAEAAAAxcRZoB0sCdHEXUUsASwFLAoZxGEsCSwGGcRmJaAspUnEadHEbUnEchnEdZVgEAAAA"
        "bWV0YXEefXEfKFgEAAAAc3RlcHEgSwdYAwAAAGVtYXEhfXEiWAEAAAB3cSNoAygoaARoBVgBAAAAM3EkaAdLBHRxJVFL"
        "AEsCSwKGcSZLAksBhnEniWgLKVJxKHRxKVJxKnN1dS5QSwcI/hSeeH4BAAB+AQAAUEsDBAAACAgAAAAAAAAAAAAAAAAA"
        "AAAAAAANAAcAbmVzdGWc0JuodGEvMEZCAwBaWlrB5Io+/e6iv1BLBwg7aGSVCAAAAAgAAABQSwMEAAAICAAAAAAAAAAA"
        "AAAAAAAAAAAAAA0APQBuZXN0ZWQvZGF0YS8xRkI5AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
        "WlpaWlpaWlpaWlpaWlpaWlpaWsGwAD+sDtY+CrEjv1BLBwjk/ionDAAAAAwAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAA"
        "AAAAAA0AOQBuZXN0ZWQvZGF0YS8yRkI1AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
        "WlpaWlpaWlpaRSgpvwDBEr5QSwcID715jggAAAAIAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAANAD0AbmVzdGVk"
        "L2RhdGEvM0ZCOQBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlr1"
        "otW9JwDEv769IT9YIay/UEsHCP2DfDIQAAAAEAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgA0AG5lc3RlZC92"
        "ZXJzaW9uRkIwAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjMKUEsHCNGeZ1UC"
        "AAAAAgAAAFBLAQIAAAAAAAAIAAgAAAD+FAEAAAAAAAAAAIAPAAAAAAAAAAAAAAAAAAAAAABuZXN0ZWQvZGF0YS5wa2xQ"
        "SwECAAAAAAgIAAAAAAAAO2hklQgAAAAIAAAADQAAAAAAAAAAAAAAAADOAQAAbmVzdGVkL2RhdGEvMFBLAQIAAAAACAgA"
        "AAAAAADk/ionDAAAAAwAAAANAAAAAAAACQAAAAAAABgCAABuZXN0ZWQvZGF0YS8xUEsBAgAAAAAICAAAAAAAAA+9eY4I"
        "AAAACAAAAA0AAAAAAAAAAAAAAAAAnAIAAG5lc3RlZC9kYXRhLzJQSwECAAAAAAgIAAAAAAAA/YN8MhAAAAAQAAAADQAA"
        "AAAAAAAAAAAAAAAYAwAAbmVzdGVkL2RhdGEvM1BLAQIAAAAACAgAAAAAAADRnmdVAgAAAAIAAAAOAAAAAAAAAAAAAAAA"
        "AKADAABuZXN0ZWQvdmVyc2lvblBLBgYsAAAAAAAAAB4DLQAAAAAAAAAAAAYAAAAAAAAABgAAAAAAAABlAQAAAAAAABIE"
        "AAAAAAAAUEsGBwAAAAB3BQAAAAAAAAEAAABQSwUGAAAAAAYABgBlAQAAEgQAAAAA");
    addCase("fuzz: torchzip oom-1279ffc5, data.pkl declares 2 GiB", "t.pth", fuzzTorchZipOom,
            "0 compressed bytes cannot inflate to the 2147483648 bytes declared");
    // fuzz_npz, crash-8aeffabbee511f81589e5fde6bf3ca5667be335c: an npz whose a.npy is a big-endian
    // '>f4' of shape (0, 3); reading it passed a null pointer to memcpy (0 bytes: undefined, UBSan
    // aborts). It may open; every tensor it lists is read back by hostileFiles().
    const QByteArray fuzzNpzEmptyBigEndian = QByteArray::fromBase64(
        "UEsDBBQAAAAIAAAAIQDCMpU3YAAAAJgAAAAFABQAYS5ucHkBABAAmAAAAAAAAABgAAAAAAAAAJvsF+obEMnIUMZQrZ6S"
        "WpxcpG6loG6XZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GgY6CsaaOgq1CmQDrperGR2uGHEfYLBgPbA8"
        "fPF+8VkC9nsfP7UHAFBLAwQUAAAACAAAACEAl4Sk+FMAAACMAAAABQAUAGIubnB5AQAQAIwAAAAAAAAAUwAAAAAAAACb"
        "7BfqGxDJyFDGUK2eklqcXKRupaBuk2akrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOgpGmjoKtQpkAy6G"
        "gwz7GP7/////////AFBLAwQUAAAACAAAACEAGW5iK1AAAACoAAAABQAUAGMubnB5AQAQAKgAAAAAAAAAUAAAAAAAAACb"
        "7BfqGxDJyFDGUK2eklqcXKRupaBul2mhrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RqmOpo6CrUKFAAuBhD4"
        "jwAMUMDOgAIcAFBLAQIUAxQAAAAIAAAAIQDCMpU3YAAAAJgAAAAFAAAAAAAAAAAAAACAAQAAAABhLm5weVBLAQIUAxQA"
        "AAAIAAAAIQCXhKT4UwAAAIwAAAAFAAAAAAAAAAAAAACAAZcAAABiLm5weVBLAQIUAxQAAAAIAAAAIQAZbmIrUAAAAKgA"
        "AAAFAAAAAAAAAAAAAACAASEBAABjLm5weVBLBQYAAAAAAwADAJkAAACoAQAAAAA=");
    addCase("fuzz: npz crash-8aeffabb, empty big-endian member", "t.npz", fuzzNpzEmptyBigEndian, "a float32 [0, 3]", Outcome::Opens);
    // Found by the eqx fuzzer: a record whose shape holds a 0 (so it is empty) beside dims whose
    // product overflows int64; deriving its strides overflowed (UBSan). Refused like numpy does.
    const QByteArray fuzzEqxZeroDimOverflow = QByteArray::fromBase64(
        "k05VTVBZAQCAAHsnZGVzY3InOic8aTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoOSwgMyw4LDMs"
        "ICA1LCAzLDgsIDMsIDIsIDAsIDMwMiwgMywgMzAxMTExMTExMTExLCAyLDgsIDMsIDMsIDcpLCB9ICAgIAkgICAgICAg");
    addCase("fuzz: eqx crash-1caea01f, empty shape whose other dims overflow", "t.eqx", fuzzEqxZeroDimOverflow, "is too large");
    // Found by the torchpickle fuzzer (round 3, a "slow unit": 11 s under ASan): 150 bytes of
    // dicts and tuples shared through DUP, whose summaries (every other entry gets one) walked
    // every shared path. Summaries now stop after 64 values; the walk has a budget.
    const QByteArray fuzzTorchPickleSharedSummaries = QByteArray::fromBase64(
        "gAJ9cQAoWAYAAABsYYWFhSeFhZWFhYWFhYWFhYWFYwp1CoWFhYWFhYWVhYWFhYUyMjIwMDIyMjIyMjIyMjIyMjIyMjIy"
        "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyhYWFhYWF"
        "hYWFhYhKKix99XUu");
    addCase("fuzz: torchpickle slow-unit-6fedd66e, summaries of shared objects", "t.pth",
            torchZip(fuzzTorchPickleSharedSummaries), "True int -176346070", Outcome::Opens);

    // Legacy torch: the same attacks in the object pickle of the chain.
    addCase("legacy: dim product overflow", "t.pth", legacyTorch(dictPickle({{w, tensor(16, 0, {qint64(1) << 40, qint64(1) << 40}, {qint64(1) << 40, 1})}})), "shape [1099511627776, 1099511627776] is invalid or its size overflows");
    addCase("legacy: storage offset outside", "t.pth", legacyTorch(dictPickle({{w, tensor(16, 1000000000000, {4}, {1})}})), "needs 16 bytes at offset 4000000000000 but its storage holds 64");
    addCase("legacy: storage size lie", "t.pth", legacyTorch(dictPickle({{w, tensor(1 << 30, 0, {4}, {1})}})), "holds 16 elements, but the pickle declares 1073741824");
    addCase("legacy: deep nesting", "t.pth", legacyTorch(deepPickle()), "nested deeper than");
    addCase("legacy: billion laughs, (x, x) 40 levels deep", "t.pth", legacyTorch(dictPickle({{w, tensor(16, 0, {4}, {1})}, {"laughs", laughs()}})), "billion laughs");
    addCase("legacy: huge memo index", "t.pth", legacyTorch(QByteArray("\x80\x02j\xff\xff\xff\xff.", 8)), "memo entry");
    addCase("legacy: unknown opcode", "t.pth", legacyTorch(QByteArray("\x80\x02\xff", 3)), "unknown or unsupported opcode");
    // The payload is the whole object pickle, so the listed storage is never used: refused for that.
    addCase("legacy: os.system", "t.pth", legacyTorch(reduceCall("os", "system", touch)), "storage '0' is listed but never used");
    addCase("legacy: builtins.eval", "t.pth", legacyTorch(reduceCall("builtins", "eval", python)), "storage '0' is listed but never used");
    QByteArray wrongMagicNumber = legacyTorch(dictPickle({{w, tensor(16, 0, {4}, {1})}}));
    wrongMagicNumber[5] = char(0x00);
    addCase("legacy: wrong magic number", "t.pth", wrongMagicNumber, "legacy torch file: wrong magic number");
    QByteArray storageCountLie = legacyTorch(dictPickle({{w, tensor(16, 0, {4}, {1})}}));
    storageCountLie.replace(storageCountLie.size() - 64 - 8, 8, le(quint64(1) << 62, 8));
    addCase("legacy: storage length lie", "t.pth", storageCountLie, "claims 4611686018427387904 elements, more than the file holds");

    // Flax msgpack: the reader's own table is tst_msgpackreader; here the attacks on memory and time.
    namespace mp = graft::test::msgpack;
    const QByteArray leaf = mp::array({4}, "float32", QByteArray(16, '\0'));
    addCase("msgpack: depth bomb, 100,000 nested maps", "t.msgpack", QByteArray("\x81\xa1" "a").repeated(100'000) + leaf, "nested deeper than 64");
    addCase("msgpack: depth bomb in a list", "t.msgpack", mp::map({{"w", leaf}, {"l", QByteArray("\x91", 1).repeated(100'000) + "\xc0"}}), "nested deeper than");
    addCase("msgpack: 2^32-1 entries declared", "t.msgpack", mp::mapHeader(0xffffffff) + mp::str("a") + leaf, "elements, but only");
    addCase("msgpack: 4 GiB key declared", "t.msgpack", mp::mapHeader(1) + char(0xdb) + mp::bigEndian(0xffffffff, 4) + "a", "truncated or a length lie");
    addCase("msgpack: 4 GiB array declared in 16 bytes", "t.msgpack", mp::map({{"w", mp::array({quint64(1) << 30}, "float32", QByteArray(16, '\0'))}}),
            "needs 4294967296 bytes, but the array holds 16");
    addCase("msgpack: chunked array whose shape lies", "t.msgpack",
            mp::map({{"w", mp::map({{"__msgpack_chunked_array__", "\xc3"}, {"shape", mp::map({{"0", mp::uint(quint64(1) << 40)}})}, {"chunks", mp::map({{"0", leaf}})}})}}),
            "does not hold the 4 elements");
    addCase("msgpack: duplicate keys", "t.msgpack", mp::map({{"w", leaf}, {"w", leaf}}), "appears twice");
    addCase("msgpack: non-string key", "t.msgpack", mp::mapHeader(1) + mp::uint(7) + leaf, "has a int key");
    QByteArray manyKeys = mp::mapHeader(200'000);
    for (int i = 0; i < 200'000; ++i)
        manyKeys += mp::str(QByteArray::number(i)) + "\xc0";
    addCase("msgpack: 200,000 keys of 60,000 characters' paths", "t.msgpack", mp::map({{QByteArray(60'000, 'k'), manyKeys}}),
            "the key paths would take more than");

    // JSON kinds: deep nesting, duplicate keys, lies about companions.
    const QByteArray deepJson = QByteArray(100'000, '[') + QByteArray(100'000, ']');
    const QByteArray skeleton = fixture("tiny_vgg.skeleton.json");
    addCase("skeleton: deep nesting", "t.skeleton.json", deepJson, "too deeply nested document");
    addCase("skeleton: deep nesting in a leaf", "t.skeleton.json", QByteArray(skeleton).replace("\"kind\": \"array\"", "\"kind\": " + deepJson), "too deeply nested document");
    addCase("skeleton: duplicate keys", "t.skeleton.json", QByteArray(skeleton).replace("{\"format\"", "{\"leaves_file\": \"x.eqx\", \"format\""), "duplicate key 'leaves_file'");
    addCase("skeleton: huge dims", "t.skeleton.json", QByteArray(skeleton).replace("[8, 3, 3, 3]", "[4611686018427387904, 4611686018427387904]"), "[4611686018427387904, 4611686018427387904] in the skeleton");
    addCase("skeleton: leaves file is itself", "t.skeleton.json", QByteArray(skeleton).replace("tiny_vgg.eqx", "t.skeleton.json"), "trailing bytes at offset 0 after 0 records are not an .npy record");
    addCase("skeleton: leaves file is a folder", "t.skeleton.json", QByteArray(skeleton).replace("tiny_vgg.eqx", "."), "is a directory, not a checkpoint file");
    addCase("skeleton: leaves file outside (absolute)", "t.skeleton.json", QByteArray(skeleton).replace("tiny_vgg.eqx", "/etc/passwd"), "leaves_file '/etc/passwd' is an absolute path");
    const QByteArray index = fixture("sharded/model.safetensors.index.json");
    addCase("index: deep nesting", "t.safetensors.index.json", deepJson, "too deeply nested document");
    addCase("index: shard is the index itself", "t.safetensors.index.json", QByteArray(index).replace("model-00001-of-00002.safetensors", "t.safetensors.index.json"), "exceeds the limit of 100000000 bytes");
    addCase("index: shard is a folder", "t.safetensors.index.json", QByteArray(index).replace("model-00001-of-00002.safetensors", "."), "is a directory, not a checkpoint file");
    addCase("index: duplicate top-level keys", "t.safetensors.index.json", QByteArray(index).replace("{", "{\"weight_map\": {}, "), "duplicate key 'weight_map'");
    addCase("profile: empty", "t.graftprofile", QByteArray(), "not valid JSON: illegal value at byte 0", Outcome::Refused, Reader::Profile);
    addCase("profile: deep nesting", "t.graftprofile", deepJson, "too deeply nested document", Outcome::Refused, Reader::Profile);
    addCase("profile: deep object nesting", "t.graftprofile", QByteArray(100'000, '{').replace("{", "{\"a\":") , "too deeply nested document", Outcome::Refused, Reader::Profile);
    addCase("profile: duplicate keys", "t.graftprofile", "{\"format\": \"graft-profile\", \"version\": 1, \"version\": 1, \"mappings\": []}", "duplicate key 'version'", Outcome::Refused, Reader::Profile);
    addCase("profile: binary", "t.graftprofile", fixture("tiny_vgg.pth").left(4096), "not valid JSON: illegal value at byte 1", Outcome::Refused, Reader::Profile);

    // Wrong magic and empty files, per extension.
    auto withFirstByte = [](QByteArray bytes, char byte) { bytes[0] = byte; return bytes; };
    addCase("wrong magic: zip", "t.pth", withFirstByte(fixture("tiny_vgg.pth"), 'Q'), "not a recognised checkpoint");
    addCase("wrong magic: npy", "t.npy", QByteArray(fixture("v1.npy")).replace(5, 1, "Z"), "not a recognised checkpoint");
    addCase("wrong magic: legacy", "t.pth", withFirstByte(fixture("legacy_dtypes.pth"), '\x81'), "not a recognised checkpoint");
    addCase("wrong magic: safetensors size", "t.safetensors", QByteArray(fixture("tiny_vgg.safetensors")).replace(7, 1, "\x7f"), "not a recognised checkpoint");
    addCase("wrong magic: eqx", "t.eqx", withFirstByte(fixture("tiny_vgg.eqx"), '\x94'), "not a recognised checkpoint");
    for (const char *name : {"e.pth", "e.safetensors", "e.npy", "e.npz", "e.eqx", "e.skeleton.json", "e.safetensors.index.json", "e"})
        addCase((QByteArray("empty file ") + name).constData(), QLatin1String(name), QByteArray(), QStringLiteral("the file is empty"));
}

void TestHostileInputs::hostileFiles()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QFETCH(int, outcome);
    QFETCH(int, reader);

    const QString path = writeFile(m_dir, fileName, bytes);
    QVERIFY(!path.isEmpty());
    const QStringList before = listing(m_dir.path());
    QElapsedTimer timer;
    timer.start();
    QString error;
    QString errorFile;
    QStringList listed; // what an opened file lists, one "key type summary" line per entry
    bool opened = false;
    if (Reader(reader) == Reader::Profile) {
        Result<Profile> profile = loadProfile(path);
        opened = profile.ok();
        if (!opened) {
            error = profile.error().message;
            errorFile = profile.error().file;
        }
    } else {
        Result<Checkpoint> checkpoint = openCheckpoint(path);
        opened = checkpoint.ok();
        if (opened) {
            // Whatever was accepted must also read back safely (bounded: skip huge tensors).
            for (size_t i = 0; i < checkpoint->tensors().size(); ++i)
                if (checkpoint->tensors()[i].nbytes() <= (64 << 20))
                    (void)checkpoint->read(int(i));
            for (const TensorEntry &tensor : checkpoint->tensors())
                listed << tensor.key + QLatin1Char(' ') + dtypeName(tensor.dtype) + QLatin1Char(' ') + shapeToString(tensor.shape);
            for (const OtherEntry &other : checkpoint->others())
                listed << other.key + QLatin1Char(' ') + other.type + QLatin1Char(' ') + other.summary;
        } else {
            error = checkpoint.error().message;
            errorFile = checkpoint.error().file;
        }
    }
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(elapsed < 2000, qPrintable(QStringLiteral("took %1 ms").arg(elapsed)));
    if (Outcome(outcome) == Outcome::Refused)
        QVERIFY2(!opened, "a hostile file was accepted");
    if (Outcome(outcome) == Outcome::Opens) {
        QVERIFY2(opened, qPrintable(error));
        QVERIFY2(listed.join(QLatin1Char('\n')).contains(message), qPrintable(listed.join(QLatin1Char('\n')).left(2000)));
    }
    if (!opened) {
        // The error names the file it is about: the input, or (skeletons, indexes) a companion.
        QVERIFY2(errorFile == path || QFileInfo(errorFile).absolutePath() == QFileInfo(path).absolutePath()
                     || errorFile.startsWith(QLatin1Char('/')),
                 qPrintable(errorFile));
        if (Reader(reader) == Reader::Profile || !fileName.contains(QLatin1String(".json")))
            QCOMPARE(errorFile, path);
        QVERIFY(!error.trimmed().isEmpty());
        if (!message.isEmpty() && Outcome(outcome) != Outcome::Opens)
            QVERIFY2(error.contains(message), qPrintable(error));
    }
    QVERIFY2(!QFile::exists(m_marker), "a pickled payload ran");
    QCOMPARE(listing(m_dir.path()), before); // nothing written beside the input
    QFile::remove(path);
}

void TestHostileInputs::directoriesAreRefused_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("folder") << QStringLiteral("folder");
    QTest::newRow("folder named .pth") << QStringLiteral("folder.pth");
    QTest::newRow("folder named .json") << QStringLiteral("folder.skeleton.json");
    QTest::newRow("folder named .index.json") << QStringLiteral("folder.safetensors.index.json");
}

void TestHostileInputs::directoriesAreRefused()
{
    QFETCH(QString, name);
    const QString path = m_dir.filePath(name);
    QVERIFY(QDir().mkpath(path));
    Result<Checkpoint> result = openCheckpoint(path);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().file, path);
    QVERIFY(!result.error().message.isEmpty());
    Result<Profile> profile = loadProfile(path);
    QVERIFY(!profile.ok());
    QCOMPARE(profile.error().file, path);
    QDir(path).removeRecursively();
}

void TestHostileInputs::unreadableFileIsRefused()
{
    const QString path = writeFile(m_dir, "unreadable.pth", fixture("tiny_vgg.pth"));
    QVERIFY(QFile::setPermissions(path, QFileDevice::Permissions()));
    QFile probe(path);
    if (probe.open(QIODevice::ReadOnly)) {
        QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        QSKIP("permissions do not stop this user (root or CAP_DAC_OVERRIDE): an unreadable file cannot be made");
    }
    Result<Checkpoint> result = openCheckpoint(path);
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().file, path);
    QVERIFY(result.error().message.contains(QLatin1String("cannot open")));
}

void TestHostileInputs::cliRefusesHostileFiles_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    QTest::newRow("truncated zip") << "c.pth" << fixture("tiny_vgg.pth").left(5000) << "not a valid zip archive";
    QTest::newRow("os.system pickle, deep nesting") << "c.pth" << torchZip(deepPickle()) << "nested deeper than 1000 levels";
    QTest::newRow("legacy storage lie") << "c.pth" << legacyTorch(dictPickle({{"w", tensor(1 << 30, 0, {4}, {1})}}))
                                        << "the pickle declares 1073741824";
    QTest::newRow("zip bomb") << "c.npz" << deflatedZip("a.npy", npyHeader("|u1", "(4294967000,)") + QByteArray(1000, '\0'), 0xffffff00)
                              << "more than deflate can produce";
    QTest::newRow("empty") << "c.safetensors" << QByteArray() << "the file is empty";
    QTest::newRow("msgpack array size lie") << "c.msgpack" << graft::test::msgpack::mapHeader(1) + graft::test::msgpack::str("w")
                                                                 + graft::test::msgpack::array({1000}, "float32", QByteArray(8, '\0'))
                                           << "needs 4000 bytes";
    QTest::newRow("deep JSON") << "c.skeleton.json" << QByteArray(100'000, '[') << "too deeply nested document";
    QTest::newRow("folder") << "folder.pth" << QByteArray("<dir>") << "is a directory";
}

void TestHostileInputs::cliRefusesHostileFiles()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QString path = m_dir.filePath(fileName);
    if (bytes == "<dir>")
        QVERIFY(QDir().mkpath(path));
    else
        path = writeFile(m_dir, fileName, bytes);
    QProcess cli;
    cli.start(QStringLiteral(GRAFT_CLI_PATH), {QStringLiteral("inspect"), path});
    QVERIFY(cli.waitForFinished(30000));
    const QString err = QString::fromUtf8(cli.readAllStandardError());
    QCOMPARE(cli.exitStatus(), QProcess::NormalExit);
    QCOMPARE(cli.exitCode(), 2);
    QVERIFY2(err.startsWith(QStringLiteral("graft-cli: error: ") + path + QStringLiteral(": ")), qPrintable(err));
    QVERIFY2(err.contains(message), qPrintable(err));
    QVERIFY(!QFile::exists(m_marker));
    if (bytes == "<dir>")
        QDir(path).removeRecursively();
    else
        QFile::remove(path);
}

void TestHostileInputs::cleanupTestCase()
{
    const long growth = maxRssMegabytes() - m_rssAtStart;
    const long limit = 200;
    qInfo("hostile cases: %d, %d asserting a text (the rest: truncations and flips); peak RSS grew by %ld MB over the suite (limit %ld MB)",
          m_cases, m_casesWithText, growth, limit);
    // Under AddressSanitizer the figure is ASan's, not Graft's: freed memory waits in its
    // quarantine with its redzones and shadow before it is reused. Measured at 517 cases
    // (2026-11-29): 81 MB with ASAN_OPTIONS=quarantine_size_mb=0, 402 MB with 64, 714-747 MB with
    // the default 256. So the bound is checked in the normal build (57 MB there), and
    // tst_hostilememory bounds each hostile case on its own.
#if defined(__SANITIZE_ADDRESS__)
    return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return;
#endif
#endif
    QVERIFY2(growth < limit, qPrintable(QStringLiteral("peak RSS grew by %1 MB").arg(growth)));
}

QTEST_GUILESS_MAIN(TestHostileInputs)
#include "tst_hostileinputs.moc"
