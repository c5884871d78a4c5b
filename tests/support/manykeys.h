#pragma once
// A safetensors file of `count` float32 keys "<prefix>.<i>.w", each of shape [values], all zeros:
// a big key list for the workbench tests, without a fixture on disk.

#include <QByteArray>
#include <QFile>
#include <QString>

namespace graft::test {

inline bool writeManyKeys(const QString &path, int count, const QString &prefix, int values = 2)
{
    QByteArray header = "{";
    const int bytes = 4 * values;
    for (int i = 0; i < count; ++i)
        header += QStringLiteral("%1\"%2.%3.w\":{\"dtype\":\"F32\",\"shape\":[%4],\"data_offsets\":[%5,%6]}")
                      .arg(i == 0 ? QString() : QStringLiteral(","), prefix)
                      .arg(i)
                      .arg(values)
                      .arg(qint64(bytes) * i)
                      .arg(qint64(bytes) * i + bytes)
                      .toUtf8();
    header += "}";
    while (header.size() % 8 != 0)
        header += ' ';
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    QByteArray prefixBytes(8, '\0');
    const quint64 length = static_cast<quint64>(header.size());
    for (int b = 0; b < 8; ++b)
        prefixBytes[b] = static_cast<char>((length >> (8 * b)) & 0xff);
    return file.write(prefixBytes + header + QByteArray(qint64(bytes) * count, '\0')) > 0;
}

} // namespace graft::test
