#!/usr/bin/python3
"""Generate the benchmark workloads of bench/run.sh (nothing is downloaded, nothing committed).

Run with Debian's interpreter (it has torch, torchvision and numpy):

    /usr/bin/python3 bench/make_workloads.py OUTDIR [--smoke]

Writes into OUTDIR (skips files that already exist with the same generator version):

    vgg19.pth                torch.save(torchvision vgg19().state_dict()), random init, seed 0
    vgg19_b.pth              the same weights + 1e-3 noise ("fine-tuned"), for W5 diff
    vgg19_eqx.skeleton.json  Equinox-style skeleton of VGG19: mirrored names `.features[0].weight`,
    vgg19_eqx.eqx            conv bias (C,1,1), MaxPool init / Dropout p, inference scalars;
                             the .eqx array records are holes (zeros): only their headers and the
                             scalar records are real bytes
    vgg19_eqx.scalars.json   the scalar leaves' values (the Python baseline writes them too)
    synthetic_5g.pth         a torch.save-layout zip of 20 float32 tensors of 256 MiB (5 GiB);
                             its storages are holes, so it costs no disk and seconds to write
    transformer.source.tsv   W3: a ~100k-key MoE transformer state_dict (Hugging Face names,
    transformer.target.tsv   bf16) and its Equinox twin (float32, ~100k leaves): KeySpec lists,
    transformer.rules        one `key<TAB>dtype<TAB>d0,d1,..<TAB>array|scalar` per line, and
                             the rename rules (`REGEX=>REPLACEMENT`, one a line)
    transformer_100k.pth     W4: the same keys with every dim scaled down (storages are holes)
    transformer_100k_eqx.skeleton.json / .eqx   W4: the Equinox twin as a Graft skeleton
    w7.source.tsv            W7: the same ~100k keys named as Hugging Face names Mixtral, and two
    w7.perlayer.tsv          Equinox ports of it (one module per layer, ~100k leaves; scanned
    w7.stacked.tsv           layers, every leaf stacked): KeySpec lists, no rename rules
    keys_N.pth               W6: N small float32 tensors (`blocks.I.weight`, 4x4; storages are
                             holes) for N = 1000, 4000, 20000, 100000 (smoke: 1000, 4000):
                             how convert's time and memory grow with the key count
    keys_N_eqx.skeleton.json / .eqx   W6: their Equinox twins (`.blocks[I].weight`, plus a
                             `.blocks[I].bias` nothing provides every 100th block)

The transformer pair is built to exercise every matcher strategy at scale:
  * names that match after canonicalisation (`model.layers.3.mlp.experts.7.up_proj.weight` vs
    `.layers[3].mlp.experts[7].up_proj.weight`),
  * names that match only after the rename rules (`self_attn.q_proj` -> `attn.query_proj`),
  * a renamed router (`mlp.gate` vs `mlp.router`) that only order + shape can place,
  * reordered blocks (torch registers attention, mlp, then the norms; the Equinox module
    declares the input norm, attention, post norm, mlp),
  * source extras (`rotary_emb.inv_freq` buffers), target extras (a few `attn.sinks` leaves
    nothing provides) and scalar leaves (`dropout.p`, kept).
"""

import argparse
import collections
import json
import os
import struct
import sys
import zlib

import numpy as np

# The torch-style pickler is shared with the test fixtures (standard library only).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from torchpickle_writer import (  # noqa: E402
    REBUILD_V2, GlobalRef, StorageRef, TensorRef, contiguous_stride, torch_style_pickle)

GENERATOR_VERSION = 1

KEY_LADDER = (1000, 4000, 20000, 100000)  # W6 (bench/run.py reads these too)
KEY_LADDER_SMOKE = (1000, 4000)

VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
             512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


# ---------------------------------------------------------------------------------------------
# A torch.save-layout zip written with holes for the storages (layout of PyTorchStreamWriter)
# ---------------------------------------------------------------------------------------------

