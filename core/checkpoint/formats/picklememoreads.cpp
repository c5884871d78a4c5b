#include "checkpoint/formats/picklememoreads.h"

#include "checkpoint/formats/bytereader.h"

#include <QByteArray>

#include <cstring>

namespace graft {
namespace {

// The unpickler's longest line (Unpickler::kMaxLineLength): a longer one fails there too.
constexpr qint64 kMaxLineLength = 1 << 20;

// Skips one '\n'-terminated line; the line, or nullptr when it is unterminated or too long.
const char *skipLine(ByteReader &reader, qint64 *length)
{
    const uchar *start = reader.current();
    const qint64 limit = std::min(reader.remaining(), kMaxLineLength);
    const void *newline = limit > 0 ? std::memchr(start, '\n', static_cast<size_t>(limit)) : nullptr;
    if (newline == nullptr)
        return nullptr;
    *length = static_cast<const uchar *>(newline) - start;
    reader.skip(*length + 1);
    return reinterpret_cast<const char *>(start);
}

} // namespace

void PickleMemoReads::addRead(quint64 index)
{
    if (index < kBitmapIndexes) {
        const size_t word = static_cast<size_t>(index / 64);
        if (word >= m_bits.size())
            m_bits.resize(word + 1, 0);
        m_bits[word] |= quint64(1) << (index % 64);
    } else {
        m_far.insert(index);
    }
}

PickleMemoReads PickleMemoReads::scan(const uchar *data, qint64 size)
{
    PickleMemoReads reads;
    ByteReader reader(data, size);
    // Opcodes by their argument (CPython Lib/pickletools.py), as Unpickler reads them.
    while (!reader.atEnd() && !reader.failed() && reads.m_far.size() <= kMaxFarReads) {
        const uchar opcode = reader.u8();
        qint64 length = 0;
        switch (opcode) {
        case '.': // STOP: every read is known
            reads.m_all = false;
            return reads;
        // No argument.
        case '(': case '0': case '1': case '2': case 'N': case 0x88: case 0x89: case ')': case ']':
        case '}': case 0x8f: case 0x85: case 0x86: case 0x87: case 't': case 'l': case 'd': case 0x91:
        case 'a': case 'e': case 's': case 'u': case 0x90: case 0x93: case 'R': case 0x81: case 0x92:
        case 'o': case 'b': case 'Q': case 0x94:
            break;
        // Fixed-size arguments.
        case 0x80: case 'K': case 'q': reader.skip(1); break;  // PROTO BININT1 BINPUT
        case 'M': reader.skip(2); break;                        // BININT2
        case 'J': case 'r': reader.skip(4); break;              // BININT LONG_BINPUT
        case 'G': case 0x95: reader.skip(8); break;             // BINFLOAT FRAME
        case 'h': reads.addRead(reader.u8()); break;                  // BINGET
        case 'j': reads.addRead(reader.u32()); break;                 // LONG_BINGET
        // Length-prefixed arguments.
        case 0x8a: case 'U': case 'C': case 0x8c: reader.skip(reader.u8()); break; // LONG1 SHORT_BIN*
        case 0x8b: case 'T': {                                 // LONG4 BINSTRING: signed lengths
            const qint32 n = reader.i32();
            if (n < 0)
                return reads;
            reader.skip(n);
            break;
        }
        case 'X': case 'B': reader.skip(reader.u32()); break;  // BINUNICODE BINBYTES
        case 0x8d: case 0x8e: {                                // BINUNICODE8 BINBYTES8
            const quint64 n = reader.u64();
            if (n > quint64(reader.remaining()))
                return reads;
            reader.skip(static_cast<qint64>(n));
            break;
        }
        // Lines.
        case 'I': case 'L': case 'F': case 'S': case 'V': case 'P': case 'p':
            if (skipLine(reader, &length) == nullptr)
                return reads;
            break;
        case 'c': case 'i': // GLOBAL INST: module and name
            if (skipLine(reader, &length) == nullptr || skipLine(reader, &length) == nullptr)
                return reads;
            break;
        case 'g': { // GET: the index as text
            const char *line = skipLine(reader, &length);
            if (line == nullptr)
                return reads;
            bool ok = false;
            const quint64 index = QByteArray::fromRawData(line, static_cast<qsizetype>(length)).toULongLong(&ok);
            if (ok)
                reads.addRead(index);
            break;
        }
        default: // an opcode the unpickler refuses
            return reads;
        }
    }
    return reads;
}

} // namespace graft
