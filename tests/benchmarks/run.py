"""Time derive against sympy, family by family: `.venv/bin/python -m tests.benchmarks.run [--quick]`.

Run from the repository root. Every case is timed cold (sympy's cache and derive's caches cleared
first), derive's run and then the sympy baseline for the same expression (each building its
expression afresh: derive from text, the baseline from sympy objects), in this one process; the
median of `--repeats` runs (more for a small case, see `measure`) is kept. The full run writes
docs/performance.md and docs/performance.png; `--quick` runs the small sizes and only prints its
table (unless `--output` says where to write).
"""

from __future__ import annotations

import argparse
import compileall
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import sympy

from tests.benchmarks.families import BLOCK, Case, as_sympy, cases

ROOT = Path(__file__).resolve().parents[2]
# sympy.diff of a 32-layer network recurses deeper than Python's default limit of 1000.
RECURSION_LIMIT = 20_000
# Caches of derive's own that hold sympy results (the symbol table and the interval contexts stay).
CACHED_MODULES = ("derive.rewrite", "derive.check", "derive.definitions", "derive.verify", "derive.numeric",
                  "derive.diagnose", "derive.leibniz", "derive.jets")
KEPT = {"interval_context"}
JOBS_FILES = 200
JOBS_REPEATS = 7
MAX_REPEATS = 15
BUDGET = 1.5  # seconds of runs per case in the full benchmark, for small cases' medians


@dataclass(frozen=True)
class Row:
    family: str
    style: str
    size: int
    derive: float
    baseline: float
    steps: int
    ok: bool
    agrees: bool
    target: float

    @property
    def ratio(self) -> float:
        return self.derive / self.baseline if self.baseline > 0 else float("inf")

    @property
    def met(self) -> bool:
        return self.ok and self.ratio <= self.target


def clear_caches() -> None:
    """sympy's cache and derive's result caches: every measurement starts cold."""
    sympy.core.cache.clear_cache()
    for name in CACHED_MODULES:
        module = sys.modules.get(name)
        for attr, value in (vars(module) if module is not None else {}).items():
            if attr not in KEPT and callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    clear_caches()
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def measure(case: Case, repeats: int, budget: float = 0.0) -> Row:
    """Medians of at least `repeats` runs each, more for a small case until `budget` seconds are spent
    (at most MAX_REPEATS): a median of a few 20 ms runs on a shared machine is mostly its noise."""
    derive_times: list[float] = []
    baseline_times: list[float] = []
    outcome, agrees = None, False
    while len(derive_times) < repeats or (
        sum(derive_times) + sum(baseline_times) < budget and len(derive_times) < MAX_REPEATS
    ):
        seconds, outcome = timed(case.run)
        derive_times.append(seconds)
        # derive's result as plain sympy, made before the baseline's clock starts
        prepared = replace(outcome, result=as_sympy(outcome.result)) if outcome.result is not None else outcome
        seconds, agrees = timed(lambda prepared=prepared: case.baseline(prepared))
        baseline_times.append(seconds)
    return Row(case.family, case.style, case.size, statistics.median(derive_times),
               statistics.median(baseline_times), outcome.steps, outcome.ok, bool(agrees), case.target)


# --- start-up and parallel checking ------------------------------------------------------------------


def _wall(command: Sequence[str], repeats: int, **kwargs: object) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def derive_command() -> list[str]:
    script = Path(sys.executable).parent / "derive"
    return [str(script)] if script.exists() else [sys.executable, "-m", "derive"]


@dataclass(frozen=True)
class Startup:
    help: float  # `derive --help`, seconds
    sympy: float  # `python -c "import sympy"`
    diff: float  # `derive diff` of the seed, a whole command
    check: float  # `derive check` of one ten-line file


def startup(repeats: int = 7) -> Startup:
    """Whole processes, wall-clock medians: derive's start-up against sympy's, and two small commands."""
    help_time = _wall([*derive_command(), "--help"], repeats, cwd=ROOT)
    sympy_time = _wall([sys.executable, "-c", "import sympy"], repeats)
    diff_time = _wall([*derive_command(), "diff", "1/2*(a - y)^2", "--wrt", "z", "--where", "y = sigmoid(z)"],
                      repeats, cwd=ROOT)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "neuron.txt"
        path.write_text(BLOCK.format(k=0, n=2, m=1), encoding="utf-8")
        check_time = _wall([*derive_command(), "check", str(path)], repeats, cwd=ROOT)
    return Startup(help_time, sympy_time, diff_time, check_time)