STORAGE_CLASS = {"float32": ("FloatStorage", 4), "bfloat16": ("BFloat16Storage", 2),
                 "float16": ("HalfStorage", 2)}

_zero_crc_cache = {}


def zeros_crc32(size):
    """CRC-32 of `size` zero bytes (what a hole reads as)."""
    if size not in _zero_crc_cache:
        chunk = bytes(min(size, 64 << 20))
        crc, left = 0, size
        while left > 0:
            n = min(left, len(chunk))
            crc = zlib.crc32(memoryview(chunk)[:n], crc)
            left -= n
        _zero_crc_cache[size] = crc & 0xFFFFFFFF
    return _zero_crc_cache[size]


def write_sparse_torch_zip(path, tensors):
    """tensors: list of (key, dtype name, shape). Writes a torch.save-style zip whose storages
    are holes (zeros). Same layout as torch.save (64-byte aligned records, data descriptors,
    ZIP64 end records), with ZIP64 extra fields where offsets pass 4 GiB."""
    archive = os.path.splitext(os.path.basename(path))[0]
    state = collections.OrderedDict()
    storages = []
    for i, (key, dtype, shape) in enumerate(tensors):
        numel = int(np.prod(shape, dtype=np.int64)) if shape else 1
        storage_class, itemsize = STORAGE_CLASS[dtype]
        ref = StorageRef(GlobalRef("torch", storage_class), str(i), numel)
        state[key] = TensorRef(REBUILD_V2, ref, 0, shape, contiguous_stride(shape))
        storages.append(("data/%d" % i, numel * itemsize))
    records = [("data.pkl", torch_style_pickle(state))] + storages + [("version", b"3\n")]

    central = []
    with open(path + ".tmp", "wb") as f:
        for name, data in records:
            full = ("%s/%s" % (archive, name)).encode("utf-8")
            offset = f.tell()
            start = offset + 30 + len(full) + 4
            pad = (-start) % 64
            extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, 0x0808, 0, 0, 0, 0, 0, 0, len(full), len(extra)))
            f.write(full + extra)
            if isinstance(data, int):  # a hole of `data` bytes
                size, crc = data, zeros_crc32(data)
                f.seek(size, os.SEEK_CUR)
            else:
                size, crc = len(data), zlib.crc32(data) & 0xFFFFFFFF
                f.write(data)
            f.write(struct.pack("<IIII", 0x08074B50, crc, size & 0xFFFFFFFF, size & 0xFFFFFFFF))
            central.append((full, crc, size, offset))
        cd_offset = f.tell()
        for full, crc, size, offset in central:
            big_size = size >= 0xFFFFFFFF
            big_offset = offset >= 0xFFFFFFFF
            extra = b""
            if big_size or big_offset:
                fields = (struct.pack("<QQ", size, size) if big_size else b"") + \
                         (struct.pack("<Q", offset) if big_offset else b"")
                extra = struct.pack("<HH", 0x0001, len(fields)) + fields
            f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if extra else 0, 45 if extra else 0,
                                0x0808, 0, 0, 0, crc,
                                0xFFFFFFFF if big_size else size, 0xFFFFFFFF if big_size else size,
                                len(full), len(extra), 0, 0, 0, 0, 0xFFFFFFFF if big_offset else offset))
            f.write(full + extra)
        cd_size = f.tell() - cd_offset
        zip64_eocd = f.tell()
        n = len(central)
        f.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_offset))
        f.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_eocd, 1))
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                            min(cd_size, 0xFFFFFFFF), min(cd_offset, 0xFFFFFFFF), 0))
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------------------------------------
# Equinox-style skeletons (.eqx records + skeleton JSON), array records as holes
# ---------------------------------------------------------------------------------------------

NUMPY_DTYPE = {"float32": "<f4", "float64": "<f8", "bool": "|b1", "bfloat16": "<V2", "float16": "<f2"}


