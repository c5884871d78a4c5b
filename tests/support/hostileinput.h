#pragma once
// Helpers for the hostile-input tables of the reader tests: write corrupted bytes to a
// temporary file and check that opening it fails cleanly, naming the right file and problem.

#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpointopener.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

namespace graft::test {

/// Writes `bytes` to `dir`/`name` and returns the path (empty on failure).
inline QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &bytes)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        return QString();
    return path;
}

/// The whole content of a file (empty when it cannot be read).
inline QByteArray readBytes(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

/// `value` as a little-endian T (quint16, quint32, quint64), truncated like a C cast.
template <typename T, typename V>
QByteArray littleEndian(V value)
{
    const T narrowed = static_cast<T>(value);
    QByteArray bytes(sizeof(T), '\0');
    std::memcpy(bytes.data(), &narrowed, sizeof(T)); // the build refuses big-endian hosts
    return bytes;
}

/// Checks that `result` failed with an error naming `file` whose message contains `expected`.
template <typename T>
void verifyRefused(const Result<T> &result, const QString &file, const QString &expected)
{
    QVERIFY2(!result.ok(), "the reader accepted a corrupt input");
    QCOMPARE(result.error().file, file);
    QVERIFY2(result.error().message.contains(expected),
             qPrintable(QStringLiteral("message \"%1\" lacks \"%2\"").arg(result.error().message, expected)));
}

} // namespace graft::test
