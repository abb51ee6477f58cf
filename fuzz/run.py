"""Run the fuzz targets for a bounded time each and summarize.

    python fuzz/run.py [--seconds N] [--targets module,wat,calls,api]
                       [--build NAME] [--jobs 1|2] [--fresh]

Each target runs as ``python fuzz/fuzz_<target>.py -max_total_time=N`` with
its corpus in .fuzz/corpus/<target>/ (kept between runs; --fresh starts from
the seeds alone) and crashing inputs saved as .fuzz/artifacts/<build>/<target>/
crash-*, timeout-* or oom-*.  Both directories are ignored by git.  The exit
status is non-zero when any target found something (or failed to run).
Replay a saved input with ``python fuzz/fuzz_<target>.py FILE``, and add
FUZZ_TRACE=1 to see the Python it runs.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGETS = ["module", "wat", "calls", "api"]


def command(target, seconds, corpus, artifacts):
    cmd = [
        sys.executable,
        os.path.join(HERE, "fuzz_%s.py" % target),
        "-max_total_time=%d" % seconds,
        "-artifact_prefix=%s/" % artifacts,
    ]
    if target == "wat":
        cmd.append("-dict=%s" % os.path.join(HERE, "wat.dict"))
    cmd.append(corpus)
    seeds = os.path.join(HERE, "seeds", target)
    if os.path.isdir(seeds):
        cmd.append(seeds)
    return cmd


def asan_preload(work):
    """Environment for the targets under the ASan build (./dev's asan_env).

    gcc's libasan, preloaded first, defines the coverage callbacks
    (__sanitizer_cov_*) as no-ops, and they would shadow those of the
    libFuzzer inside atheris: no coverage, so no guidance.  So libFuzzer is
    linked from the archive atheris ships into .fuzz/libfuzzer.so and
    preloaded ahead of libasan; atheris then uses that preloaded libFuzzer."""
    env = dict(os.environ)
    if "libasan" not in env.get("LD_PRELOAD", ""):
        return env
    import atheris

    site = os.path.dirname(os.path.dirname(atheris.__file__))
    archive = os.path.join(site, "libclang_rt.fuzzer_no_main.a")
    lib = os.path.join(work, "libfuzzer.so")
    if not os.path.exists(lib) or os.path.getmtime(lib) < os.path.getmtime(archive):
        subprocess.check_call(
            [
                "g++",
                "-shared",
                "-o",
                lib,
                "-Wl,--whole-archive",
                archive,
                "-Wl,--no-whole-archive",
                "-lpthread",
            ],
            env={k: v for k, v in env.items() if k != "LD_PRELOAD"},
        )
    env["LD_PRELOAD"] = lib + ":" + env["LD_PRELOAD"]
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    return env


def stats(log):
    """The figures libFuzzer prints: its final stats and last status line."""
    out = {}
    for key in (
        "number_of_executed_units",
        "average_exec_per_sec",
        "new_units_added",
        "peak_rss_mb",
        "slowest_unit_time_sec",
    ):
        m = re.search(r"stat::%s:\s+(\d+)" % key, log)
        if m:
            out[key] = int(m.group(1))
    status = [line for line in log.splitlines() if re.match(r"#\d+\s", line)]
    if status:
        m = re.search(r"cov: (\d+) ft: (\d+) corp: (\d+)", status[-1])
        if m:
            out["cov"], out["ft"], out["corpus"] = map(int, m.groups())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--build", default="plain", help="a label for the artifact directory")
    ap.add_argument("--jobs", type=int, default=1, choices=(1, 2))
    ap.add_argument("--fresh", action="store_true", help="ignore the saved corpus")
    args = ap.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        if t not in TARGETS:
            ap.error("unknown target %r" % t)

    work = os.path.join(ROOT, ".fuzz")
    os.makedirs(work, exist_ok=True)
    env = asan_preload(work)
    running, results = [], {}
    queue = list(targets)
    while queue or running:
        while queue and len(running) < args.jobs:
            t = queue.pop(0)
            corpus = os.path.join(work, "corpus", t)
            if args.fresh:
                shutil.rmtree(corpus, ignore_errors=True)
            artifacts = os.path.join(work, "artifacts", args.build, t)
            os.makedirs(corpus, exist_ok=True)
            os.makedirs(artifacts, exist_ok=True)
            before = set(os.listdir(artifacts))
            logpath = os.path.join(work, "%s-%s.log" % (args.build, t))
            log = open(logpath, "w")
            cmd = command(t, args.seconds, corpus, artifacts)
            print("== fuzz %s (%s build, %d s)" % (t, args.build, args.seconds), flush=True)
            # No stdin: nothing a target runs may wait on a terminal.
            p = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=work,
                env=env,
            )
            running.append((t, p, log, logpath, artifacts, before, time.time()))
        time.sleep(0.5)
        for item in list(running):
            t, p, log, logpath, artifacts, before, start = item
            if p.poll() is None:
                # libFuzzer stops itself (and kills an input that runs over
                # 60 s); this only guards against a wedged process.  Replaying
                # a large corpus before fuzzing may take longer than SECONDS.
                if time.time() - start > args.seconds + 3600:
                    p.kill()
                    p.wait()
                else:
                    continue
            running.remove(item)
            log.close()
            text = open(logpath, errors="replace").read()
            new = sorted(set(os.listdir(artifacts)) - before)
            results[t] = (
                p.returncode,
                stats(text),
                [os.path.join(artifacts, n) for n in new],
                logpath,
                time.time() - start,
            )

    failed = False
    print("\n| target | build | seconds | execs | execs/s | cov | ft | corpus | result |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in targets:
        rc, st, new, logpath, took = results[t]
        bad = rc != 0 or new
        failed |= bool(bad)
        print(
            "| %s | %s | %d | %s | %s | %s | %s | %s | %s |"
            % (
                t,
                args.build,
                round(took),
                st.get("number_of_executed_units", "?"),
                st.get("average_exec_per_sec", "?"),
                st.get("cov", "?"),
                st.get("ft", "?"),
                st.get("corpus", "?"),
                "FOUND (exit %s)" % rc if bad else "ok",
            )
        )
    for t in targets:
        rc, st, new, logpath, took = results[t]
        if rc != 0 or new:
            print("\n%s: exit status %s; log %s" % (t, rc, logpath))
            for path in new:
                print("  input saved: %s" % path)
                print("  replay: FUZZ_TRACE=1 %s fuzz/fuzz_%s.py %s" % (sys.executable, t, path))
            tail = open(logpath, errors="replace").read().splitlines()
            for line in tail[-25:]:
                print("    " + line[:200])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