def write_skeleton(outdir, stem, leaves):
    """leaves: list of (path, kind, shape, dtype name, scalar value or None)."""
    eqx = os.path.join(outdir, stem + ".eqx")
    with open(eqx + ".tmp", "wb") as f:
        for path, kind, shape, dtype, value in leaves:
            if kind == "scalar":
                np.save(f, np.asarray(value))
                continue
            header = {"descr": NUMPY_DTYPE[dtype], "fortran_order": False, "shape": tuple(shape)}
            np.lib.format.write_array_header_1_0(f, header)
            nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(NUMPY_DTYPE[dtype]).itemsize
            f.seek(nbytes, os.SEEK_CUR)
        f.truncate(f.tell())
    os.replace(eqx + ".tmp", eqx)
    lines = ["  " + json.dumps({"path": p, "kind": k, "shape": list(s), "dtype": d})
             for p, k, s, d, _ in leaves]
    text = ('{"format": "graft-skeleton", "version": 1, "framework": "equinox", "leaves_file": %s, '
            '"leaves": [\n' % json.dumps(stem + ".eqx")) + ",\n".join(lines) + "\n]}\n"
    with open(os.path.join(outdir, stem + ".skeleton.json"), "w", encoding="utf-8") as f:
        f.write(text)


def vgg_equinox_leaves(state, cfg):
    """Leaves of the Equinox twin of torchvision's VGG in tree_flatten order (the layout of
    resources/examples/make_example.py): Conv2d weight + bias (C,1,1), MaxPool2d init (-inf),
    Linear weight + bias, Dropout p (0.5) and inference (False); ReLU/Lambda and
    AdaptiveAvgPool2d save nothing."""
    leaves = []
    index = 0
    for v in cfg:
        prefix = ".features[%d]" % index
        if v == "M":
            leaves.append((prefix + ".init", "scalar", [], "float64", float("-inf")))
            index += 1
            continue
        weight = state["features.%d.weight" % index]
        leaves.append((prefix + ".weight", "array", list(weight.shape), "float32", None))
        leaves.append((prefix + ".bias", "array", [weight.shape[0], 1, 1], "float32", None))
        index += 2
    for index in range(7):
        prefix = ".classifier[%d]" % index
        if index in (0, 3, 6):
            weight = state["classifier.%d.weight" % index]
            leaves.append((prefix + ".weight", "array", list(weight.shape), "float32", None))
            leaves.append((prefix + ".bias", "array", [weight.shape[0]], "float32", None))
        elif index in (2, 5):
            leaves.append((prefix + ".p", "scalar", [], "float64", 0.5))
            leaves.append((prefix + ".inference", "scalar", [], "bool", False))
    return leaves


