#!/usr/bin/env python3
"""Runs one area of the interop tests (test_<AREA>.py) with the interop venv's python.

    run.py AREA --python VENV_PYTHON --cli GRAFT_CLI --system-python PY --work DIR

Started by ctest with Debian's python (which always exists). When the venv is missing (setup.sh
--no-interop, or setup.sh not run) it prints why and exits with SKIP_CODE, which ctest's
SKIP_RETURN_CODE turns into "Skipped" — never "Passed". A venv that exists but is broken fails.
"""

import argparse
import os
import subprocess
import sys

SKIP_CODE = 77


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("area", choices=["exporter", "writers", "readers", "e2e"])
    parser.add_argument("--python", required=True, help="the interop venv's python")
    parser.add_argument("--cli", required=True, help="graft-cli")
    parser.add_argument("--system-python", required=True, help="Debian's python with torchvision")
    parser.add_argument("--work", required=True, help="a directory for the files the tests write")
    args = parser.parse_args()

    if not os.path.exists(args.python):
        print("SKIPPED: no interop venv at %s; run ./scripts/setup.sh (without --no-interop) to "
              "create it (docs/interop.md)" % args.python)
        return SKIP_CODE
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ,
               GRAFT_CLI=os.path.abspath(args.cli),
               GRAFT_SYSTEM_PYTHON=args.system_python,
               GRAFT_INTEROP_WORK=os.path.abspath(args.work),
               JAX_PLATFORMS="cpu",
               TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONWARNINGS="ignore",
               PYTHONDONTWRITEBYTECODE="1")
    command = [args.python, "-m", "unittest", "-v", "test_%s" % args.area]
    return subprocess.call(command, cwd=here, env=env)


if __name__ == "__main__":
    sys.exit(main())
