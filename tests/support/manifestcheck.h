#pragma once
// Compares what Graft's reader lists with the manifest the fixture script wrote from what
// torch.load / numpy see (F.expected.json): same keys in the same order, shapes, dtypes,
// nbytes, and the SHA-256 of the tensor bytes read back (bit-exact). Header-only test support.

#include "checkpoint/checkpointopener.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>

namespace graft::test {

inline QString fixturePath(const QString &name) { return QStringLiteral(GRAFT_FIXTURE_DIR "/") + name; }

inline QJsonObject loadManifest(const QString &checkpointPath)
{
    QFile file(checkpointPath + QStringLiteral(".expected.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

inline QString sha256Hex(const TensorBytes &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(
        QByteArrayView(reinterpret_cast<const char *>(bytes.data()), bytes.size()), QCryptographicHash::Sha256).toHex());
}

/// Opens `name` from the fixture folder and checks it against its manifest.
inline void checkAgainstManifest(const QString &name)
{
    const QString path = fixturePath(name);
    const QJsonObject manifest = loadManifest(path);
    QVERIFY2(!manifest.isEmpty(), qPrintable(QStringLiteral("no manifest for ") + path));
    Result<Checkpoint> checkpoint = openCheckpoint(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : qPrintable(checkpoint.error().toString()));
    QCOMPARE(formatName(checkpoint->format()), manifest.value(QStringLiteral("format")).toString());

    const QJsonArray expected = manifest.value(QStringLiteral("tensors")).toArray();
    QStringList actualKeys;
    for (const TensorEntry &tensor : checkpoint->tensors())
        actualKeys << tensor.key;
    QStringList expectedKeys;
    for (const QJsonValue &value : expected)
        expectedKeys << value.toObject().value(QStringLiteral("key")).toString();
    QCOMPARE(actualKeys, expectedKeys);

    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject want = expected[i].toObject();
        const TensorEntry &tensor = checkpoint->tensors()[i];
        Shape shape;
        for (const QJsonValue &dim : want.value(QStringLiteral("shape")).toArray())
            shape.push_back(dim.toInteger());
        QCOMPARE(shapeToString(tensor.shape), shapeToString(shape));
        QCOMPARE(dtypeName(tensor.dtype), want.value(QStringLiteral("dtype")).toString());
        QCOMPARE(tensor.nbytes(), want.value(QStringLiteral("nbytes")).toInteger());
        Result<TensorBytes> bytes = checkpoint->read(i);
        QVERIFY2(bytes.ok(), bytes.ok() ? "" : qPrintable(bytes.error().toString()));
        QCOMPARE(bytes->size(), tensor.nbytes());
        QVERIFY2(sha256Hex(*bytes) == want.value(QStringLiteral("sha256")).toString(),
                 qPrintable(QStringLiteral("bytes of '%1' differ from torch/numpy").arg(tensor.key)));
    }

    QSet<QString> otherKeys;
    for (const OtherEntry &other : checkpoint->others())
        otherKeys.insert(other.key);
    QSet<QString> expectedOthers;
    for (const QJsonValue &value : manifest.value(QStringLiteral("other")).toArray())
        expectedOthers.insert(value.toObject().value(QStringLiteral("key")).toString());
    QCOMPARE(otherKeys, expectedOthers);
}

} // namespace graft::test
