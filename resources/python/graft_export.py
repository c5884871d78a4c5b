#!/usr/bin/env python3
"""Export an Equinox model for Graft: its leaves (.eqx) and a skeleton that names them.

    from graft_export import export_skeleton
    export_skeleton(model, "vgg19")            # or export_skeleton((model, state), "resnet")
    # -> vgg19.eqx            exactly what eqx.tree_serialise_leaves("vgg19.eqx", model) writes
    #    vgg19.skeleton.json  {"format": "graft-skeleton", "version": 1, "framework": "equinox",
    #                          "leaves_file": "vgg19.eqx",
    #                          "leaves": [{"path": ".features[0].weight", "kind": "array",
    #                                      "shape": [64, 3, 3, 3], "dtype": "float32"}, ...]}

    python3 graft_export.py MODULE:FACTORY OUT    # imports MODULE, calls FACTORY(), exports it

Open the .skeleton.json in Graft as the target, map a PyTorch checkpoint onto it, write an .eqx,
and load that with eqx.tree_deserialise_leaves(path, like=model).

Requirements: jax, equinox, numpy. Tested against the real libraries (equinox 0.13.8, jax 0.10.2)
by tests/interop/test_exporter.py (docs/interop.md); the parts that need no jax (leaf
description, naming, the record check) are also tested with numpy alone by
tests/python/test_graft_export_logic.py. As a safety net, export_skeleton() re-reads every
record header of the .eqx it wrote and refuses to write a skeleton that disagrees with it.

What is listed: exactly the leaves eqx.tree_serialise_leaves saves, in its order.
  - Order: jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf), which is the order the
    serialiser writes (depth-first; module fields in declaration order; lists/tuples by
    index; dicts by sorted key). Paths are jax.tree_util.keystr of the key path.
  - Filter, as equinox's default_serialise_filter_spec: a leaf is saved when it is
    "array-like" (jax.Array, np.ndarray, np.generic, Python bool/int/float/complex, or has
    __jax_array__); everything else (functions, strings, None, other objects) writes nothing
    and is not listed.
  - kind "array": jax.Array, np.ndarray, __jax_array__ objects (any shape, 0-d included);
    kind "scalar": np.generic and Python bool/int/float/complex, always shape [].
  - dtype: numpy's name of the dtype np.save records: a Python float -> float64, bool -> bool,
    int -> int64 (numpy's default integer; int32 on Windows with numpy < 2), complex ->
    complex128; np.generic and arrays keep theirs ("bfloat16", "float8_e4m3fn" from
    ml_dtypes). Dtypes Graft has no name for (int4, float8_e4m3b11fnuz, strings, objects)
    are refused with the leaf's path rather than written into a skeleton Graft can't read.

A (model, state) tuple whose second item is an eqx.nn.State: the state's leaves would be
"[1][0]", "[1][1][0]"... (the State pytree has no keys, only positions). Instead each is named
after the eqx.nn.StateIndex in the model that owns it:
  1. walk the model (tree[0]) with tree_flatten_with_path, stopping at StateIndex objects, and
     map each index's `marker` (the key the State stores its value under) to
     "[0]" + keystr(path of the index), e.g. "[0].layer1[0].bn1.state_index";
  2. the State flattens to its values in the order of its keys (State.tree_flatten()); a leaf
     at "[1][i]<rest>" gets the name of key i's index + keystr(rest), e.g.
     "[0].layer1[0].bn1.state_index[0]";
  3. eqx.nn.BatchNorm only: its `ema_state_index` (mode="ema"), `batch_state_index`
     (mode="batch", equinox >= 0.12) or `state_index` (older equinox) holds the tuple
     (running_mean, running_var), so "<bn>.ema_state_index[0]" / "[1]" become
     "<bn>.running_mean" / "<bn>.running_var" (torch's names); its other indices (the
     first-time flag, batch counters) keep the index-field name, e.g.
     "[0].layer1[0].bn1.ema_first_time_index". (In mode="batch" the inference statistics are
     the stored pair divided by 1 - momentum**batch_counter; with the counter a fresh model
     has, 0, they are used as they are, so torch's running statistics belong there.)
Limits: only a top-level 2-tuple (model, State) is recognised (a State nested elsewhere keeps
its "[...]" paths); a marker with no StateIndex in the model (state built from another model,
or a substate) keeps its raw path; if a readable name would collide with another leaf's path,
every state leaf keeps its raw path and a warning is printed. Names never change the order or
the bytes: the .eqx is what tree_serialise_leaves writes either way.
"""

import importlib
import json
import os
import sys
import warnings

import numpy as np

FORMAT = "graft-skeleton"
VERSION = 1

# The dtype names a Graft skeleton may use (Graft's dtype.cpp).
GRAFT_DTYPES = frozenset([
    "bool", "uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
    "float8_e4m3fn", "float8_e5m2",
])

