"""Shared helpers of the interop tests: graft-cli, scratch directories, reading .npy records."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "resources", "python"))

CLI = os.environ.get("GRAFT_CLI", "")
SYSTEM_PYTHON = os.environ.get("GRAFT_SYSTEM_PYTHON", "/usr/bin/python3")
WORK = os.environ.get("GRAFT_INTEROP_WORK", tempfile.gettempdir())


def scratch(name):
    """A fresh directory under the work directory for one test class."""
    path = os.path.join(WORK, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def graft(*args, expect=0):
    """Runs graft-cli; fails the calling test (AssertionError) unless it exits with `expect`."""
    result = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True)
    if expect is not None and result.returncode != expect:
        raise AssertionError("graft-cli %s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), result.returncode, expect,
                                result.stdout[-4000:], result.stderr[-4000:]))
    return result


def inspect(path):
    """graft-cli inspect --json: [{"key", "shape", "dtype", ...}] in the file's order."""
    return json.loads(graft("inspect", path, "--json").stdout)["tensors"]


def read_npy_records(path):
    """Every .npy record of an .eqx file, in order, as numpy arrays (what tree_serialise_leaves wrote)."""
    import numpy as np
    records = []
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        while f.tell() < size:
            records.append(np.load(f, allow_pickle=False))
    return records


class InteropCase(unittest.TestCase):
    def setUp(self):
        if not CLI or not os.path.exists(CLI):
            self.fail("GRAFT_CLI is not set to a built graft-cli (run the tests through ctest)")
