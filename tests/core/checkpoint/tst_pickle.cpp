// The allowlist unpickler: what it builds, and that hostile pickles are refused cleanly. Most
// rows go through unpickleTorch (the unpickler with TorchGlobals), as the torch readers do.

#include "checkpoint/formats/pickle.h"
#include "checkpoint/formats/picklememoreads.h"
#include "checkpoint/formats/torchglobals.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace graft;

namespace {

// Bytes of a literal, embedded NULs included.
template <size_t N>
QByteArray raw(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

Result<Unpickled> unpickleBytes(const QByteArray &bytes)
{
    return unpickleTorch(reinterpret_cast<const uchar *>(bytes.constData()), bytes.size());
}

// Builds protocol-2 pickles by hand, opcode by opcode.
QByteArray shortString(const QByteArray &text)
{
    return raw("\x8c") + char(text.size()) + text;
}

} // namespace

class TestPickle : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void buildsPlainValues();
    void orderedDictAndMemo();
    void globalsAreNeverCalled();
    void hostilePickles_data();
    void hostilePickles();
    void deepNestingIsRefused();
    void integersWiderThan64BitsShowAsHex();
    void tensorsComeFromTheReducer();
    void moduleDataComesFromTheReducer_data();
    void moduleDataComesFromTheReducer();
    void droppedValuesAreReclaimed_data();
    void droppedValuesAreReclaimed();
    void liveValuesSurviveCollections();
    void youngValuesInOldContainersSurvive_data();
    void youngValuesInOldContainersSurvive();
    void droppedOldValuesAreReclaimed();
    void outOfSequenceMemoIsCapped();
    void memoReadsAreFoundBeforeTheRun();
    void memoReadsOfAnUnreadablePickleKeepEverything_data();
    void memoReadsOfAnUnreadablePickleKeepEverything();
    void unreadMemoStoresDoNotKeepValues();
    void unreadMemoStoresAreStillCounted();
};

void TestPickle::buildsPlainValues()
{
    // {'a': 1, 'b': [2.5, None, True], 'c': (-3,)} as protocol 2 would write it.
    QByteArray p("\x80\x02}q\x00(", 6);
    p += shortString("a") + "K\x01";
    p += shortString("b") + raw("]q\x01(G\x40\x04\x00\x00\x00\x00\x00\x00N\x88" "e");
    p += shortString("c") + raw("J\xfd\xff\xff\xff\x85");
    p += "u.";
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    const PickleValue *root = result->root;
    QCOMPARE(root->kind, PickleKind::Dict);
    QCOMPARE(root->entries().size(), size_t(3));
    QCOMPARE(root->entries()[0].second->integer, 1);
    QCOMPARE(root->entries()[1].second->items().size(), size_t(3));
    QCOMPARE(root->entries()[1].second->items()[0]->number, 2.5);
    QCOMPARE(root->entries()[2].second->items()[0]->integer, -3);
    QCOMPARE(pickleSummary(root), QStringLiteral("{'a': 1, 'b': [2.5, None, True], 'c': (-3,)}"));
    QCOMPARE(result->bytesConsumed, qint64(p.size()));
}

void TestPickle::orderedDictAndMemo()
{
    // OrderedDict() via REDUCE, an entry whose value is fetched back from the memo.
    QByteArray p("\x80\x02" "ccollections\nOrderedDict\nq\x00)Rq\x01", 31);
    p += "(" + shortString("x") + "K\x07q\x02" + shortString("y") + "h\x02u.";
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    QCOMPARE(result->root->kind, PickleKind::Dict);
    QCOMPARE(result->root->entries().size(), size_t(2));
    QCOMPARE(result->root->entries()[1].second, result->root->entries()[0].second);
}

