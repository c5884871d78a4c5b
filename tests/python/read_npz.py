#!/usr/bin/python3
"""Reads an .npz with np.load (and zipfile's CRC check) and checks it against a manifest.

    read_npz.py FILE.npz MANIFEST.json

Checks: zipfile reads every member with a correct CRC-32, every member is stored (not compressed) and
named KEY.npy in manifest order; np.load lists the keys in that order and returns arrays with
the expected dtype (bfloat16/float8 as raw void), shape and bits.

np.load's NpzFile looks each key up in a list, which is quadratic over an archive of 70,000
members; so every member is decoded the way NpzFile.__getitem__ does it
(np.lib.format.read_array on the open member), and np.load itself reads up to
SAMPLE_THROUGH_NP_LOAD of them, spread over the archive. Small members whose bytes equal an
already decoded member's reuse that result (same bytes, same array), which keeps the
70,000-member check fast without skipping any member.
"""

import io
import sys
import zipfile

import numpy as np

from graftcheck import Failures, check_array, load_manifest

SAMPLE_THROUGH_NP_LOAD = 100


def main(path, manifest_path):
    leaves = load_manifest(manifest_path)["leaves"]
    keys = [leaf["key"] for leaf in leaves]
    failures = Failures()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        failures.check([i.filename for i in infos] == [k + ".npy" for k in keys],
                       "members %s, expected %s" % ([i.filename for i in infos][:5], keys[:5]))
        failures.check(all(i.compress_type == zipfile.ZIP_STORED for i in infos), "a member is compressed")
        decoded = {}  # raw bytes of a small member -> the array read_array made of them
        for info, leaf in zip(infos, leaves):
            try:
                raw = archive.read(info)  # zipfile checks the CRC-32 and the sizes here
            except zipfile.BadZipFile as error:
                failures.check(False, "%s: %s" % (leaf["key"], error))
                continue
            array = decoded.get(raw)
            if array is None:
                array = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
                if len(raw) <= 4096:
                    decoded[raw] = array
            check_array(failures, leaf, array)
    with np.load(path) as npz:
        failures.check(npz.files == keys, "np.load lists %s, expected %s" % (npz.files[:5], keys[:5]))
        step = max(1, len(leaves) // SAMPLE_THROUGH_NP_LOAD)
        for leaf in leaves[::step]:
            check_array(failures, leaf, npz[leaf["key"]])
    failures.finish(len(leaves))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