# Graft dtypes numpy lacks: np.save writes them as raw void of this many bytes ('<V2', '|V1').
VOID_DTYPES = {"bfloat16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1}

# eqx.nn.BatchNorm's state indices holding (running_mean, running_var).
BATCHNORM_STATISTICS = ("state_index", "ema_state_index", "batch_state_index")
BATCHNORM_NAMES = ("running_mean", "running_var")


# ---------------------------------------------------------------------------------------------
# Pure parts (numpy only; tested without jax)
# ---------------------------------------------------------------------------------------------

def describe_leaf(leaf, is_jax_array=False):
    """What tree_serialise_leaves saves for one leaf: {"kind", "shape", "dtype"}, or None.

    Mirrors equinox's default_serialise_filter_spec: jax.Array and np.ndarray are saved as
    they are (kind "array"); other array-likes (np.generic, Python bool/int/float/complex,
    __jax_array__ objects) through jnp.save, which is np.save. `is_jax_array` says whether
    `leaf` is a jax.Array (passed in so this function needs no jax).
    """
    if is_jax_array or isinstance(leaf, np.ndarray):
        return {"kind": "array", "shape": [int(d) for d in leaf.shape], "dtype": np.dtype(leaf.dtype).name}
    if isinstance(leaf, (np.generic, bool, int, float, complex)):
        if isinstance(leaf, int) and not isinstance(leaf, bool) and not -2**63 <= leaf < 2**63:
            raise ValueError("Python int %d does not fit int64; np.save would write an object array" % leaf)
        value = np.asarray(leaf)  # what np.save writes for it
        return {"kind": "scalar", "shape": [], "dtype": value.dtype.name}
    if hasattr(leaf, "__jax_array__"):
        array = leaf.__jax_array__()
        return {"kind": "array", "shape": [int(d) for d in array.shape], "dtype": np.dtype(array.dtype).name}
    return None


def check_dtype(path, entry):
    """Refuses a dtype a Graft skeleton cannot name."""
    if entry["dtype"] not in GRAFT_DTYPES:
        raise ValueError("leaf %s has dtype %s, which Graft cannot read; cast it (e.g. to float32) "
                         "before exporting" % (path, entry["dtype"]))


def state_leaf_name(index_path, rest, rest_indices, batchnorm_statistics):
    """Readable name of a state leaf (see the module docstring, steps 2 and 3).

    index_path: "[0]..." path of the owning StateIndex; rest: keystr of the leaf's path inside
    the state value; rest_indices: that path as integer positions (or None when it holds a
    non-positional key); batchnorm_statistics: the index is a BatchNorm's (running_mean,
    running_var) index.
    """
    if batchnorm_statistics and rest_indices is not None and len(rest_indices) == 1 and rest_indices[0] in (0, 1):
        owner = index_path.rsplit(".", 1)[0]
        return owner + "." + BATCHNORM_NAMES[rest_indices[0]]
    return index_path + rest


def skeleton_text(leaves_file, entries):
    """The skeleton JSON: one leaf per line, so skeletons diff well."""
    head = '{"format": %s, "version": %d, "framework": "equinox", "leaves_file": %s, "leaves": [\n' % (
        json.dumps(FORMAT), VERSION, json.dumps(leaves_file))
    lines = ["  " + json.dumps({"path": e["path"], "kind": e["kind"], "shape": list(e["shape"]),
                                "dtype": e["dtype"]}) for e in entries]
    return head + ",\n".join(lines) + "\n]}\n"


def _dtype_matches(name, dtype):
    if name in VOID_DTYPES:
        return dtype.kind == "V" and dtype.itemsize == VOID_DTYPES[name]
    return dtype == np.dtype(name)


def check_records(eqx_path, entries):
    """Re-reads the .npy record headers of `eqx_path` and checks them against `entries`.

    Raises ValueError at the first record whose shape or dtype differs, when records are
    missing, or when bytes follow the last record.
    """
    size = os.path.getsize(eqx_path)
    with open(eqx_path, "rb") as f:
        for index, entry in enumerate(entries):
            where = "%s: record %d (%s)" % (eqx_path, index, entry["path"])
            if f.tell() >= size:
                raise ValueError("%s: missing; the file holds only %d records" % (where, index))
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError("%s: unexpected .npy version %s" % (where, version))
            if list(shape) != list(entry["shape"]) or not _dtype_matches(entry["dtype"], dtype):
                raise ValueError("%s: the file has %s %s, the skeleton says %s %s"
                                 % (where, dtype.str, list(shape), entry["dtype"], entry["shape"]))
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if f.tell() + nbytes > size:
                raise ValueError("%s: data runs past the end of the file" % where)
            f.seek(nbytes, os.SEEK_CUR)
        if f.tell() != size:
            raise ValueError("%s: %d bytes follow the last of %d records" % (eqx_path, size - f.tell(), len(entries)))


def write_text_atomically(path, text):
    temporary = path + ".graft-tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------
# The parts that need jax and equinox
# ---------------------------------------------------------------------------------------------

def _position(entry):
    """Position of a key-path entry that is one (SequenceKey.idx, FlattenedIndexKey.key), or None."""
    name = type(entry).__name__
    if name == "SequenceKey":
        return entry.idx
    if name == "FlattenedIndexKey":
        return entry.key
    return None


def _state_names(tree, path_leaves):
    """{leaf position in path_leaves: readable name} for the leaves of a (model, State) tuple."""
    import equinox as eqx
    import jax

    if not (isinstance(tree, tuple) and len(tree) == 2 and isinstance(tree[1], eqx.nn.State)):
        return {}
    model, state = tree
    keystr = jax.tree_util.keystr

    is_index = lambda x: isinstance(x, eqx.nn.StateIndex)  # noqa: E731
    index_paths = {}
    for path, node in jax.tree_util.tree_flatten_with_path(model, is_leaf=is_index)[0]:
        if is_index(node):
            index_paths[node.marker] = "[0]" + keystr(path)
    statistics = set()
    is_batchnorm = lambda x: isinstance(x, eqx.nn.BatchNorm)  # noqa: E731
    for _, node in jax.tree_util.tree_flatten_with_path(model, is_leaf=is_batchnorm)[0]:
        if is_batchnorm(node):
            for field in BATCHNORM_STATISTICS:
                index = getattr(node, field, None)
                if is_index(index):
                    statistics.add(index.marker)
    try:
        _, markers = state.tree_flatten()
    except Exception as error:  # an older equinox, or a stale State
        warnings.warn("graft_export: cannot read the State's keys (%s); state leaves keep their "
                      "[1]... paths" % error)
        return {}

    names = {}
    for position, (path, _) in enumerate(path_leaves):
        if len(path) < 2 or _position(path[0]) != 1:
            continue
        key = _position(path[1])
        if key is None or key >= len(markers) or markers[key] not in index_paths:
            continue
        rest = path[2:]
        positions = [_position(entry) for entry in rest]
        names[position] = state_leaf_name(index_paths[markers[key]], keystr(rest),
                                          None if None in positions else positions,
                                          markers[key] in statistics)
    return names


def skeleton_leaves(tree, is_leaf=None):
    """The skeleton entries of `tree`: every leaf tree_serialise_leaves saves, in its order."""
    import jax

    path_leaves, _ = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)
    state_names = _state_names(tree, path_leaves)
    entries = []
    raw_paths = {}
    for position, (path, leaf) in enumerate(path_leaves):
        raw = jax.tree_util.keystr(path)
        try:
            entry = describe_leaf(leaf, is_jax_array=isinstance(leaf, jax.Array))
        except ValueError as error:
            raise ValueError("leaf %s: %s" % (raw, error)) from None
        if entry is None:
            continue
        entry = dict(entry, path=state_names.get(position, raw))
        check_dtype(raw, entry)
        raw_paths[len(entries)] = raw
        entries.append(entry)

    paths = [e["path"] for e in entries]
    if len(set(paths)) != len(paths):
        warnings.warn("graft_export: readable state names collide with other leaves; state leaves "
                      "keep their [1]... paths")
        for index, entry in enumerate(entries):
            entry["path"] = raw_paths[index]
    return entries


