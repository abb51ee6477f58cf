"""Run wasmtime-py's own test suite against the installed wasmtime-native.

The suite comes from the wasmtime sdist of the pinned version, downloaded with
pip into the cache (never committed).  Its tests/, pytest.ini and mypy.ini are
unpacked into a scratch directory beside a `wasmtime` symlink to *our*
installed package, so `import wasmtime`, the mypy pass over our .pyi stubs and
the tests that expect a `wasmtime/` directory all see this project.

  upstream.py --venv .venv                         run everything, print a table
  upstream.py --venv .venv --record FILE           ... and write the table into FILE
  upstream.py --venv .venv --require LIST          run only the files in LIST; fail
                                                   unless every item of them passes
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import wasmtime_dist  # noqa: E402

VERSION = wasmtime_dist.WASMTIME_VERSION
BEGIN = "<!-- upstream-table:begin -->"
END = "<!-- upstream-table:end -->"


def fetch_sdist(python):
    cache = os.path.join(wasmtime_dist.cache_dir(), "upstream")
    name = "wasmtime-%s.tar.gz" % VERSION
    path = os.path.join(cache, name)
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        print("downloading the wasmtime==%s sdist with pip" % VERSION, file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.check_call(
                [
                    python,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary=:all:",
                    "--dest",
                    tmp,
                    "wasmtime==" + VERSION,
                ]
            )
            os.replace(os.path.join(tmp, name), path)
    return path


def prepare(python, scratch):
    sdist = fetch_sdist(python)
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    prefix = "wasmtime-%s/" % VERSION
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            rel = member.name[len(prefix) :] if member.name.startswith(prefix) else None
            if rel and (rel.startswith("tests/") or rel in ("pytest.ini", "mypy.ini")):
                member.name = rel
                tar.extract(member, scratch)
    pkg = (
        subprocess.check_output(
            [python, "-c", "import os, wasmtime; print(os.path.dirname(wasmtime.__file__))"],
            cwd="/",
        )
        .decode()
        .strip()
    )
    os.symlink(pkg, os.path.join(scratch, "wasmtime"))


def run(python, scratch, files):
    xml = os.path.join(scratch, "report.xml")
    cmd = [
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--junitxml",
        xml,
        "--continue-on-collection-errors",
    ]
    cmd += files or ["tests"]
    print("+ (cd %s && %s)" % (scratch, " ".join(cmd)), file=sys.stderr)
    subprocess.call(cmd, cwd=scratch)
    per_file = collections.OrderedDict()
    failures = []
    for case in ET.parse(xml).getroot().iter("testcase"):
        classname = case.get("classname", "")
        name = case.get("name", "")
        if not classname and name.startswith("tests."):
            # a module that failed to import: pytest reports it by name
            classname = name
        path = case.get("file") or classname.replace(".", "/")
        if "tests" in path:
            parts = classname.split(".")
            # classname is tests.test_x.TestY (or tests.component.test_x...)
            mods = [p for p in parts if p.startswith("test_")]
            prefix = parts[: parts.index(mods[0]) + 1] if mods else parts
            path = "/".join(prefix) + ".py"
        if name == "mypy" or classname.endswith(".py"):
            path = classname if classname.endswith(".py") else path
        if name == "mypy-status":
            path = "(mypy status)"
        outcome = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        counts = per_file.setdefault(path, collections.Counter())
        counts[outcome] += 1
        if outcome == "failed":
            failures.append("%s::%s" % (path, name))
    return per_file, failures


def table(per_file):
    lines = ["| upstream file | passed | failed | skipped |", "|---|---|---|---|"]
    for path, c in per_file.items():
        lines.append("| `%s` | %d | %d | %d |" % (path, c["passed"], c["failed"], c["skipped"]))
    return "\n".join(lines)


def record(path, text):
    with open(path) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit("%s has no %s ... %s markers" % (path, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + text + "\n" + END + tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", required=True)
    ap.add_argument("--record")
    ap.add_argument("--require")
    args = ap.parse_args()
    python = os.path.join(ROOT, args.venv, "bin", "python")
    scratch = os.path.join(ROOT, ".upstream")
    prepare(python, scratch)
    files = []
    if args.require:
        with open(args.require) as f:
            files = [ln.split("#")[0].strip() for ln in f]
        files = [x for x in files if x]
    per_file, failures = run(python, scratch, files)
    totals = collections.Counter()
    for c in per_file.values():
        totals.update(c)
    print()
    print(table(per_file))
    if failures:
        print("\nfailed:\n  " + "\n  ".join(failures))
    summary = "%d passed, %d failed" % (totals["passed"], totals["failed"])
    if totals["skipped"]:
        summary += ", %d skipped" % totals["skipped"]
    if args.record:
        note = (
            "Upstream suite of wasmtime-py %s run with `./dev upstream` "
            "(pytest --doctest-modules --mypy as its pytest.ini says): **%s**.\n\n"
            % (VERSION, summary)
        )
        record(os.path.join(ROOT, args.record), note + table(per_file))
    print()
    print("upstream: " + summary)
    if not per_file or totals["failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
