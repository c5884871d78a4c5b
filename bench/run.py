#!/usr/bin/python3
"""Graft's benchmarks: runs Graft and the baselines on the workloads of make_workloads.py, in the
same run, several times each, and writes the results as Markdown (docs/benchmarks.md).

Started by bench/run.sh (which builds first); see that file and docs/benchmarks.md for what is
measured. Standard library only: the baselines that need torch run as child processes.

Timing: every command runs as a child process; its wall time is taken around spawn and wait,
its CPU time (user + sys) comes from os.wait4()'s rusage and its peak RSS from GNU time's %M
(see run_once: a child of this Python process would inherit the harness's own RSS high-water
mark in ru_maxrss). One untimed warm-up run precedes the timed ones (warm page cache unless --cold),
and the commands of one workload are interleaved repetition by repetition so that load from
other processes on the machine spreads over all of them alike.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's torch and numpy live there
# W6's key ladder: the keys_N.pth files make_workloads.py writes (its KEY_LADDER*: keep in step).
KEY_LADDER = (1000, 4000, 20000, 100000)
KEY_LADDER_SMOKE = (1000, 4000)


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------

def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


GNU_TIME = "/usr/bin/time"


def run_once(argv, stdout=subprocess.DEVNULL, env=None):
    """(wall seconds, peak RSS KiB, cpu seconds, exit code, stderr) of one child process.

    Peak RSS comes from GNU time (`-f %M`) when installed: a child forked from this Python
    process inherits its resident-set high-water mark, so wait4()'s ru_maxrss would never read
    below the harness's own size (~15-80 MB); GNU time is small. Without it, wait4()'s value."""
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        rss_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), "graft-bench-rss-%d" % os.getpid())
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + list(argv)
    for attempt in range(10):  # a binary being relinked by a concurrent build: wait for it
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env)
            break
        except OSError as error:
            if attempt == 9 or error.errno not in (13, 26):
                raise
            time.sleep(3)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    rss = usage.ru_maxrss
    if rss_file:
        try:
            with open(rss_file, encoding="utf-8") as f:
                rss = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return wall, rss, usage.ru_utime + usage.ru_stime, proc.returncode, err


class Command:
    def __init__(self, name, argv, role, before=None, shell_text=None, ok_codes=(0,)):
        self.name, self.argv, self.role, self.before = name, argv, role, before
        self.shell_text = shell_text or " ".join(shlex.quote(a) for a in argv)
        self.ok_codes = ok_codes
        self.walls, self.rss, self.cpu = [], [], []

    def run(self, cold=False, record=True):
        if self.before:
            self.before()
        if cold:
            drop_caches()
        wall, rss, cpu, code, err = run_once(self.argv)
        if code not in self.ok_codes:
            raise SystemExit("bench: `%s` failed (exit %d):\n%s" % (self.shell_text, code, err[-2000:]))
        if record:
            self.walls.append(wall)
            self.rss.append(rss)
            self.cpu.append(cpu)

    @property
    def median(self):
        return statistics.median(self.walls)


def measure(commands, reps, cold=False, warmup=True):
    if warmup:
        for command in commands:  # page cache, dynamic loader; not recorded
            command.run(cold=False, record=False)
    for _ in range(reps):
        for command in commands:
            command.run(cold=cold)
    return commands


def files_equal(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 24), fb.read(1 << 24)
            if x != y:
                return False
            if not x:
                return True


def run_json(argv):
    """The JSON line a bench executable prints, with "peak_rss_kb" measured by GNU time."""
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        rss_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), "graft-bench-rss-%d" % os.getpid())
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file] + list(argv)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit("bench: `%s` failed (exit %d):\n%s" % (" ".join(argv), proc.returncode,
                                                                 err.decode(errors="replace")[-2000:]))
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    if rss_file:
        try:
            with open(rss_file, encoding="utf-8") as f:
                result["peak_rss_kb"] = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return result


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

def ms(seconds):
    value = seconds * 1000.0
    return "%.0f ms" % value if value >= 100 else "%.1f ms" % value


def mb(kib):
    return "%.0f MB" % (kib * 1024 / 1e6) if kib * 1024 >= 10e6 else "%.1f MB" % (kib * 1024 / 1e6)


def table_row(command):
    return "| %s | %s | %s – %s | %s | %s | `%s` |" % (
        command.name, ms(command.median), ms(min(command.walls)), ms(max(command.walls)),
        ms(statistics.median(command.cpu)), mb(max(command.rss)), command.shell_text)


TABLE_HEAD = ("| what | wall (median) | wall (min – max) | CPU user+sys (median) | peak RSS (max) | command |\n"
              "|---|---|---|---|---|---|")


def verdict(ok):
    return "**met**" if ok else "**not met**"


def machine_info():
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.0f GB" % (int(line.split()[1]) * 1024 / 1e9)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "nproc": os.cpu_count(), "mem": mem, "kernel": platform.release(),
            "commit": commit + (" (with uncommitted changes)" if dirty else ""),
            "load": "%.2f %.2f %.2f" % os.getloadavg()}


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        self.out = os.path.join(self.work, "out")
        os.makedirs(self.out, exist_ok=True)
        self.cli = os.path.join(args.build, "app", "graft-cli")
        self.sections = []
        self.summary = []
        self.failures = [] # correctness problems: run.py exits non-zero

    def path(self, name):
        return os.path.join(self.work, name)

    def note(self, text):
        print("bench: " + text, flush=True)

    def w1_inspect(self):
        self.note("W1 inspect")
        text = []
        rows = []
        for name, label in (("vgg19.pth", "torchvision VGG19, 38 tensors"),
                            ("synthetic_5g.pth", "synthetic checkpoint, 20 float32 tensors (sparse file)"),
                            ("transformer_100k.pth", "100k-key MoE transformer (W4's source; key count, not size)")):
            f = self.path(name)
            size = os.path.getsize(f)
            graft = Command("graft-cli inspect", [self.cli, "inspect", f], "graft")
            python = Command("Python `torch.load`", [PYTHON, os.path.join(HERE, "py_inspect.py"), f], "baseline")
            measure([graft, python], self.args.reps, self.args.cold, warmup=not self.args.smoke)
            keyed = name.startswith("transformer")  # W1b: the key count, not the file size
            if keyed:
                ok = graft.median <= 0.300 and max(graft.rss) * 1024 <= 100e6
            else:
                ok = graft.median <= 0.050 and max(graft.rss) * 1024 <= 50e6
            rows.append((label, graft, python, ok))
            text.append("**%s** — `%s`, %.0f MB\n\n%s\n%s\n%s\n\nGraft is %.0f× faster than `torch.load` "
                        "and uses %.0f× less memory. %s\n"
                        % (label, name, size / 1e6, TABLE_HEAD, table_row(graft), table_row(python),
                           python.median / graft.median, max(python.rss) / max(graft.rss),
                           "W1b target (100k keys) ≤ 300 ms and ≤ 100 MB: %s." % verdict(ok) if keyed
                           else "Target ≤ 50 ms and ≤ 50 MB: %s." % verdict(ok)))
            self.summary.append(("W1b inspect 100k keys" if keyed else "W1 inspect %s" % name,
                                 "≤ 300 ms, ≤ 100 MB" if keyed else "≤ 50 ms, ≤ 50 MB",
                                 "%s, %s" % (ms(graft.median), mb(max(graft.rss))), ok))
        startup = Command("`graft-cli --help` (process start-up only)", [self.cli, "--help"], "info")
        pystart = Command("`python3 -c 'import torch'` (start-up only)", [PYTHON, "-c", "import torch"], "info")
        measure([startup, pystart], self.args.reps, warmup=not self.args.smoke)
        text.append("Start-up alone, for scale:\n\n%s\n%s\n%s\n" % (TABLE_HEAD, table_row(startup), table_row(pystart)))
        self.sections.append(("W1 — inspect", "\n".join(text)))

    def w2_convert(self):
        self.note("W2 convert")
        src, skeleton = self.path("vgg19.pth"), self.path("vgg19_eqx.skeleton.json")
        outputs = {k: os.path.join(self.out, k)
                   for k in ("vgg19_graft.eqx", "vgg19_python.eqx", "vgg19_copy.pth", "vgg19_synced.pth")}

        def remover(name):
            def remove():
                if os.path.exists(outputs[name]):
                    os.remove(outputs[name])
            return remove

        graft = Command("graft-cli convert", [self.cli, "convert", src, skeleton, "-o", outputs["vgg19_graft.eqx"]],
                        "graft", before=remover("vgg19_graft.eqx"))
        python = Command("Python `torch.load` + `np.save` loop",
                         [PYTHON, os.path.join(HERE, "py_convert.py"), src, skeleton, outputs["vgg19_python.eqx"]],
                         "baseline", before=remover("vgg19_python.eqx"))
        cp = Command("`cp` of the .pth", ["cp", src, outputs["vgg19_copy.pth"]], "baseline", before=remover("vgg19_copy.pth"))
        synced = Command("`cp` + `sync` of the copy (durable, like Graft's save)",
                         ["sh", "-c", 'cp "$0" "$1" && sync "$1"', src, outputs["vgg19_synced.pth"]], "baseline",
                         before=remover("vgg19_synced.pth"),
                         shell_text="cp %s %s && sync %s" % (src, outputs["vgg19_synced.pth"], outputs["vgg19_synced.pth"]))
        cat = Command("`cat` of the .pth to /dev/null", ["sh", "-c", 'cat "$0" > /dev/null', src], "info",
                      shell_text="cat %s > /dev/null" % src)
        measure([graft, python, cp, synced, cat], self.args.reps, self.args.cold, warmup=not self.args.smoke)
        # The two .eqx files of the last repetition must be identical.
        same = files_equal(outputs["vgg19_graft.eqx"], outputs["vgg19_python.eqx"])
        size = os.path.getsize(outputs["vgg19_graft.eqx"])
        for name in outputs:
            remover(name)()
        vs_cp = graft.median / cp.median
        vs_synced = graft.median / synced.median
        vs_python = python.median / graft.median
        rss_ratio = max(python.rss) / max(graft.rss)
        # Graft's save is durable (fdatasync before the rename): its baseline is `cp` + `sync`.
        checks = [("≤ 1.2× `cp` + `sync`", "%.2f× `cp` + `sync` (%.2f× plain `cp`)" % (vs_synced, vs_cp), vs_synced <= 1.2),
                  ("≥ 6× faster than Python", "%.1f× faster" % vs_python, vs_python >= 6),
                  ("peak RSS ≤ ¼ of Python's", "%s vs %s (1/%.1f)" % (mb(max(graft.rss)), mb(max(python.rss)), rss_ratio),
                   rss_ratio >= 4)]
        text = ["`vgg19.pth` (%.0f MB) → `.eqx` against `vgg19_eqx.skeleton.json` (47 leaves: 38 arrays, "
                "16 of them conv biases reshaped to (C, 1, 1), 9 scalars kept); output %.0f MB. "
                "%s page cache. The .eqx Graft writes is byte-identical to the Python script's: %s.\n"
                % (os.path.getsize(src) / 1e6, size / 1e6, "Cold (dropped before every run)" if self.args.cold
                   else "Warm", "yes" if same else "**NO**"),
                TABLE_HEAD, table_row(graft), table_row(python), table_row(cp), table_row(synced), table_row(cat), "",
                "| target | measured | |\n|---|---|---|"]
        for target, measured, ok in checks:
            text.append("| %s | %s | %s |" % (target, measured, verdict(ok)))
            self.summary.append(("W2 convert: " + target, target, measured, ok))
        if not same:
            self.summary.append(("W2 convert: output identical to Python's", "identical", "differs", False))
            self.failures.append("W2: the .eqx graft-cli wrote differs from the Python script's")
        self.sections.append(("W2 — convert", "\n".join(text) + "\n"))

    def w3_automatch(self):
        self.note("W3 automatch")
        exe = os.path.join(self.args.build, "bench", "bench_automatch")
        argv = [exe, self.path("transformer.source.tsv"), self.path("transformer.target.tsv"),
                "--rules", self.path("transformer.rules"), "--reps", str(self.args.reps)]
        result = run_json(argv)
        t = result["automatch"]
        r = result["result"]
        ok = t["median_ms"] <= 1000
        text = ("%d source keys (Hugging Face MoE names, bf16) onto %d Equinox leaves (float32), "
                "%d rename rules; in process (`bench/bench_automatch`), %d runs.\n\n"
                "| what | median | min – max | peak RSS (process) |\n|---|---|---|---|\n"
                "| `autoMatch` | %.0f ms | %.0f – %.0f ms | %s |\n| `autoMatch`, first run in the process (heap still growing) "
                "| %.0f ms | | |\n| reading the two key lists (not part of the target) "
                "| %.0f ms | | |\n\nResult: %d exact, %d fixable (bf16 → float32 casts), %d by rename rule, %d by order + shape, "
                "%d unmapped, %d kept (scalars), %d ambiguous, %d unused sources. Target ≤ 1 s: %s.\n\nCommand: `%s`\n"
                % (result["sources"], result["targets"], result["rules"], len(t["runs_ms"]), t["median_ms"], t["min_ms"],
                   t["max_ms"], mb(result["peak_rss_kb"]), t["runs_ms"][0], result["read_lists_ms"], r["exact"], r["fixable"],
                   r["by_rename_rule"], r["by_order_shape"], r["unmapped"], r["kept"], r["ambiguous"],
                   r["unused_sources"], verdict(ok), " ".join(argv)))
        self.summary.append(("W3 automatch 100k × 100k", "≤ 1 s", "%.0f ms" % t["median_ms"], ok))
        self.sections.append(("W3 — automatch", text))

    def w7_map_real_naming(self):
        self.note("W7 map, real naming")
        exe = os.path.join(self.args.build, "bench", "bench_automatch")
        rows, lines = [], []
        for label, name in (("per-layer", "w7.perlayer.tsv"), ("stacked", "w7.stacked.tsv")):
            argv = [exe, self.path("w7.source.tsv"), self.path(name), "--reps", str(self.args.reps)]
            result = run_json(argv)
            t, r = result["automatch"], result["result"]
            ok = t["median_ms"] <= 1000
            rows.append("| onto the %s target (%d leaves) | %.0f ms | %.0f – %.0f ms | %.0f ms | %s | %d | %d | %d |"
                        % (label, result["targets"], t["median_ms"], t["min_ms"], t["max_ms"], t["runs_ms"][0],
                           mb(result["peak_rss_kb"]), r["exact"] + r["fixable"], r["unmapped"] + r["incompatible"],
                           r["by_order_shape"]))
            lines.append("`%s`" % " ".join(argv))
            self.summary.append(("W7 map, real naming, %s" % label, "≤ 1 s", "%.0f ms" % t["median_ms"], ok))
        text = ("%d Hugging Face Mixtral-named keys (bf16: `model.layers.N.block_sparse_moe.experts.E.w1.weight`…) "
                "onto two Equinox ports (float32: `.layers[N].moe.experts[E].gate_proj.weight`… and scanned layers "
                "`.layers.moe.experts[E].gate_proj.weight` stacked over 64 layers), **no rename rules**: the naming "
                "table and the structure pass link them. In process (`bench/bench_automatch`), %d runs each.\n\n"
                "| what | median | min – max | first run | peak RSS | mapped | unmapped | by order + shape |\n"
                "|---|---|---|---|---|---|---|---|\n%s\n\nCommands: %s\n"
                % (result["sources"], self.args.reps, "\n".join(rows), "; ".join(lines)))
        self.sections.append(("W7 — map, real naming", text))

    def w4_gui(self):
        self.note("W4 GUI")
        exe = os.path.join(self.args.build, "bench", "bench_gui")
        argv = [exe, self.path("transformer_100k.pth"), self.path("transformer_100k_eqx.skeleton.json"),
                "--rules", self.path("transformer.rules"), "--reps", str(self.args.reps)]
        result = run_json(argv)

        def row(label, key, target=None):
            t = result[key]
            first = "%.0f ms" % t["runs_ms"][0] if key != "keystroke" else ""
            return "| %s | %.0f ms | %.0f – %.0f ms | %s | %s |" % (label, t["median_ms"], t["min_ms"], t["max_ms"], first,
                                                                target or "")

        load_ok = result["load_source"]["median_ms"] <= 1000
        target_ok = result["load_target"]["median_ms"] <= 1000
        # Keystroke k of the filter text, median over the repetitions; the slowest one counts.
        positions = len(result["filter"]) - 1
        runs = result["keystroke"]["runs_ms"]
        per_key = [statistics.median(runs[k::positions]) for k in range(positions)] if positions else [0.0]
        per_key.insert(0, result["first_keystroke"]["median_ms"])
        worst = max(range(len(per_key)), key=lambda k: per_key[k])
        keys_ok = per_key[worst] <= 100
        lines = ["%d-key `transformer_100k.pth` (source) and %d-leaf `transformer_100k_eqx.skeleton.json` (target) "
                 "in the workbench's models and views (`bench/bench_gui`, offscreen, %d fresh documents). "
                 "The filter types `%s` one character at a time in the source pane (%d tree rows)."
                 % (result["source_keys"], result["target_keys"], len(result["load_source"]["runs_ms"]),
                    result["filter"], result["source_tree_rows"]),
                 "", "| step | median | min – max | first document (fresh process) | target |", "|---|---|---|---|---|",
                 row("open source (`openCheckpoint`)", "open_source"),
                 row("`setSource` + tree model + view", "set_source"),
                 row("**load source** (both)", "load_source", "≤ 1 s: " + verdict(load_ok)),
                 row("open target", "open_target"), row("`setTarget` + tree model + view", "set_target"),
                 row("**load target** (both)", "load_target", "≤ 1 s: " + verdict(target_ok)),
                 row("`matchCheckpoints` (off the GUI thread in the app)", "match"),
                 row("apply the result (`replaceResult`: statuses of both trees)", "apply_result"),
                 row("**first filter keystroke** (matches every key; `KeyTreeView::setKeyFilter` + paint)", "first_keystroke",
                     "≤ 100 ms"),
                 row("**each further keystroke**", "keystroke", "≤ 100 ms"),
                 row("clearing the filter", "clear_filter"),
                 "", "Per keystroke (median over the documents), typing `%s`: %s ms. Slowest: `%s` → %.0f ms."
                 % (result["filter"], ", ".join("%.0f" % v for v in per_key), result["filter"][:worst + 1], per_key[worst]),
                 "", "Peak RSS of the process: %s. Keystroke target (every keystroke ≤ 100 ms): %s.\n\nCommand: `%s`\n"
                 % (mb(result["peak_rss_kb"]), verdict(keys_ok), " ".join(argv))]
        self.summary.append(("W4 GUI: load 100k-key source", "≤ 1 s", "%.0f ms" % result["load_source"]["median_ms"], load_ok))
        self.summary.append(("W4 GUI: load 100k-leaf target", "≤ 1 s", "%.0f ms" % result["load_target"]["median_ms"], target_ok))
        self.summary.append(("W4 GUI: filter keystroke", "≤ 100 ms", "slowest %.0f ms (`%s`), median %.0f ms"
                             % (per_key[worst], result["filter"][:worst + 1], statistics.median(per_key)), keys_ok))
        self.sections.append(("W4 — GUI", "\n".join(lines)))

    def w5_diff(self):
        self.note("W5 diff")
        a, b = self.path("vgg19.pth"), self.path("vgg19_b.pth")
        help_text = subprocess.run([self.cli, "--help"], capture_output=True, text=True).stdout
        has_diff = any(line.strip().startswith("diff") for line in help_text.splitlines())
        cat = Command("`cat` of both files to /dev/null", ["sh", "-c", 'cat "$0" "$1" > /dev/null', a, b], "baseline",
                      shell_text="cat %s %s > /dev/null" % (a, b))
        python = Command("Python torch, float64 statistics", [PYTHON, os.path.join(HERE, "py_diff.py"), a, b], "baseline")
        commands = [cat] + ([python] if not self.args.skip_python_diff else [])
        graft = None
        if has_diff:
            graft = Command("graft-cli diff", [self.cli, "diff", a, b], "graft", ok_codes=(0, 1))
            commands.insert(0, graft)
        measure(commands, self.args.reps, self.args.cold, warmup=not self.args.smoke)
        text = ["`vgg19.pth` vs `vgg19_b.pth` (the same weights + 1e-3 noise), per key mean / std / min / max / L2 "
                "of both, max |A − B|, L2 of A − B, cosine.\n", TABLE_HEAD]
        text += [table_row(c) for c in commands]
        if graft:
            ratio = graft.median / cat.median
            peak = max(graft.rss)
            ok = ratio <= 3.0 and peak * 1024 <= 100e6
            text.append("\nTarget ≤ 3× `cat` of both files and ≤ 100 MB: %.2f×, %s — %s.\n" % (ratio, mb(peak), verdict(ok)))
            self.summary.append(("W5 diff", "≤ 3× cat, ≤ 100 MB", "%.2f× cat, %s" % (ratio, mb(peak)), ok))
        else:
            text.append("\n**Not yet measured**: this build's `graft-cli` has no `diff` command. bench/run.py "
                        "measures it as soon as `graft-cli --help` lists one.\n")
            self.summary.append(("W5 diff", "≤ 3× cat, ≤ 100 MB", "not yet measured (no `graft-cli diff`)", None))
        self.sections.append(("W5 — diff", "\n".join(text)))

    def tensor_count(self, path):
        """Tensors `graft-cli inspect --json` lists in `path`."""
        proc = subprocess.run([self.cli, "inspect", "--json", path], capture_output=True)
        if proc.returncode != 0:
            raise SystemExit("bench: `graft-cli inspect --json %s` failed:\n%s" % (path, proc.stderr.decode(errors="replace")[-2000:]))
        return len(json.loads(proc.stdout)["tensors"])

    def w6_convert_keys(self):
        self.note("W6 convert, 100k tensors")
        src, skeleton = self.path("transformer_100k.pth"), self.path("transformer_100k_eqx.skeleton.json")
        with open(self.path("transformer.rules"), encoding="utf-8") as f:
            rules = [line.strip() for line in f if line.strip()]
        rule_args = [arg for rule in rules for arg in ("--rule", rule)]
        out_self, out_skeleton = os.path.join(self.out, "w6_self.pth"), os.path.join(self.out, "w6_skeleton.eqx")

        def remover(path):
            def remove():
                if os.path.exists(path):
                    os.remove(path)
            return remove

        inspect = Command("graft-cli inspect (the baseline)", [self.cli, "inspect", src], "baseline")
        onto_self = Command("graft-cli convert onto itself (.pth)", [self.cli, "convert", src, src, "-o", out_self], "graft",
                            before=remover(out_self))
        onto_skeleton = Command("graft-cli convert onto the Equinox skeleton (.eqx; bf16 → float32 casts)",
                                [self.cli, "convert", src, skeleton] + rule_args + ["--keep-unmapped", "--accept-guesses",
                                                                                    "-o", out_skeleton],
                                "graft", before=remover(out_skeleton))
        # What a durable save of the output's size costs, for scale: Graft's save is durable
        # (fdatasync before the rename, writeback started as it goes). The .pth onto
        # itself writes the .pth again; the .eqx is the skeleton's leaves file, same layout.
        # `--sparse=never`: the workloads' storages are holes where the file system allows, and
        # a conversion writes every byte.
        floor_self, floor_skeleton = os.path.join(self.out, "w6_floor.pth"), os.path.join(self.out, "w6_floor.eqx")
        leaves_file = self.path("transformer_100k_eqx.eqx")

        def synced_copy(name, source, copy):
            return Command(name, ["sh", "-c", 'cp --sparse=never "$0" "$1" && sync "$1"', source, copy], "info",
                           before=remover(copy), shell_text="cp --sparse=never %s %s && sync %s" % (source, copy, copy))
        copy_self = synced_copy("`cp` + `sync` of the .pth (a durable copy the size of the output onto itself)", src, floor_self)
        copy_skeleton = synced_copy("`cp` + `sync` of the skeleton's .eqx leaves (the size of the output onto the skeleton)",
                                    leaves_file, floor_skeleton)
        measure([inspect, onto_self, onto_skeleton, copy_self, copy_skeleton], self.args.reps, self.args.cold,
                warmup=not self.args.smoke)
        for path in (floor_self, floor_skeleton):
            remover(path)()
        # Every leaf must be in the outputs of the last repetition.
        keys, skeleton_leaves = self.tensor_count(src), self.tensor_count(skeleton)
        written = {out_self: self.tensor_count(out_self), out_skeleton: self.tensor_count(out_skeleton)}
        for path, want in ((out_self, keys), (out_skeleton, skeleton_leaves)):
            if written[path] != want:
                self.failures.append("W6: %s holds %d tensors, expected %d" % (os.path.basename(path), written[path], want))
            remover(path)()

        text = ["`transformer_100k.pth` (%d keys, %.0f MB, storages are holes where the file system allows) converted onto itself, and onto its "
                "Equinox twin `transformer_100k_eqx.skeleton.json` (%d leaves: the W3 rename rules, `--keep-unmapped` "
                "for the leaves nothing provides, `--accept-guesses` for the routers matched by order and shape). The "
                "baseline is `graft-cli inspect` of the same file, interleaved in the same run. Both outputs hold every "
                "leaf: %s.\n" % (keys, os.path.getsize(src) / 1e6, skeleton_leaves,
                                   "yes" if written[out_self] == keys and written[out_skeleton] == skeleton_leaves else "**NO**"),
                TABLE_HEAD, table_row(inspect), table_row(onto_self), table_row(onto_skeleton), table_row(copy_self),
                table_row(copy_skeleton), "",
                "| target | measured | |\n|---|---|---|"]
        for name, command, floor in (("onto itself", onto_self, copy_self), ("onto a skeleton", onto_skeleton, copy_skeleton)):
            ratio = command.median / inspect.median
            ok = ratio <= 3.0
            measured = "%.2f× inspect (%s vs %s)" % (ratio, ms(command.median), ms(inspect.median))
            # The durable write of the output alone, for scale: when it exceeds the target by
            # itself, no conversion can meet it while saves stay durable.
            floor_text = "; a durable copy of the output alone: %.2f×" % (floor.median / inspect.median)
            text.append("| %s: ≤ 3× the time of inspecting it | %s | %s |" % (name, measured + floor_text, verdict(ok)))
            self.summary.append(("W6 convert transformer_100k %s" % name, "≤ 3× inspect", measured + floor_text, ok))
        text.append("")
        for name, command, floor in (("onto itself", onto_self, copy_self), ("onto a skeleton", onto_skeleton, copy_skeleton)):
            text.append("Onto %s: a durable copy of a file the output's size (`cp` + `sync`) takes %s, %.2f× inspect; "
                        "the conversion takes %.2f× that copy." % (name.split(" ", 1)[1], ms(floor.median),
                                                                 floor.median / inspect.median, command.median / floor.median))

        # The key ladder: the same tiny tensors, more and more keys.
        startup = Command("`graft-cli --help` (start-up)", [self.cli, "--help"], "info")
        measure([startup], self.args.reps, warmup=not self.args.smoke)
        base_kib = max(startup.rss)
        rows = []
        ladder = KEY_LADDER_SMOKE if self.args.smoke else KEY_LADDER
        out_keys = os.path.join(self.out, "w6_keys.pth")
        out_twin = os.path.join(self.out, "w6_keys.eqx")
        for count in ladder:
            f, twin = self.path("keys_%d.pth" % count), self.path("keys_%d_eqx.skeleton.json" % count)
            ins = Command("inspect", [self.cli, "inspect", f], "baseline")
            conv = Command("convert onto itself", [self.cli, "convert", f, f, "-o", out_keys], "graft",
                           before=remover(out_keys))
            onto_twin = Command("convert onto its Equinox twin", [self.cli, "convert", f, twin, "--keep-unmapped",
                                                                  "-o", out_twin], "graft", before=remover(out_twin))
            measure([ins, conv, onto_twin], self.args.reps, self.args.cold, warmup=not self.args.smoke)
            if self.tensor_count(out_keys) != count:
                self.failures.append("W6: keys_%d.pth converted onto itself lost tensors" % count)
            if self.tensor_count(out_twin) != self.tensor_count(twin):
                self.failures.append("W6: keys_%d.pth converted onto its Equinox twin lost leaves" % count)
            remover(out_keys)()
            remover(out_twin)()
            rows.append((count, ins, conv, onto_twin))
        text += ["", "Key ladder: `keys_N.pth` (N float32 [4, 4] tensors) converted onto itself and onto its Equinox twin "
                 "`keys_N_eqx.skeleton.json` (`.blocks[I].weight`, plus a `.blocks[I].bias` nothing provides every 100th "
                 "block, kept), against inspecting it; start-up RSS (`graft-cli --help`) %s. Memory per key is peak RSS "
                 "above start-up over N." % mb(base_kib),
                 "", "| keys | inspect (median) | onto itself (median) | ÷ inspect | onto the twin (median) | ÷ inspect "
                 "| inspect peak RSS | onto itself peak RSS | RSS per key | onto the twin peak RSS | RSS per key |",
                 "|---|---|---|---|---|---|---|---|---|---|---|"]
        per_key, per_key_twin = [], []
        for count, ins, conv, onto_twin in rows:
            kib, kib_twin = max(conv.rss), max(onto_twin.rss)
            per_key.append((kib - base_kib) * 1024 / count)
            per_key_twin.append((kib_twin - base_kib) * 1024 / count)
            text.append("| %d | %s | %s | %.2f× | %s | %.2f× | %s | %s | %.1f KB | %s | %.1f KB |"
                        % (count, ms(ins.median), ms(conv.median), conv.median / ins.median, ms(onto_twin.median),
                           onto_twin.median / ins.median, mb(max(ins.rss)), mb(kib), per_key[-1] / 1e3, mb(kib_twin),
                           per_key_twin[-1] / 1e3))
        growth = max(per_key[-1] / per_key[-2] if len(per_key) >= 2 and per_key[-2] > 0 else float("nan"),
                     per_key_twin[-1] / per_key_twin[-2] if len(per_key_twin) >= 2 and per_key_twin[-2] > 0 else float("nan"))
        ok = growth <= 1.5
        count, ins, conv, onto_twin = rows[-1]
        twin_ratio = onto_twin.median / ins.median
        twin_measured = "%.2f× inspect (%s vs %s)" % (twin_ratio, ms(onto_twin.median), ms(ins.median))
        text += ["", "Commands: `%s inspect FILE`, `%s convert FILE FILE -o %s`, `%s convert FILE TWIN --keep-unmapped -o %s`."
                 % (self.cli, self.cli, out_keys, self.cli, out_twin), "",
                 "Target ≤ 3× inspect onto a skeleton, %d small tensors (the byte-light case: what each key costs): %s — %s.\n"
                 % (count, twin_measured, verdict(twin_ratio <= 3.0)),
                 "Target memory flat in the number of keys (peak RSS per key at %d keys ≤ 1.5× that at %d, the worse of the "
                 "two conversions): %.2f× — %s.\n" % (ladder[-1], ladder[-2], growth, verdict(ok))]
        self.summary.append(("W6 convert keys_%d (small tensors) onto its skeleton" % count, "≤ 3× inspect", twin_measured,
                             twin_ratio <= 3.0))
        self.summary.append(("W6 convert: memory flat in the number of keys", "RSS/key at %dk ≤ 1.5× at %dk"
                             % (ladder[-1] // 1000, ladder[-2] // 1000),
                             "%.2f× (%.1f KB vs %.1f KB per key)" % (growth, per_key[-1] / 1e3, per_key[-2] / 1e3), ok))
        self.sections.append(("W6 — convert, 100k tensors", "\n".join(text)))

    def merge(self, path, started, command_line, rerun):
        """Updates an existing report with the workloads of this run only (`--only`): their
        sections and summary rows are replaced, the others kept as they were measured, and a
        header line says what was re-measured when, under what load."""
        with open(path, encoding="utf-8") as f:
            old = f.read()
        head, _, rest = old.partition("\n## Summary\n")
        chunks = ("## Summary\n" + rest).split("\n## ")
        summary_rows = [line for line in chunks[0].splitlines() if line.startswith("| W")]
        sections = {}
        for chunk in chunks[1:]:
            title, _, body = chunk.partition("\n")
            if title[:1] == "W" and title[1:2].isdigit():
                sections[title] = body.strip("\n")

        def workload(name):  # "W6 convert ..." or "W6 — convert" -> 6
            digits = "".join(ch for ch in name.split()[0][1:] if ch.isdigit())
            return int(digits) if digits else 99

        rows = [row for row in summary_rows if "W%d" % workload(row[2:]) not in rerun]
        for name, target, measured, ok in self.summary:
            rows.append("| %s | %s | %s | %s |" % (name, target, measured, "not measured" if ok is None else verdict(ok)))
        rows.sort(key=lambda row: workload(row[2:]))  # stable: a workload's rows keep their order
        for title in [t for t in sections if "W%d" % workload(t) in rerun]:
            del sections[title]
        for title, body in self.sections:
            sections[title] = body.rstrip()
        info = machine_info()
        lines = head.rstrip("\n").splitlines()
        lines = [line for line in lines if not any(line.startswith("- %s re-measured" % w) for w in rerun)]
        lines.append("- %s re-measured %s (took %.0f s) by `%s`, commit %s; load average at the end: %s"
                     % (", ".join(sorted(rerun)), started.strftime("%Y-%m-%d %H:%M %Z").strip(),
                        time.time() - started.timestamp(), command_line, info["commit"], info["load"]))
        lines += ["", "## Summary", "", "| workload | target | measured | |", "|---|---|---|---|"] + rows
        for title in sorted(sections, key=workload):
            lines += ["", "## " + title, "", sections[title]]
        if self.args.notes and os.path.exists(self.args.notes):
            with open(self.args.notes, encoding="utf-8") as f:
                lines += ["", f.read().rstrip()]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.note("updated %s (%s)" % (path, ", ".join(sorted(rerun))))

    def write(self, path, started, command_line):
        info = machine_info()
        lines = ["# Benchmarks", "",
                 "Generated by `bench/run.sh` — do not edit by hand; rerun it. What each workload is and how it is "
                 "measured: bench/run.py and bench/make_workloads.py.", "",
                 "- Date: %s (took %.0f s)" % (started.strftime("%Y-%m-%d %H:%M %Z").strip(), time.time() - started.timestamp()),
                 "- Machine: %s, %d cores (`nproc`), %s RAM, Linux %s; load average at the end: %s (the machine is shared "
                 "with other builds: medians of interleaved runs, CPU time shown beside wall time)"
                 % (info["cpu"], info["nproc"], info["mem"], info["kernel"], info["load"]),
                 "- Graft commit: %s, build `%s` (%s)" % (info["commit"], os.path.relpath(self.args.build, ROOT),
                                                         build_type(self.args.build)),
                 "- Command: `%s`" % command_line,
                 "- %d timed runs per command after one warm-up run; %s page cache; peak RSS: %s."
                 % (self.args.reps, "cold (dropped before each W1/W2/W5 run)" if self.args.cold else "warm",
                    "GNU time's `%M` of each command" if os.access(GNU_TIME, os.X_OK)
                    else "`wait4()` of each child (never below the harness's own size: install `time`)"),
                 "", "## Summary", "", "| workload | target | measured | |", "|---|---|---|---|"]
        for name, target, measured, ok in self.summary:
            lines.append("| %s | %s | %s | %s |" % (name, target, measured,
                                                     "not measured" if ok is None else verdict(ok)))
        for title, body in self.sections:
            lines += ["", "## " + title, "", body.rstrip()]
        if self.args.notes and os.path.exists(self.args.notes):
            with open(self.args.notes, encoding="utf-8") as f:
                lines += ["", f.read().rstrip()]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.note("wrote " + path)


def build_type(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "?"


def main(argv):
    parser = argparse.ArgumentParser(description="Graft's benchmarks (see bench/run.sh)")
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "work"), help="workload folder")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder")
    parser.add_argument("--reps", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--smoke", action="store_true", help="tiny workloads, 1 run each")
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each file-bound run (root)")
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,W6,W7",
                        help="comma-separated workloads; docs/benchmarks.md then keeps the others' figures")
    parser.add_argument("--skip-python-diff", action="store_true", help="skip the (slow, 6 GB) Python diff baseline")
    parser.add_argument("--output", help="Markdown file (default docs/benchmarks.md; WORK/benchmarks.md with --smoke)")
    parser.add_argument("--notes", default=os.path.join(HERE, "notes.md"), help="appended to the report")
    parser.add_argument("command_line", nargs="?", default="bench/run.sh")
    args = parser.parse_args(argv)
    if args.smoke:
        args.reps = 1
        if args.work == parser.get_default("work"):
            args.work = os.path.join(ROOT, "build", "bench", "smoke")
    args.build = os.path.abspath(args.build)
    output = args.output or (os.path.join(args.work, "benchmarks.md") if args.smoke
                             else os.path.join(ROOT, "docs", "benchmarks.md"))
    started = datetime.datetime.now().astimezone()

    generate = [PYTHON, os.path.join(HERE, "make_workloads.py"), args.work] + (["--smoke"] if args.smoke else [])
    subprocess.run(generate, check=True)
    bench = Bench(args)
    steps = {"W1": bench.w1_inspect, "W2": bench.w2_convert, "W3": bench.w3_automatch, "W4": bench.w4_gui,
             "W5": bench.w5_diff, "W6": bench.w6_convert_keys,
             "W7": bench.w7_map_real_naming}
    for name in args.only.split(","):
        rows, sections = len(bench.summary), len(bench.sections)
        steps[name.strip().upper()]()
        # The machine is shared: the load beside each figure, taken as the workload finishes.
        load = os.getloadavg()
        bench.summary[rows:] = [(n, t, "%s (load %.2f)" % (m, load[0]), ok) for n, t, m, ok in bench.summary[rows:]]
        bench.sections[sections:] = [(title, text.rstrip("\n") + "\n\nLoad average (1 / 5 / 15 min) as this workload "
                                      "finished: %.2f %.2f %.2f.\n" % load) for title, text in bench.sections[sections:]]
    rerun = {name.strip().upper() for name in args.only.split(",")}
    if not args.smoke and not args.output and rerun != set(steps) and os.path.exists(output):
        bench.merge(output, started, args.command_line, rerun)  # --only: the other workloads' figures stay
    else:
        bench.write(output, started, args.command_line)
    for name, target, measured, ok in bench.summary:
        print("  %-40s %-28s %-40s %s" % (name, target, measured, "-" if ok is None else "met" if ok else "NOT MET"))
    for failure in bench.failures:
        print("bench: error: " + failure, file=sys.stderr)
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