void TestPickle::globalsAreNeverCalled()
{
    // os.system('touch PWNED'): the classic payload becomes an inert object.
    const QString marker = QDir::temp().filePath(QStringLiteral("graft_pickle_pwned"));
    QFile::remove(marker);
    QByteArray p("\x80\x02" "cos\nsystem\nq\x00", 15);
    p += shortString(("touch " + marker).toUtf8()) + "\x85R.";
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY(result.ok());
    QCOMPARE(result->root->kind, PickleKind::Object);
    QCOMPARE(pickleTypeName(result->root), QStringLiteral("os.system"));
    QVERIFY(!QFile::exists(marker));
}

void TestPickle::hostilePickles_data()
{
    QTest::addColumn<QByteArray>("pickle");
    QTest::addColumn<QString>("message");
    QTest::newRow("empty") << QByteArray() << "data ends before STOP";
    QTest::newRow("no STOP") << raw("\x80\x02}") << "data ends before STOP";
    QTest::newRow("unknown opcode") << raw("\x80\x02\xff") << "unknown or unsupported opcode 0xff";
    QTest::newRow("string past end") << raw("\x80\x02X\xff\xff\xff\x7f" "abc") << "runs past the end";
    QTest::newRow("huge memo index") << raw("\x80\x02j\xff\xff\xff\xff.") << "memo entry 4294967295 does not exist";
    QTest::newRow("pop empty stack") << raw("\x80\x02" "0.") << "POP on an empty stack";
    QTest::newRow("append to int") << raw("\x80\x02K\x01K\x02" "a.") << "APPEND on a value that is not a list";
    QTest::newRow("setitems without mark") << raw("\x80\x02}u.") << "without MARK";
    QTest::newRow("reduce on int") << raw("\x80\x02K\x01)R.") << "not a class or function";
    QTest::newRow("truncated LONG1") << raw("\x80\x02\x8a\x08\x01\x02") << "truncated LONG1";
    QTest::newRow("truncated BININT") << raw("\x80\x02J\x01") << "ends in the middle of an opcode";
    QTest::newRow("tensor with bad args") << raw("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\nK\x01\x85R.")
                                          << "_rebuild_tensor_v2 called with unexpected arguments";
    QTest::newRow("ext opcode") << raw("\x80\x02\x82\x01.") << "unknown or unsupported opcode 0x82";
    QTest::newRow("STOP open mark") << raw("\x80\x02(N.") << "open MARK";
}

void TestPickle::hostilePickles()
{
    QFETCH(QByteArray, pickle);
    QFETCH(QString, message);
    Result<Unpickled> result = unpickleBytes(pickle);
    QVERIFY(!result.ok());
    QVERIFY2(result.error().message.contains(message), qPrintable(result.error().message));
    QVERIFY(result.error().message.contains(QStringLiteral("at byte")));
}

void TestPickle::deepNestingIsRefused()
{
    // 100,000 nested lists: ] ] ] ... then APPEND x 99,999.
    const int depth = 100'000;
    QByteArray p("\x80\x02", 2);
    p += QByteArray(depth, ']');
    p += QByteArray(depth - 1, 'a');
    p += '.';
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY(!result.ok());
    QVERIFY2(result.error().message.contains(QStringLiteral("nested deeper than")), qPrintable(result.error().message));
}

void TestPickle::integersWiderThan64BitsShowAsHex()
{
    // pickle.dumps(2**64, 2) and pickle.dumps(-2**64, 2): LONG1 with 9 little-endian bytes.
    Result<Unpickled> positive = unpickleBytes(raw("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."));
    QVERIFY(positive.ok());
    QVERIFY(positive->root->integerOverflow);
    QCOMPARE(pickleSummary(positive->root), QStringLiteral("0x010000000000000000"));
    Result<Unpickled> negative = unpickleBytes(raw("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff."));
    QVERIFY(negative.ok());
    QCOMPARE(pickleSummary(negative->root), QStringLiteral("0xff0000000000000000"));

    // A LONG4 as long as a hostile file likes (8 MiB here): the rendering keeps the low 32
    // bytes and the length, so messages naming the value stay short.
    const qint32 length = 8 << 20;
    QByteArray p = raw("\x80\x02\x8b\x00\x00\x80\x00"); // LONG4, length 0x00800000 little-endian
    QByteArray digits(length, '\0');
    for (int i = 0; i < 32; ++i)
        digits[i] = char(0xa0 + i);
    digits[length - 1] = 0x01;
    p += digits + '.';
    Result<Unpickled> wide = unpickleBytes(p);
    QVERIFY(wide.ok());
    QString expected = QStringLiteral("0x");
    for (int i = 31; i >= 0; --i)
        expected += QString::number(0xa0 + i, 16);
    expected += QStringLiteral("… (a 8388608-byte integer, low 32 bytes shown)");
    QCOMPARE(wide->root->text(), expected);
}

