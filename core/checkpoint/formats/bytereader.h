#pragma once
// Bounded little-endian reads over untrusted bytes. Every read checks the bytes really left;
// a failed read sets a sticky failure flag instead of touching memory out of range.

#include <QtGlobal>

#include <cstring>

namespace graft {

class ByteReader {
public:
    ByteReader(const uchar *data, qint64 size) : m_data(data), m_size(size) {}

    qint64 position() const { return m_position; }
    qint64 remaining() const { return m_size - m_position; }
    bool failed() const { return m_failed; }
    bool atEnd() const { return m_position >= m_size; }
    const uchar *current() const { return m_data + m_position; }

    bool seek(qint64 position)
    {
        if (position < 0 || position > m_size)
            return fail();
        m_position = position;
        return true;
    }
    bool skip(qint64 count)
    {
        if (count < 0 || count > remaining())
            return fail();
        m_position += count;
        return true;
    }
    /// Returns a pointer to the next `count` bytes and advances, or nullptr when fewer remain.
    const uchar *take(qint64 count)
    {
        if (count < 0 || count > remaining()) {
            fail();
            return nullptr;
        }
        const uchar *start = m_data + m_position;
        m_position += count;
        return start;
    }

    template <typename T>
    T read()
    {
        T value{};
        if (const uchar *bytes = take(sizeof(T)))
            std::memcpy(&value, bytes, sizeof(T)); // hosts are little-endian (checked in CMake)
        return value;
    }
    quint8 u8() { return read<quint8>(); }
    quint16 u16() { return read<quint16>(); }
    quint32 u32() { return read<quint32>(); }
    quint64 u64() { return read<quint64>(); }
    qint32 i32() { return read<qint32>(); }
    qint64 i64() { return read<qint64>(); }

private:
    bool fail()
    {
        m_failed = true;
        return false;
    }

    const uchar *m_data;
    qint64 m_size;
    qint64 m_position = 0;
    bool m_failed = false;
};

} // namespace graft
