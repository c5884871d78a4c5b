// torch .pt output, written the way torch.save writes a dict of tensors, one leaf at a time:
//
//   archive/data.pkl    pickle (protocol 2) of {key: torch._utils._rebuild_tensor_v2(
//                         persistent_id(('storage', torch.<T>Storage, '<i>', 'cpu', numel)),
//                         0, size, stride, False, collections.OrderedDict()), ...}
//                       (globals and constant strings memoised, SETITEMS per 1000 pairs)
//   archive/byteorder   "little"
//   archive/data/<i>    leaf i's bytes, starting on a multiple of 64 in the file
//   archive/version     "3\n"
//
// Why not LibTorch's torch::pickle_save (the tensor engine): it builds the whole archive in
// memory, tags the dict with torch.jit._pickle.restore_type_tag — a global that torch.load's
// weights_only unpickler (the default since torch 2.6) refuses and that Graft's own reader
// shows as an opaque object — and loading LibTorch costs ~0.44 s and ~157 MB. The pickle here
// uses only globals that allowlist accepts, data.pkl needs nothing but the specs, so it is
// written first and the storages stream after it.
//
// LibTorch 1.13 has no storage type for uint16/32/64 or float8; those leaves are refused.

#include "checkpoint/writers/formatwriters.h"
#include "checkpoint/writers/zipwriter.h"

#include <limits>
#include <map>
#include <optional>
#include <string>

namespace graft::writers {
namespace {

constexpr int kStorageAlignment = 64;
const QByteArray kArchive = QByteArrayLiteral("archive/");

const char *storageType(DType dtype)
{
    switch (dtype) {
    case DType::Bool: return "BoolStorage";
    case DType::UInt8: return "ByteStorage";
    case DType::Int8: return "CharStorage";
    case DType::Int16: return "ShortStorage";
    case DType::Int32: return "IntStorage";
    case DType::Int64: return "LongStorage";
    case DType::Float16: return "HalfStorage";
    case DType::BFloat16: return "BFloat16Storage";
    case DType::Float32: return "FloatStorage";
    case DType::Float64: return "DoubleStorage";
    case DType::Complex64: return "ComplexFloatStorage";
    case DType::Complex128: return "ComplexDoubleStorage";
    case DType::UInt16:
    case DType::UInt32:
    case DType::UInt64:
    case DType::Float8E4M3:
    case DType::Float8E5M2:
        break;
    }
    return nullptr;
}

// Just the pickle opcodes a state dict needs (names as in Python's pickle module).
class Pickle {
public:
    Pickle() { m_bytes += "\x80\x02"; } // PROTO 2