@dataclass(frozen=True)
class Parallel:
    one: float  # --jobs 1, seconds
    two: float  # --jobs 2, seconds
    host: float  # two independent processes at once: their throughput against one after the other
    one_cpu: float  # processor time of --jobs 1 (user + system, the command and its processes), seconds
    two_cpu: float  # the same for --jobs 2

    @property
    def ratio(self) -> float:
        return self.one / self.two


def jobs(files: int = JOBS_FILES) -> Parallel:
    """`derive check` of `files` small derivations with --jobs 1 and with --jobs 2 (wall clock), and what
    this machine gives two processes: two `derive check --jobs 1` of half the files each, at once
    against one after the other."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for k in range(files):
            path = Path(folder) / f"neuron_{k:03d}.txt"
            path.write_text(BLOCK.format(k=k, n=k + 2, m=k + 1), encoding="utf-8")
            paths.append(str(path))
        halves = [[*derive_command(), "check", *part, "--jobs", "1"] for part in (paths[::2], paths[1::2])]
        # Interleaved runs, medians of seven: on a shared virtual machine the time the host steals from
        # one run or another would otherwise decide the ratio.
        runs: dict[str, list[float]] = {"1": [], "2": [], "apart": [], "together": [], "1 cpu": [], "2 cpu": []}
        for _ in range(JOBS_REPEATS):
            for n in ("1", "2"):
                before = _children_cpu()
                runs[n].append(_wall([*derive_command(), "check", *paths, "--jobs", n], 1, cwd=ROOT))
                runs[f"{n} cpu"].append(_children_cpu() - before)
            runs["apart"].append(sum(_wall(half, 1, cwd=ROOT) for half in halves))
            runs["together"].append(_together(halves))
        median = {k: statistics.median(v) for k, v in runs.items()}
        return Parallel(median["1"], median["2"], median["apart"] / median["together"], median["1 cpu"],
                        median["2 cpu"])


def best_parallel(one: float, start: float) -> float:
    """The most `--jobs 2` can give over `--jobs 1` taking `one` seconds, when each of its two processes
    first spends `start` seconds starting (as `--jobs 1` does once) and the rest is split evenly."""
    return one / (start + max(one - start, 0.0) / 2)


def _children_cpu() -> float:
    """Processor time (user + system) of the finished child processes of this one and of theirs, seconds."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _together(commands: Sequence[Sequence[str]]) -> float:
    """Wall clock of these commands started at once."""
    started = time.perf_counter()
    processes = [subprocess.Popen(c, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for c in commands]
    for process in processes:
        process.wait()
    return time.perf_counter() - started


# --- output ------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = ["| family | style | size | derive (s) | sympy baseline (s) | ratio | target | steps | verified "
             "| agrees with sympy |",
             "|---|---|---:|---:|---:|---:|---:|---:|:---:|:---:|"]
    for r in rows:
        target = f"≤ {r.target:g}x " + ("✓" if r.met else "✗")
        lines.append(f"| {r.family} | {r.style} | {r.size} | {r.derive:.3f} | {r.baseline:.3f} | {r.ratio:.2f} "
                     f"| {target} | {r.steps} | {'✓' if r.ok else '✗'} | {'✓' if r.agrees else '✗'} |")
    return "\n".join(lines)


