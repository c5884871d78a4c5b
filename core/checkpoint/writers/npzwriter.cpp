// .npz output: a stored (uncompressed) zip of KEY.npy members, as np.load reads it:
//
//   [zip local header "KEY.npy"][.npy v1.0 header (formatNpyHeader)][data] ...
//   [central directory][ZIP64 end records when needed][end record]
//
// Each member's size (npy header + numel × itemsize) is known before its data is produced,
// so members stream one leaf at a time (zipwriter.h has the zip details). np.savez names
// members exactly so; keys containing '/' become member paths, which np.load accepts.

#include "checkpoint/writers/formatwriters.h"
#include "checkpoint/writers/zipwriter.h"

#include "checkpoint/formats/npyheader.h"

namespace graft::writers {
namespace {

QByteArray memberName(const OutputLeaf &leaf) { return (leaf.key + QStringLiteral(".npy")).toUtf8(); }

} // namespace

Status checkNpz(const QString &path, const std::vector<OutputLeaf> &leaves)
{
    if (Status status = checkUniqueKeys(path, leaves); !status)
        return status;
    for (const OutputLeaf &leaf : leaves) {
        if (memberName(leaf).size() > 0xffff)
            return Error{path, QStringLiteral("leaf '%1…' has a name longer than a zip member name can be")
                                   .arg(leaf.key.left(40))};
    }
    return Status::success();
}

Status writeNpz(OutputSink &sink, const LeafStream &stream, const NpzOptions &options)
{
    ZipWriter zip(sink, ZipWriter::Options{options.forceZip64, 0});
    Status written = stream.writeEach([&zip](size_t, const OutputLeaf &leaf, const TensorBytes &bytes, const WriteSubject &what) {
        return zip.addMember(memberName(leaf), formatNpyHeader(leaf.spec.dtype, leaf.spec.shape), bytes, what);
    });
    if (!written)
        return written;
    return zip.finish();
}

} // namespace graft::writers