def make_vgg(smoke):
    import torch
    import torchvision
    from torch import nn
    torch.manual_seed(0)
    if not smoke:
        return torchvision.models.vgg19().eval(), VGG19_CFG
    cfg = [v if v == "M" else v // 8 for v in VGG19_CFG]
    model = torchvision.models.vgg.VGG(torchvision.models.vgg.make_layers(cfg), num_classes=10)
    model.classifier = nn.Sequential(nn.Linear(cfg[-2] * 49, 256), nn.ReLU(True), nn.Dropout(0.5),
                                     nn.Linear(256, 256), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(256, 10))
    return model, cfg


# ---------------------------------------------------------------------------------------------
# The ~100k-key MoE transformer (W3 key lists, W4 files)
# ---------------------------------------------------------------------------------------------

RULES = [r"\.self_attn\.q_proj\.=>.attn.query_proj.", r"\.self_attn\.k_proj\.=>.attn.key_proj.",
         r"\.self_attn\.v_proj\.=>.attn.value_proj.", r"\.self_attn\.o_proj\.=>.attn.output_proj."]


def transformer_pair(layers, experts, hidden, heads_dim, kv_hidden, expert_ffn, vocab):
    """(source, target): lists of (key, dtype, shape, kind) in file order."""
    source = [("model.embed_tokens.weight", "bfloat16", [vocab, hidden], "array")]
    target = [(".embed_tokens.weight", "float32", [vocab, hidden], "array")]
    for i in range(layers):
        s = "model.layers.%d." % i
        t = ".layers[%d]." % i
        attention = [("q_proj", "query_proj", [hidden, hidden]), ("k_proj", "key_proj", [kv_hidden, hidden]),
                     ("v_proj", "value_proj", [kv_hidden, hidden]), ("o_proj", "output_proj", [hidden, hidden])]
        # torch registration order: self_attn, mlp (router `gate`, experts), norms
        for name, _, shape in attention:
            source.append((s + "self_attn.%s.weight" % name, "bfloat16", shape, "array"))
        source.append((s + "self_attn.rotary_emb.inv_freq", "float32", [heads_dim // 2], "array"))
        source.append((s + "mlp.gate.weight", "bfloat16", [experts, hidden], "array"))
        for e in range(experts):
            for name, shape in (("gate_proj", [expert_ffn, hidden]), ("up_proj", [expert_ffn, hidden]),
                                ("down_proj", [hidden, expert_ffn])):
                source.append((s + "mlp.experts.%d.%s.weight" % (e, name), "bfloat16", shape, "array"))
        source.append((s + "input_layernorm.weight", "bfloat16", [hidden], "array"))
        source.append((s + "post_attention_layernorm.weight", "bfloat16", [hidden], "array"))
        # Equinox declaration order: input norm, attention, post norm, mlp (router, experts)
        target.append((t + "input_layernorm.weight", "float32", [hidden], "array"))
        for _, name, shape in attention:
            target.append((t + "attn.%s.weight" % name, "float32", shape, "array"))
        if i % 16 == 0:
            target.append((t + "attn.sinks", "float32", [hidden // heads_dim], "array"))
        target.append((t + "attn.dropout.p", "float64", [], "scalar"))
        target.append((t + "post_attention_layernorm.weight", "float32", [hidden], "array"))
        target.append((t + "mlp.router.weight", "float32", [experts, hidden], "array"))
        for e in range(experts):
            for name, shape in (("gate_proj", [expert_ffn, hidden]), ("up_proj", [expert_ffn, hidden]),
                                ("down_proj", [hidden, expert_ffn])):
                target.append((t + "mlp.experts[%d].%s.weight" % (e, name), "float32", shape, "array"))
    source += [("model.norm.weight", "bfloat16", [hidden], "array"),
               ("lm_head.weight", "bfloat16", [vocab, hidden], "array")]
    target += [(".norm.weight", "float32", [hidden], "array"), (".lm_head.weight", "float32", [vocab, hidden], "array")]
    return source, target


def mixtral_pair(layers, experts, hidden, kv_hidden, expert_ffn, vocab):
    """W7: (source, per-layer target, stacked target) with no rename rules: the source named as
    Hugging Face names Mixtral (`block_sparse_moe.gate`, experts' `w1/w2/w3`), the targets as an
    Equinox port declares them (`attn.query_proj`, `norm1/norm2`, `moe.router`,
    `moe.experts[e].gate_proj/down_proj/up_proj`, in declaration order), one per layer or scanned
    (every layer's leaves stacked on a new axis 0). Only the naming table and the structure link
    the two sides."""
    attention = [("q_proj", "query_proj", [hidden, hidden]), ("k_proj", "key_proj", [kv_hidden, hidden]),
                 ("v_proj", "value_proj", [kv_hidden, hidden]), ("o_proj", "output_proj", [hidden, hidden])]
    source_expert = [("w1", [expert_ffn, hidden]), ("w2", [hidden, expert_ffn]), ("w3", [expert_ffn, hidden])]
    target_expert = [("gate_proj", [expert_ffn, hidden]), ("down_proj", [hidden, expert_ffn]), ("up_proj", [expert_ffn, hidden])]
    source = [("model.embed_tokens.weight", "bfloat16", [vocab, hidden], "array")]
    perlayer = [(".embed_tokens.weight", "float32", [vocab, hidden], "array")]
    for i in range(layers):
        s = "model.layers.%d." % i
        t = ".layers[%d]." % i
        source += [(s + "self_attn.%s.weight" % name, "bfloat16", shape, "array") for name, _, shape in attention]
        source += [(s + "input_layernorm.weight", "bfloat16", [hidden], "array"),
                   (s + "post_attention_layernorm.weight", "bfloat16", [hidden], "array"),
                   (s + "block_sparse_moe.gate.weight", "bfloat16", [experts, hidden], "array")]
        source += [(s + "block_sparse_moe.experts.%d.%s.weight" % (e, name), "bfloat16", shape, "array")
                   for e in range(experts) for name, shape in source_expert]
        perlayer += [(t + "attn.%s.weight" % name, "float32", shape, "array") for _, name, shape in attention]
        perlayer += [(t + "norm1.weight", "float32", [hidden], "array"), (t + "norm2.weight", "float32", [hidden], "array"),
                     (t + "moe.router.weight", "float32", [experts, hidden], "array")]
        perlayer += [(t + "moe.experts[%d].%s.weight" % (e, name), "float32", shape, "array")
                     for e in range(experts) for name, shape in target_expert]
    source += [("model.norm.weight", "bfloat16", [hidden], "array"), ("lm_head.weight", "bfloat16", [vocab, hidden], "array")]
    perlayer += [(".norm.weight", "float32", [hidden], "array"), (".lm_head.weight", "float32", [vocab, hidden], "array")]
    stacked = [(".embed_tokens.weight", "float32", [vocab, hidden], "array")]
    stacked += [(".layers.attn.%s.weight" % name, "float32", [layers] + shape, "array") for _, name, shape in attention]
    stacked += [(".layers.norm1.weight", "float32", [layers, hidden], "array"),
                (".layers.norm2.weight", "float32", [layers, hidden], "array"),
                (".layers.moe.router.weight", "float32", [layers, experts, hidden], "array")]
    stacked += [(".layers.moe.experts[%d].%s.weight" % (e, name), "float32", [layers] + shape, "array")
                for e in range(experts) for name, shape in target_expert]
    stacked += [(".norm.weight", "float32", [hidden], "array"), (".lm_head.weight", "float32", [vocab, hidden], "array")]
    return source, perlayer, stacked


def write_keyspecs(path, entries):
    with open(path, "w", encoding="utf-8") as f:
        for key, dtype, shape, kind in entries:
            f.write("%s\t%s\t%s\t%s\n" % (key, dtype, ",".join(str(d) for d in shape), kind))


# ---------------------------------------------------------------------------------------------

def stamp_ok(outdir, name, settings):
    path = os.path.join(outdir, name)
    stamp = path + ".stamp"
    want = json.dumps({"version": GENERATOR_VERSION, **settings}, sort_keys=True)
    if os.path.exists(path) and os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as f:
            if f.read() == want:
                return True, None
    return False, (stamp, want)


def done(marker):
    stamp, want = marker
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(want)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--smoke", action="store_true", help="tiny workloads (seconds)")
    args = parser.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    out = args.outdir
    settings = {"smoke": args.smoke}

    ok, marker = stamp_ok(out, "vgg19_eqx.skeleton.json", settings)
    if not ok:
        import torch
        model, cfg = make_vgg(args.smoke)
        state = model.state_dict()
        torch.save(state, os.path.join(out, "vgg19.pth"))
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            tuned = collections.OrderedDict(
                (k, v + 1e-3 * torch.randn(v.shape, generator=generator)) for k, v in state.items())
        torch.save(tuned, os.path.join(out, "vgg19_b.pth"))
        del tuned
        leaves = vgg_equinox_leaves(state, cfg)
        write_skeleton(out, "vgg19_eqx", leaves)
        with open(os.path.join(out, "vgg19_eqx.scalars.json"), "w", encoding="utf-8") as f:
            json.dump({p: (v if v != float("-inf") else "-inf") for p, k, _, _, v in leaves if k == "scalar"}, f)
        done(marker)
        print("make_workloads: vgg19.pth, vgg19_b.pth, vgg19_eqx skeleton", flush=True)

    ok, marker = stamp_ok(out, "synthetic_5g.pth", settings)
    if not ok:
        count, shape = (4, [1024, 4096]) if args.smoke else (20, [16384, 4096])
        write_sparse_torch_zip(os.path.join(out, "synthetic_5g.pth"),
                               [("blocks.%d.weight" % i, "float32", shape) for i in range(count)])
        done(marker)
        print("make_workloads: synthetic_5g.pth", flush=True)

    # ~100k keys: 64 layers x (520 experts x 3 + 7) + 3 = 100,291 source keys.
    layers, experts = (4, 32) if args.smoke else (64, 520)
    ok, marker = stamp_ok(out, "transformer_100k_eqx.skeleton.json", dict(settings, layers=layers, experts=experts))
    if not ok:
        source, target = transformer_pair(layers, experts, hidden=4096, heads_dim=128, kv_hidden=1024,
                                          expert_ffn=1408, vocab=32000)
        write_keyspecs(os.path.join(out, "transformer.source.tsv"), source)
        write_keyspecs(os.path.join(out, "transformer.target.tsv"), target)
        with open(os.path.join(out, "transformer.rules"), "w", encoding="utf-8") as f:
            f.write("\n".join(RULES) + "\n")
        # The same keys with small dims for real files (hidden 64): the GUI shows shapes only.
        source, target = transformer_pair(layers, experts, hidden=64, heads_dim=16, kv_hidden=16,
                                          expert_ffn=32, vocab=512)
        write_sparse_torch_zip(os.path.join(out, "transformer_100k.pth"), [(k, d, s) for k, d, s, _ in source])
        write_skeleton(out, "transformer_100k_eqx",
                       [(k, kind, s, d, 0.0 if kind == "scalar" else None) for k, d, s, kind in target])
        done(marker)
        print("make_workloads: transformer key lists (%d source keys, %d target leaves) and files"
              % (len(source), len(target)), flush=True)
    # W7: real naming, no rules (the same 100,291 keys, Mixtral-named).
    ok, marker = stamp_ok(out, "w7.source.tsv", dict(settings, layers=layers, experts=experts))
    if not ok:
        source, perlayer, stacked = mixtral_pair(layers, experts, hidden=4096, kv_hidden=1024, expert_ffn=1408, vocab=32000)
        write_keyspecs(os.path.join(out, "w7.perlayer.tsv"), perlayer)
        write_keyspecs(os.path.join(out, "w7.stacked.tsv"), stacked)
        write_keyspecs(os.path.join(out, "w7.source.tsv"), source)
        done(marker)
        print("make_workloads: W7 key lists (%d source keys, %d per-layer and %d stacked leaves)"
              % (len(source), len(perlayer), len(stacked)), flush=True)
    # W6: the key-count ladder.
    for count in KEY_LADDER_SMOKE if args.smoke else KEY_LADDER:
        name = "keys_%d.pth" % count
        ok, marker = stamp_ok(out, name, dict(settings, keys=count, eqx_twin=True))
        if not ok:
            write_sparse_torch_zip(os.path.join(out, name),
                                   [("blocks.%d.weight" % i, "float32", [4, 4]) for i in range(count)])
            # Its Equinox twin: `.blocks[I].weight`, the same shapes, a bias nothing provides
            # every 100th block (kept from the target).
            leaves = []
            for i in range(count):
                leaves.append((".blocks[%d].weight" % i, "array", [4, 4], "float32", None))
                if i % 100 == 0:
                    leaves.append((".blocks[%d].bias" % i, "array", [4], "float32", None))
            write_skeleton(out, "keys_%d_eqx" % count, leaves)
            done(marker)
            print("make_workloads: %s and keys_%d_eqx.skeleton.json" % (name, count), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