void TestPickle::tensorsComeFromTheReducer()
{
    // torch._utils._rebuild_tensor_v2(persistent id, 0, (2, 3), (3, 1), False, {}) as torch.save
    // writes it; the persistent id is ('storage', torch.FloatStorage, '0', 'cpu', 6).
    QByteArray p = raw("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(");
    p += "(" + shortString("storage") + "ctorch\nFloatStorage\n" + shortString("0") + shortString("cpu") + "K\x06tQ";
    p += raw("K\x00K\x02K\x03\x86K\x03K\x01\x86\x89}tR.");
    const uchar *data = reinterpret_cast<const uchar *>(p.constData());

    // Without a reducer the unpickler knows nothing of torch: the call stays an inert object.
    Result<Unpickled> plain = unpickle(data, p.size());
    QVERIFY2(plain.ok(), plain.ok() ? "" : qPrintable(plain.error().message));
    QCOMPARE(plain->root->kind, PickleKind::Object);
    QCOMPARE(pickleTypeName(plain->root), QStringLiteral("torch._utils._rebuild_tensor_v2"));

    // TorchGlobals makes it a tensor description that keeps the persistent id's parts.
    Result<Unpickled> torch = unpickleTorch(data, p.size());
    QVERIFY2(torch.ok(), torch.ok() ? "" : qPrintable(torch.error().message));
    QCOMPARE(torch->root->kind, PickleKind::Tensor);
    const PickledTensor &tensor = *torch->root->tensor();
    QCOMPARE(tensor.shape, Shape({2, 3}));
    QCOMPARE(tensor.strides, Shape({3, 1}));
    QCOMPARE(tensor.storageOffset, qint64(0));
    QVERIFY(!tensor.dtype.has_value());
    QVERIFY(tensor.storageId.has_value());
    QCOMPARE(tensor.storageId->className(), QStringLiteral("torch.FloatStorage"));
    QCOMPARE(tensor.storageId->number, qint64(0)); // torch's numbered key, kept as its number
    QCOMPARE(tensor.storageId->keyText(), QStringLiteral("0"));
    QCOMPARE(tensor.storageId->numel->integer, qint64(6));
    QVERIFY(!tensor.storageId->isView);
    QCOMPARE(tensor.storage, nullptr); // the id's tuple is not kept
    QCOMPARE(pickleSummary(torch->root), QStringLiteral("tensor[2, 3]"));

    // A key that is not written as torch numbers storages ("007": a leading zero) stays text.
    for (const char *key : {"007", "w0", "1234567890"}) {
        QByteArray named = p;
        named.replace(shortString("0"), shortString(key));
        Result<Unpickled> namedTorch = unpickleTorch(reinterpret_cast<const uchar *>(named.constData()), named.size());
        QVERIFY2(namedTorch.ok(), namedTorch.ok() ? "" : qPrintable(namedTorch.error().message));
        const PickledStorageId &id = *namedTorch->root->tensor()->storageId;
        QCOMPARE(id.number, qint64(-1));
        QCOMPARE(id.keyText(), QString::fromLatin1(key));
    }

    // An id of another form is kept whole, for the reader's message.
    QByteArray odd = p;
    odd.replace(shortString("storage"), shortString("stowage"));
    Result<Unpickled> oddTorch = unpickleTorch(reinterpret_cast<const uchar *>(odd.constData()), odd.size());
    QVERIFY2(oddTorch.ok(), oddTorch.ok() ? "" : qPrintable(oddTorch.error().message));
    QVERIFY(!oddTorch->root->tensor()->storageId.has_value());
    QCOMPARE(oddTorch->root->tensor()->storage->kind, PickleKind::Tuple);
    QCOMPARE(oddTorch->root->tensor()->storage->items()[0]->text(), QStringLiteral("stowage"));
}

