// .eqx output: what eqx.tree_serialise_leaves writes, one .npy v1.0 record per leaf, back to
// back, with nothing before, between or after them:
//
//   [\x93NUMPY 1 0][u16 header length][{'descr': '<f4', 'fortran_order': False, 'shape': (..), }
//    padded with spaces, '\n' at a multiple of 64][data] [next record] ...
//
// formatNpyHeader() gives the header np.save writes (bfloat16 as '<V2', as jnp.save does).
// eqx.tree_deserialise_leaves reads the records back in the order of the `like` tree's leaves,
// so the leaves must already be in that order; no names are stored.

#include "checkpoint/writers/formatwriters.h"

#include "checkpoint/formats/npyheader.h"

namespace graft::writers {

Status writeEqx(OutputSink &sink, const LeafStream &stream)
{
    return stream.writeEach([&sink](size_t, const OutputLeaf &leaf, const TensorBytes &bytes, const WriteSubject &what) {
        if (Status status = sink.write(formatNpyHeader(leaf.spec.dtype, leaf.spec.shape), what); !status)
            return status;
        return sink.write(bytes, what);
    });
}

} // namespace graft::writers