    void op(char code) { m_bytes += code; }
    void global(const char *module, const char *name)
    {
        m_bytes += 'c';
        m_bytes += module;
        m_bytes += '\n';
        m_bytes += name;
        m_bytes += '\n';
    }
    void reserve(qsizetype bytes) { m_bytes.reserve(static_cast<size_t>(bytes)); }
    void string(const QByteArray &utf8) // BINUNICODE
    {
        m_bytes += 'X';
        appendLittleEndian(static_cast<quint64>(utf8.size()), 4);
        m_bytes.append(utf8.constData(), static_cast<size_t>(utf8.size()));
    }
    void integer(qint64 value)
    {
        if (value >= 0 && value < 0x100) {
            m_bytes += 'K'; // BININT1
            appendLittleEndian(static_cast<quint64>(value), 1);
        } else if (value >= 0 && value < 0x10000) {
            m_bytes += 'M'; // BININT2
            appendLittleEndian(static_cast<quint64>(value), 2);
        } else if (value >= -0x80000000LL && value < 0x80000000LL) {
            m_bytes += 'J'; // BININT, signed 32-bit
            appendLittleEndian(static_cast<quint64>(value), 4);
        } else {
            // LONG1: the shortest little-endian two's complement that keeps the sign.
            int length = 1;
            while (length < 8 && (value >= (qint64(1) << (8 * length - 1)) || value < -(qint64(1) << (8 * length - 1))))
                ++length;
            m_bytes += '\x8a';
            m_bytes += static_cast<char>(length);
            appendLittleEndian(static_cast<quint64>(value), length);
        }
    }
    void tuple(const Shape &values)
    {
        if (values.empty()) {
            op(')'); // EMPTY_TUPLE
            return;
        }
        if (values.size() > 3)
            op('('); // MARK
        for (qint64 value : values)
            integer(value);
        constexpr char kSized[] = {'\x85', '\x86', '\x87'}; // TUPLE1, TUPLE2, TUPLE3
        op(values.size() <= 3 ? kSized[values.size() - 1] : 't');
    }
    // The value on top of the stack is kept in memo slot `slot` (BINPUT / LONG_BINPUT), and
    // pushed again from it (BINGET / LONG_BINGET), as torch.save does for repeated globals and
    // strings: a 100k-tensor state dict names the same few of them 100k times each.
    void put(quint32 slot)
    {
        m_bytes += slot < 0x100 ? 'q' : 'r';
        appendLittleEndian(slot, slot < 0x100 ? 1 : 4);
    }
    void get(quint32 slot)
    {
        m_bytes += slot < 0x100 ? 'h' : 'j';
        appendLittleEndian(slot, slot < 0x100 ? 1 : 4);
    }
    QByteArray bytes() const { return QByteArray(m_bytes.data(), static_cast<qsizetype>(m_bytes.size())); }

private:
    void appendLittleEndian(quint64 value, int size)
    {
        for (int i = 0; i < size; ++i, value >>= 8)
            m_bytes += static_cast<char>(value & 0xff);
    }
    // A std::string, not a QByteArray: 100k leaves append ~60 pieces each, and std::string's
    // append is inlined where Qt 6.4's goes through QByteArray::insert (4 % of a 100k-leaf save).
    std::string m_bytes;
};

// {key: tensor, ...} with tensor i backed by storage record "data/<i>".
QByteArray statePickle(const std::vector<OutputLeaf> &leaves)
{
    Pickle pickle;
    pickle.reserve(static_cast<qsizetype>(leaves.size()) * 110 + 256); // ~80 bytes a leaf plus its key
    // The globals and constant strings: each written once, then fetched from the memo.
    quint32 slots = 0;
    const auto once = [&pickle, &slots](std::optional<quint32> &slot, const auto &write) {
        if (slot) {
            pickle.get(*slot);
            return;
        }
        write();
        slot = slots++;
        pickle.put(*slot);
    };
    std::optional<quint32> rebuild, orderedDict, storageTag, cpu;
    std::map<DType, std::optional<quint32>> storageClass;
    pickle.op('}'); // EMPTY_DICT
    for (size_t i = 0; i < leaves.size(); ++i) {
        const OutputLeaf &leaf = leaves[i];
        // SETITEMS in batches of 1000 pairs, as Python's pickler writes a dict.
        if (i % 1000 == 0)
            pickle.op('('); // MARK
        pickle.string(leaf.key.toUtf8());
        once(rebuild, [&] { pickle.global("torch._utils", "_rebuild_tensor_v2"); });
        pickle.op('(');
        pickle.op('('); // the storage's persistent id
        once(storageTag, [&] { pickle.string("storage"); });
        once(storageClass[leaf.spec.dtype], [&] { pickle.global("torch", storageType(leaf.spec.dtype)); });
        pickle.string(QByteArray::number(static_cast<qulonglong>(i)));
        once(cpu, [&] { pickle.string("cpu"); });
        pickle.integer(checkedNumel(leaf.spec.shape, std::numeric_limits<qint64>::max()));
        pickle.op('t');
        pickle.op('Q'); // BINPERSID
        pickle.integer(0); // storage offset
        pickle.tuple(leaf.spec.shape);
        pickle.tuple(contiguousStrides(leaf.spec.shape));
        pickle.op('\x89'); // NEWFALSE: requires_grad
        once(orderedDict, [&] { pickle.global("collections", "OrderedDict"); }); // backward hooks: OrderedDict()
        pickle.op(')');
        pickle.op('R'); // REDUCE
        pickle.op('t');
        pickle.op('R');
        if (i % 1000 == 999 || i + 1 == leaves.size())
            pickle.op('u'); // SETITEMS
    }
    pickle.op('.'); // STOP
    return pickle.bytes();
}

} // namespace

Status checkTorch(const QString &path, const std::vector<OutputLeaf> &leaves)
{
    if (Status status = checkUniqueKeys(path, leaves); !status)
        return status;
    for (const OutputLeaf &leaf : leaves) {
        if (storageType(leaf.spec.dtype) == nullptr)
            return Error{path, QStringLiteral("leaf '%1' is %2, which PyTorch 1.13 cannot store in a .pt file; "
                                              "cast it or choose safetensors")
                                   .arg(leaf.key, dtypeName(leaf.spec.dtype))};
    }
    return Status::success();
}

Status writeTorch(OutputSink &sink, const LeafStream &stream)
{
    ZipWriter zip(sink, ZipWriter::Options{false, kStorageAlignment});
    if (Status status = zip.addMember(kArchive + "data.pkl", statePickle(stream.leaves())); !status)
        return status;
    if (Status status = zip.addMember(kArchive + "byteorder", QByteArrayLiteral("little")); !status)
        return status;
    Status written = stream.writeEach([&zip](size_t index, const OutputLeaf &, const TensorBytes &bytes, const WriteSubject &what) {
        return zip.addMember(kArchive + "data/" + QByteArray::number(static_cast<qulonglong>(index)), QByteArray(), bytes, what);
    });
    if (!written)
        return written;
    if (Status status = zip.addMember(kArchive + "version", QByteArrayLiteral("3\n")); !status)
        return status;
    return zip.finish();
}

} // namespace graft::writers