def export_skeleton(tree, path, is_leaf=None):
    """Writes `path`.eqx (eqx.tree_serialise_leaves) and `path`.skeleton.json naming its leaves.

    `tree` is any PyTree (typically an eqx.Module, or a (model, eqx.nn.State) tuple); `is_leaf`
    is passed to both the serialiser and the flattening that lists the leaves. Both files are
    written under temporary names and renamed when complete. Returns the skeleton's path.
    Raises ValueError if a leaf has a dtype Graft cannot name, or if the written .eqx does not
    match the listing (which would mean this module misreads equinox's serialiser).
    """
    import equinox as eqx

    path = os.fspath(path)
    eqx_path = path + ".eqx"
    json_path = path + ".skeleton.json"
    entries = skeleton_leaves(tree, is_leaf)

    temporary = eqx_path + ".graft-tmp"  # has a suffix, so equinox appends nothing
    try:
        eqx.tree_serialise_leaves(temporary, tree, is_leaf=is_leaf)
        check_records(temporary, entries)
        os.replace(temporary, eqx_path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    write_text_atomically(json_path, skeleton_text(os.path.basename(eqx_path), entries))
    return json_path


def load_factory(spec):
    """MODULE:FACTORY (FACTORY may be dotted, e.g. models:VGG19.create) -> the callable."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit("graft_export: expected MODULE:FACTORY, got %r" % spec)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print("usage: python3 graft_export.py MODULE:FACTORY OUT\n\n"
              "Imports MODULE, calls FACTORY() (which returns a model or a (model, state) tuple)\n"
              "and writes OUT.eqx and OUT.skeleton.json for Graft.", file=sys.stderr)
        return 2
    tree = load_factory(argv[1])()
    json_path = export_skeleton(tree, argv[2])
    with open(json_path, encoding="utf-8") as f:
        count = len(json.load(f)["leaves"])
    print("wrote %s.eqx and %s (%d leaves)" % (argv[2], json_path, count))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