void TestPickle::moduleDataComesFromTheReducer_data()
{
    // The plain data a pickled nn.Module or a TorchScript archive needs, each a pickle and the
    // summary of what TorchGlobals makes of it (unpickle() alone leaves each an inert Object).
    QTest::addColumn<QByteArray>("pickle");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("summary");
    const QByteArray tensorArgs = "(" + shortString("storage") + "ctorch\nFloatStorage\n" + shortString("0") + shortString("cpu") + "K\x06tQ"
        + raw("K\x00K\x02K\x03\x86K\x03K\x01\x86\x89}t");
    QTest::newRow("protocol 2 set: _non_persistent_buffers_set")
        << raw("\x80\x02" "c__builtin__\nset\n]") + "(" + shortString("cache") + "e\x85R." << int(PickleKind::Set) << "{'cache'}";
    QTest::newRow("TorchScript build_intlist") << raw("\x80\x02" "ctorch.jit._pickle\nbuild_intlist\n](K\x03K\x03" "e\x85R.")
                                              << int(PickleKind::List) << "[3, 3]";
    QTest::newRow("TorchScript restore_type_tag")
        << raw("\x80\x02" "ctorch.jit._pickle\nrestore_type_tag\n}") + shortString("Dict[str, int]") + raw("\x86R.") << int(PickleKind::Dict) << "{}";
    QTest::newRow("_rebuild_from_type_v2 around _rebuild_tensor_v2")
        << raw("\x80\x02" "ctorch._tensor\n_rebuild_from_type_v2\n(ctorch._utils\n_rebuild_tensor_v2\nctorch\nTensor\n(") + tensorArgs
               + raw("}tR.")
        << int(PickleKind::Tensor) << "tensor[2, 3]";
    // The legacy format's class reference ('module', class, source file, source) is the class.
    QTest::newRow("legacy module class")
        << raw("\x80\x02(") + shortString("module") + raw("ctorch.nn.modules.linear\nLinear\n") + shortString("linear.py")
               + shortString("class Linear: ...") + raw("tQ)\x81.")
        << int(PickleKind::Object) << "Linear()";
}

void TestPickle::moduleDataComesFromTheReducer()
{
    QFETCH(QByteArray, pickle);
    QFETCH(int, kind);
    QFETCH(QString, summary);
    Result<Unpickled> result = unpickleBytes(pickle);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    QCOMPARE(int(result->root->kind), kind);
    QCOMPARE(pickleSummary(result->root), summary);
    if (result->root->kind == PickleKind::Object)
        QCOMPARE(qualifiedName(result->root), QStringLiteral("torch.nn.modules.linear.Linear"));
    // Without TorchGlobals none of these is anything but an inert call or a persistent id.
    Result<Unpickled> plain = unpickle(reinterpret_cast<const uchar *>(pickle.constData()), pickle.size());
    if (plain.ok())
        QVERIFY(int(plain->root->kind) != kind || plain->root->kind == PickleKind::Object);
}

// Pickles that make values and drop them: Python frees them as it goes (constant memory); the
// arena must reclaim them too, or 2 bytes of input cost a 144-byte value (a 40 MB data.pkl of
// `]0` took 3.4 GB). The bound checked is the arena's high-water mark, per case.
void TestPickle::droppedValuesAreReclaimed_data()
{
    QTest::addColumn<QByteArray>("garbage"); // repeated 2M times
    QTest::newRow("pop bomb: ] POP") << raw("]0");
    QTest::newRow("memo bomb: ] BINPUT 0 POP (each list replaces the last in the memo)") << raw("]q\x00" "0");
    QTest::newRow("] ] APPEND POP (a list in a dropped list)") << raw("]]a0");
    QTest::newRow("MARK ] ] ] LIST POP") << raw("(]]]l0");
    QTest::newRow("string ] DUP POP POP POP") << raw("\x8c\x01x]2" "000");
}