def document(rows: list[Row], start: Startup | None, parallel: Parallel | None,
             command: str, repeats: int, budget: float) -> str:
    met = sum(r.met for r in rows)
    runs = f"medians of {repeats} runs" if repeats > 1 else "of one run"
    if budget:
        runs = (f"medians of {repeats} or more runs (a small case is run until {budget:g} s are spent, "
                f"at most {MAX_REPEATS} times)")
    parts = [
        "# Performance",
        "",
        f"Generated by `{command}` (Python {platform.python_version()}, sympy {sympy.__version__}, "
        f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores). Every case starts with sympy's "
        f"and derive's caches cleared; times are {runs}, wall clock, in one process.",
        "",
        "**derive** is a fully verified derivation: `derive.differentiate(...)` with every step proved or "
        "confirmed (`ok`), or `derive.check(text)` for the `check` rows, from the text. **sympy baseline** is "
        "what a sympy script does for the same expression: build it from sympy objects in elementary form "
        "(σ written as 1/(1 + e^(-z))), `sympy.diff` it, and compare two expressions once numerically at 30 "
        "digits: sympy's derivative against derive's result (for `check`: each claimed derivative against "
        "sympy's). *agrees with sympy* is the outcome of that comparison. Both sides build their expressions "
        "afresh on every run (derive by reading its text): an expression kept from one run to the next "
        "would keep the assumptions sympy cached on it, which clearing sympy's cache does not reach.",
        "",
        f"{met} of {len(rows)} cases are within their target (2x of the baseline in Leibniz style and for "
        "`check`, 3x in expand style).",
        "",
        table(rows),
        "",
        "![time and steps against size](performance.png)",
    ]
    if start is not None:
        verdict = "✓" if start.help <= 1.5 * start.sympy else "✗"
        parts += ["", "## Start-up", "",
                  f"`derive --help`: {start.help:.3f} s; `python -c \"import sympy\"`: {start.sympy:.3f} s "
                  f"(ratio {start.help / start.sympy:.2f}, target ≤ 1.5 {verdict}). Wall clock of whole processes, "
                  "medians; derive's modules compiled to bytecode first, as `pip install` leaves them.",
                  "",
                  f"Whole commands: `derive diff \"1/2*(a - y)^2\" --wrt z --where \"y = sigmoid(z)\"` takes "
                  f"{start.diff:.3f} s and `derive check` of one ten-line file (a neuron's backprop) "
                  f"{start.check:.3f} s. Both load sympy, as `python -c \"import sympy\"` does, but leave without "
                  "freeing its objects one by one (`derive.cli.run`), which that process spends about 0.1 s on."]
    if parallel is not None:
        verdict = "✓" if parallel.ratio >= 1.7 else "✗"
        parts += ["", "## Parallel checking", "",
                  f"`derive check` of {JOBS_FILES} files of ten lines each: `--jobs 1` {parallel.one:.2f} s, "
                  f"`--jobs 2` {parallel.two:.2f} s: {parallel.ratio:.2f}x the throughput (target ≥ 1.7 "
                  f"{verdict}), medians of {JOBS_REPEATS} interleaved runs.",
                  "",
                  f"What this machine gives two processes: two separate `derive check --jobs 1`, each of half "
                  f"the files, run at once have {parallel.host:.2f}x the throughput of the same two run one "
                  f"after the other (each imports sympy, as each process of `--jobs 2` does). `--jobs 2` gets "
                  f"{parallel.ratio / parallel.host:.0%} of that.",
                  ""]
        if start is not None:
            best = best_parallel(parallel.one, start.check)
            parts += [f"What these files allow: each process of `--jobs 2` starts Python and loads sympy and "
                      f"derive before its first file, as `--jobs 1` does once (`derive check` of one file: "
                      f"{start.check:.2f} s above). With the rest of the `--jobs 1` time split evenly between two "
                      f"processes running at full speed, `--jobs 2` would take {parallel.one / best:.2f} s: "
                      f"{best:.2f}x at most. `--jobs 2` gets {parallel.ratio / best:.0%} of that.",
                      ""]
        parts += [f"Processor time (user and system, medians): `--jobs 1` used {parallel.one_cpu:.2f} s and "
                  f"`--jobs 2` {parallel.two_cpu:.2f} s for the same files, "
                  f"{parallel.two_cpu - parallel.one_cpu:+.2f} s; its second process starts Python and imports "
                  "sympy once more" + (f" ({start.sympy:.2f} s above)" if start is not None else "") + "."]
    parts += ["", "## Reading the numbers", "",
              "Each step is checked where it happens: an expand step's pending derivative against its "
              "replacement, with the inner functions abstract (`rewrite.abstracted`); a Leibniz line in a "
              "model that holds the names its derivatives cannot move and cuts the rest of the network "
              "down to an abstract function (`definitions.local_model`; a chain-rule line such as "
              "dE/dz = dE/dy · dy/dz first with every intermediate an abstract function, the same identity "
              "for every layer, and a line that names a derivative on its right, such as a softmax's "
              "dE/dz1 = p1 · dE/dp1 + dE/ds · ds/dz1, first with that name an abstract function, s = G(z1)); "
              "a leaf rule (σ' = σ(1 − σ)) as it stands; a line that only puts lines above "
              "together by substitution. Each local identity is compared with sympy's own derivative of its "
              "elementary form and decided once for all the layers that bring it in other names (a model is "
              "keyed by its shape, nested tuples with names numbered and a sum's terms as a multiset, so "
              "no model is built again in sympy to be compared: `check.Shaped`). The abstract functions "
              "that stand for names in such a model are read "
              "as jets, each partial derivative a function of its own (`jets.in_jets`), so a softmax's path sum "
              "holds applications where sympy would build, hash and substitute into ten `Subs`. The result "
              "is then compared at a random point with sympy's derivative of the whole expression, taken "
              "node by node (`rewrite.crosscheck`: sympy.diff of each distinct kind of node, sums and "
              "products in numbers, the chain rule in numbers). A local identity is first tried as a "
              "rational function of its parts (each function application an unknown, e^(2z) as (e^z)^2) in "
              "sympy's sparse polynomials, which asks no assumption, before sympy's cancel; denominators stay "
              "the factors they are written with, so a softmax's sum over s and s^2 goes over s^2. sympy's "
              "derivatives are taken with sympy's own differentiation of each expression, without the zero "
              "test that `Derivative` asks of the result (`derive.sympy_derivative`: two thirds of the time of "
              "a 40-factor product rule; inside derive's own derivatives every part's derivative skips it too, and a "
              "power with a constant exponent skips building the 0·log(base) term of sympy's formula, and an "
              "abstract function's chain rule does not ask whether each argument's derivative is zero), and "
              "derivatives sympy cannot evaluate further (f'(g(x)) in an "
              "abstract chain rule) are compared as they stand. The lines are "
              "written with numbers undistributed (-(a - y)) and checked afterwards with sympy's usual "
              "evaluation, all under one switch: each switch of that setting empties sympy's whole cache. "
              "A Leibniz line's local derivative takes only the terms of a sum that move, and the rules "
              "write a step's sentence only when it is read. "
              "The parsers load their tables from JSON next to the grammars instead of building them "
              "(0.1 to 0.25 s a run). The baseline only differentiates and "
              "compares one number; derive also "
              "finds, writes and verifies every step, so a ratio near 1 means that verification costs about "
              "as much as the derivative itself. At small sizes the fixed cost of verifying a handful of "
              "identities with a cold cache (about 2 to 10 ms each, mostly sympy's derivative of each "
              "local model) dominates."]
    return "\n".join(parts) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (times, steps) = plt.subplots(1, 2, figsize=(13, 5))
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.family, r.style), []).append(r)
    for (family, style), group in groups.items():
        if len(group) < 2:
            continue
        sizes = [r.size for r in group]
        (line,) = times.plot(sizes, [r.derive for r in group], "o-", label=f"{family} ({style})")
        times.plot(sizes, [r.baseline for r in group], "--", color=line.get_color(), alpha=0.6)
        steps.plot(sizes, [r.steps for r in group], "o-", color=line.get_color(), label=f"{family} ({style})")
    times.set(xscale="log", yscale="log", xlabel="size (layers, depth, factors, classes, lines)",
              ylabel="seconds", title="derive (solid) and sympy baseline (dashed)")
    steps.set(xscale="log", yscale="log", xlabel="size", ylabel="steps (lines for check)",
              title="steps against size")
    times.legend(fontsize=8)
    times.grid(True, which="both", alpha=0.3)
    steps.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each, print only")
    parser.add_argument("--repeats", type=int, default=None, help="runs per case (default 3, 1 with --quick)")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for performance.md and performance.png (default docs/, none with --quick)")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    repeats = args.repeats or (1 if args.quick else 3)
    output = args.output or (None if args.quick else ROOT / "docs")
    budget = 0.0 if args.quick else BUDGET
    rows = []
    selected = cases(quick=args.quick)
    # One untimed run first: imports and parser tables load once per process (measured under Start-up).
    if selected:
        selected[0].run()
    for case in selected:
        row = measure(case, repeats, budget)
        rows.append(row)
        print(f"{row.family:8} {row.style:8} {row.size:5}  derive {row.derive:8.3f} s  sympy {row.baseline:8.3f} s"
              f"  ratio {row.ratio:6.2f}  steps {row.steps:5}  ok {row.ok}  agrees {row.agrees}", flush=True)
    if not args.quick:
        # As `pip install` leaves it: with bytecode written (PYTHONDONTWRITEBYTECODE, or sources changed
        # since the last import, would have every run compile derive's modules again, 0.3 s here).
        compileall.compile_dir(ROOT / "derive", quiet=1)
    start = None if args.quick else startup()
    parallel = None if args.quick else jobs()
    command = "python -m tests.benchmarks.run" + (" --quick" if args.quick else "")
    text = document(rows, start, parallel, command, repeats, budget)
    print(text)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "performance.md").write_text(text, encoding="utf-8")
        plot(rows, output / "performance.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
