#!/usr/bin/python3
"""Reads a .eqx as eqx.tree_deserialise_leaves does and checks it against a manifest.

    read_eqx.py FILE.eqx MANIFEST.json

Equinox (not installable here) walks the `like` tree and, for each saved leaf, calls np.load
(jnp.load for JAX arrays, which wraps it) on the one open file object, then checks the result's
shape and dtype against `like`. This does the same walk with the manifest as `like`, and more:
every record must be byte-identical to what np.save writes for the array it holds (bfloat16
as jnp.save writes it: descr '<V2'), and no byte may be left after the last record (Equinox
itself does not check that).
"""

import io
import sys

import numpy as np

from graftcheck import Failures, check_array, load_manifest


def main(path, manifest_path):
    leaves = load_manifest(manifest_path)["leaves"]
    failures = Failures()
    with open(path, "rb") as f:
        for leaf in leaves:
            start = f.tell()
            try:
                array = np.load(f)
            except Exception as error:  # what Equinox would raise on
                failures.check(False, "%s: np.load failed at byte %d: %s" % (leaf["key"], start, error))
                failures.finish(len(leaves))
            end = f.tell()
            check_array(failures, leaf, array)

            f.seek(start)
            record = f.read(end - start)
            saved = io.BytesIO()
            np.save(saved, array)
            expected = saved.getvalue()
            if leaf["dtype"] == "bfloat16":
                # ml_dtypes' bfloat16 has descr '<V2' where a plain void array has '|V2'.
                expected = expected.replace(b"'descr': '|V2'", b"'descr': '<V2'", 1)
            failures.check(record == expected,
                           "%s: record at byte %d differs from np.save's bytes:\n  got  %r\n  want %r"
                           % (leaf["key"], start, record[:128], expected[:128]))
        rest = f.read()
        failures.check(rest == b"", "%d bytes left after the last record" % len(rest))
    failures.finish(len(leaves))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