void TestPickle::droppedValuesAreReclaimed()
{
    QFETCH(QByteArray, garbage);
    const int repeats = 2'000'000;
    const QByteArray p = raw("\x80\x02") + garbage.repeated(repeats) + raw("}.");
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    QCOMPARE(result->root->kind, PickleKind::Dict);
    // 2M+ values made; kept to about 2 x 64k (the collector's interval) at 144 bytes each.
    const size_t bound = size_t(40) << 20;
    QVERIFY2(result->arena->allocatedBytes() <= bound,
             qPrintable(QStringLiteral("arena high-water mark %1 bytes").arg(result->arena->allocatedBytes())));
}

// Collections run while values are held by the stack, the memo, a MARK's items and containers:
// none of those may be reclaimed. A list memoized first, 300k dropped values (several
// collections), then the memoized list is fetched and filled.
void TestPickle::liveValuesSurviveCollections()
{
    QByteArray p = raw("\x80\x02}q\x00(") + shortString("kept") + raw("]q\x01") + shortString("inside") + raw("a");
    p += raw("]0").repeated(300'000);
    p += shortString("tail") + raw("h\x01") + shortString("more") + raw("a") + raw("]0").repeated(300'000) + raw("u.");
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    const PickleValue *root = result->root;
    QCOMPARE(root->kind, PickleKind::Dict);
    QCOMPARE(root->entries().size(), size_t(2));
    QCOMPARE(root->entries()[0].first->text(), QStringLiteral("kept"));
    const PickleValue *kept = root->entries()[0].second;
    QCOMPARE(kept->kind, PickleKind::List);
    QCOMPARE(kept->items().size(), size_t(2));
    QCOMPARE(kept->items()[0]->text(), QStringLiteral("inside"));
    QCOMPARE(kept->items()[1]->text(), QStringLiteral("more"));
    QCOMPARE(root->entries()[1].first->text(), QStringLiteral("tail"));
    QCOMPARE(root->entries()[1].second, kept); // the memo's list, not a copy
    QVERIFY(result->arena->allocatedBytes() <= (size_t(40) << 20));
}

// Collections are generational (picklearena.h): a value kept by one collection is old, and a
// minor collection does not read it again. A container kept so and then given new items, or an
// object given its state (BUILD), holds young values reachable only through it: two more
// collections must keep them and what they hold. 200k lists in use underneath keep the major
// collections away (they come when the values in use double), so these collections are minor.
void TestPickle::youngValuesInOldContainersSurvive_data()
{
    QTest::addColumn<QByteArray>("container"); // memoized as 0, then filled below
    QTest::addColumn<QByteArray>("fill");      // with the container on the stack
    QTest::addColumn<QString>("summary");
    const QByteArray young = shortString("k") + raw("]") + shortString("deep") + raw("a");
    QTest::newRow("BUILD: an old object's state") << raw("c__main__\nThing\n)\x81") << raw("}(") + young + raw("ub")
                                                 << "{'k': ['deep']}";
    QTest::newRow("APPENDS to an old list") << raw("]") << raw("(") + young + raw("e") << "['k', ['deep']]";
    QTest::newRow("SETITEMS to an old dict") << raw("}") << raw("(") + young + raw("u") << "{'k': ['deep']}";
}

void TestPickle::youngValuesInOldContainersSurvive()
{
    QFETCH(QByteArray, container);
    QFETCH(QByteArray, fill);
    QFETCH(QString, summary);
    QByteArray p = raw("\x80\x02(") + raw("]").repeated(200'000) + raw("l") + container + raw("q\x00");
    p += raw("]0").repeated(300'000) + raw("h\x00") + fill + raw("0") + raw("]0").repeated(300'000) + raw("0h\x00.");
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    const PickleValue *filled = result->root;
    QCOMPARE(pickleSummary(filled->kind == PickleKind::Object ? filled->state() : filled), summary);
}

// Values a collection keeps and the pickle drops later are old garbage: minor collections do
// not read them, major ones (when the old values doubled) reclaim them. 40 rounds of a
// 100k-item list held across a collection, then dropped: 4M old values if never reclaimed
// (190 MB of slots); the arena must stay near twice what is in use.
void TestPickle::droppedOldValuesAreReclaimed()
{
    const QByteArray round = raw("(") + raw("N").repeated(1) + raw("]").repeated(100'000) + raw("l0");
    const QByteArray p = raw("\x80\x02") + round.repeated(40) + raw("}.");
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    QCOMPARE(result->root->kind, PickleKind::Dict);
    QVERIFY2(result->arena->allocatedBytes() <= (size_t(40) << 20),
             qPrintable(QStringLiteral("arena high-water mark %1 bytes").arg(result->arena->allocatedBytes())));
}

// Memo indexes out of sequence cost a hash node each: capped (Python's picklers never write them).
void TestPickle::outOfSequenceMemoIsCapped()
{
    QByteArray p = raw("\x80\x02N");
    for (quint32 i = 0; i < (1u << 20) + 1; ++i) {
        const quint32 index = 1000 + 2 * i;
        p += 'r';
        p += QByteArray(reinterpret_cast<const char *>(&index), 4);
    }
    p += '.';
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY(!result.ok());
    QVERIFY2(result.error().message.contains(QStringLiteral("1048576 out of sequence")), qPrintable(result.error().message));
}

namespace {

QByteArray u32Bytes(quint32 value) { return QByteArray(reinterpret_cast<const char *>(&value), 4); }

PickleMemoReads scanBytes(const QByteArray &bytes)
{
    return PickleMemoReads::scan(reinterpret_cast<const uchar *>(bytes.constData()), bytes.size());
}

} // namespace

// The pass before the run finds every memo read (BINGET, LONG_BINGET, the text GET) and only
// those, across every kind of argument it must skip (lines, length prefixes, fixed sizes).
void TestPickle::memoReadsAreFoundBeforeTheRun()
{
    QByteArray p = raw("\x80\x02(");
    p += raw("cmodule\nname\nq\x00");                       // GLOBAL (two lines), BINPUT 0
    p += raw("X") + u32Bytes(3) + "abc" + raw("q\x01");        // BINUNICODE, BINPUT 1
    p += raw("\x8a\x02\x01\x02r") + u32Bytes(2);               // LONG1, LONG_BINPUT 2
    p += raw("I12\np3\n");                                   // INT (a line), PUT 3
    p += raw("G") + QByteArray(8, '\0') + raw("\x94");          // BINFLOAT, MEMOIZE (index 4)
    p += raw("B") + u32Bytes(2) + raw("hj");                  // BINBYTES holding the bytes of BINGET/LONG_BINGET
    p += raw("h\x01");                                       // BINGET 1
    p += raw("j") + u32Bytes(4);                              // LONG_BINGET 4
    p += raw("g70000\n");                                    // GET 70000 (beyond the first bitmap words)
    p += raw("l.");
    const PickleMemoReads reads = scanBytes(p);
    QVERIFY(reads.complete());
    QVERIFY(reads.isRead(1));
    QVERIFY(reads.isRead(4));
    QVERIFY(reads.isRead(70000));
    for (quint64 unread : {quint64(0), quint64(2), quint64(3), quint64(5), quint64(69999), quint64(1) << 40})
        QVERIFY2(!reads.isRead(unread), qPrintable(QString::number(unread)));
    // The bytes after STOP are not the pickle's: a BINGET there reads nothing.
    const PickleMemoReads stopped = scanBytes(raw("\x80\x02N.h\x07"));
    QVERIFY(stopped.complete());
    QVERIFY(!stopped.isRead(7));
}

void TestPickle::memoReadsOfAnUnreadablePickleKeepEverything_data()
{
    QTest::addColumn<QByteArray>("pickle");
    QTest::newRow("no STOP") << raw("\x80\x02]q\x00");
    QTest::newRow("unknown opcode") << raw("\x80\x02]q\x00\xff.");
    QTest::newRow("string runs past the end") << raw("\x80\x02X\xff\xff\x00\x00ab.");
    QTest::newRow("negative BINSTRING length") << raw("\x80\x02T\xff\xff\xff\xff.");
    QTest::newRow("unterminated line") << raw("\x80\x02I12");
    QTest::newRow("BINUNICODE8 longer than the data") << raw("\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.");
}

// When the pass cannot read to STOP it cannot know the reads: every index counts as read, and
// the unpickler then reports the fault itself.
void TestPickle::memoReadsOfAnUnreadablePickleKeepEverything()
{
    QFETCH(QByteArray, pickle);
    const PickleMemoReads reads = scanBytes(pickle);
    QVERIFY(!reads.complete());
    QVERIFY(reads.isRead(0));
    QVERIFY(reads.isRead(12345));
    QVERIFY(!unpickleBytes(pickle).ok());
}

// Picklers memoize every container they write; a value nothing reads back must not be kept
// alive by the memo. 1M lists, each stored under its own index and dropped: one of them (the
// one holding "kept") is read back at the end and must be the same list.
void TestPickle::unreadMemoStoresDoNotKeepValues()
{
    constexpr quint32 kLists = 1'000'000;
    constexpr quint32 kReadBack = 654'321;
    QByteArray p = raw("\x80\x02");
    p.reserve(12 * kLists);
    for (quint32 i = 0; i < kLists; ++i) {
        if (i == kReadBack)
            p += raw("]") + shortString("kept") + raw("a");
        p += (i == kReadBack ? QByteArray() : raw("]")) + raw("r") + u32Bytes(i) + raw("0");
    }
    p += raw("j") + u32Bytes(kReadBack) + raw(".");
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    QCOMPARE(result->root->kind, PickleKind::List);
    QCOMPARE(result->root->items().size(), size_t(1));
    QCOMPARE(result->root->items()[0]->text(), QStringLiteral("kept"));
    // Kept alive by the memo, 1M lists would take 48 MB of values (48 bytes each); collected,
    // the arena stays near the collector's interval.
    QVERIFY2(result->arena->allocatedBytes() <= (size_t(16) << 20),
             qPrintable(QStringLiteral("arena high-water mark %1 bytes").arg(result->arena->allocatedBytes())));
}

// Stores nothing reads back are counted, not kept: MEMOIZE numbers an entry by how many came
// before it, read or not, so an entry memoized after 100k unread ones is found under index
// 100000; one stored out of sequence, beyond the count, is found too.
void TestPickle::unreadMemoStoresAreStillCounted()
{
    QByteArray p = raw("\x80\x04(");                         // protocol 4, MARK
    for (int i = 0; i < 100000; ++i)
        p += raw("]\x94" "0");                               // EMPTY_LIST, MEMOIZE (unread), POP
    p += shortString("late") + raw("\x94");                   // MEMOIZE: index 100000
    p += raw("r") + u32Bytes(200000) + raw("0");              // LONG_BINPUT 200000, POP
    p += raw("j") + u32Bytes(100000) + raw("j") + u32Bytes(200000) + raw("l.");
    Result<Unpickled> result = unpickleBytes(p);
    QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
    QCOMPARE(result->root->kind, PickleKind::List);
    QCOMPARE(result->root->items().size(), size_t(2));
    QCOMPARE(result->root->items()[0]->text(), QStringLiteral("late"));
    QCOMPARE(result->root->items()[1], result->root->items()[0]);
}

QTEST_GUILESS_MAIN(TestPickle)
#include "tst_pickle.moc"
