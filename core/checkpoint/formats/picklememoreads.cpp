#include "checkpoint/formats/picklememoreads.h"

#include "checkpoint/formats/bytereader.h"
#include "checkpoint/formats/pickleopcodes.h"

#include <QByteArray>

#include <cstring>

namespace graft {
namespace {

using namespace pickleop;

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
    // Opcodes by their argument (CPython Lib/pickletools.py), as the unpickler reads them.
    while (!reader.atEnd() && !reader.failed() && reads.m_far.size() <= kMaxFarReads) {
        const uchar opcode = reader.u8();
        qint64 length = 0;
        switch (opcode) {
        case STOP: // every read is known
            reads.m_all = false;
            return reads;
        // No argument.
        case MARK: case POP: case POP_MARK: case DUP: case NONE: case NEWTRUE: case NEWFALSE:
        case EMPTY_TUPLE: case EMPTY_LIST: case EMPTY_DICT: case EMPTY_SET: case TUPLE1: case TUPLE2:
        case TUPLE3: case TUPLE: case LIST: case DICT: case FROZENSET: case APPEND: case APPENDS:
        case SETITEM: case SETITEMS: case ADDITEMS: case STACK_GLOBAL: case REDUCE: case NEWOBJ:
        case NEWOBJ_EX: case OBJ: case BUILD: case BINPERSID: case MEMOIZE:
            break;
        // Fixed-size arguments.
        case PROTO: case BININT1: case BINPUT: reader.skip(1); break;
        case BININT2: reader.skip(2); break;
        case BININT: case LONG_BINPUT: reader.skip(4); break;
        case BINFLOAT: case FRAME: reader.skip(8); break;
        case BINGET: reads.addRead(reader.u8()); break;
        case LONG_BINGET: reads.addRead(reader.u32()); break;
        // Length-prefixed arguments.
        case LONG1: case SHORT_BINSTRING: case SHORT_BINBYTES: case SHORT_BINUNICODE: reader.skip(reader.u8()); break;
        case LONG4: case BINSTRING: { // signed lengths
            const qint32 n = reader.i32();
            if (n < 0)
                return reads;
            reader.skip(n);
            break;
        }
        case BINUNICODE: case BINBYTES: reader.skip(reader.u32()); break;
        case BINUNICODE8: case BINBYTES8: {
            const quint64 n = reader.u64();
            if (n > quint64(reader.remaining()))
                return reads;
            reader.skip(static_cast<qint64>(n));
            break;
        }
        // Lines.
        case INT: case LONG: case FLOAT: case STRING: case UNICODE: case PERSID: case PUT:
            if (skipLine(reader, &length) == nullptr)
                return reads;
            break;
        case GLOBAL: case INST: // module and name
            if (skipLine(reader, &length) == nullptr || skipLine(reader, &length) == nullptr)
                return reads;
            break;
        case GET: { // the index as text
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
