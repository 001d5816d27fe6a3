"""Long-running use: many derivations in one process keep memory flat and give the same verdicts as fresh
processes. The CI run checks 300 derivations; `DERIVE_LONG_FUZZ=1` checks 10,000.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import derive

ROOT = Path(__file__).parent.parent
LONG = os.environ.get("DERIVE_LONG_FUZZ") == "1"
COUNT = 10_000 if LONG else 300
WARM_UP = 60
# Generous: sympy's and derive's caches fill up during the warm-up and then stay bounded; a leak of a few
# kilobytes per derivation would pass 300 derivations but not 10,000.
GROWTH_MB = 150 if LONG else 60

FUNCTIONS = ["sin({v})", "exp({k} {v})", "sigmoid({v})", "log({v}^2 + {k})", "tanh({k} {v})", "{v}^{k}"]
DERIVATIVES = ["cos({v})", "{k} exp({k} {v})", "sigmoid({v})(1 - sigmoid({v}))", "2 {v}/({v}^2 + {k})",
               "{k}(1 - tanh({k} {v})^2)", "{k} {v}^({k} - 1)"]


def derivation(n: int) -> str:
    """The n-th derivation: distinct names and constants (fresh cache entries), every fifth one wrong."""
    kind = n % len(FUNCTIONS)
    values = {"v": f"w{n % 97}", "k": str(n % 13 + 2)}
    wrong = " + 1" if n % 5 == 0 else ""
    return (
        f"u{n % 89} = {FUNCTIONS[kind].format(**values)}\n"
        f"du{n % 89}/d{values['v']} = {DERIVATIVES[kind].format(**values)}{wrong}\n"
    )


def verdicts(text: str) -> list[str]:
    return [step.verdict.value for step in derive.check(text).steps]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def test_the_generated_derivations_are_right_and_wrong_as_intended() -> None:
    assert [verdicts(derivation(n))[0] in ("proved", "confirmed") for n in range(10)] == [n % 5 != 0 for n in range(10)]


def test_many_derivations_in_one_process_keep_memory_flat() -> None:
    for n in range(WARM_UP):
        verdicts(derivation(n))
    before = rss_mb()
    for n in range(WARM_UP, COUNT):
        verdicts(derivation(n))
    assert rss_mb() - before < GROWTH_MB


def test_a_long_process_gives_the_same_verdicts_as_fresh_processes() -> None:
    sample = [3, 10, 17] if not LONG else list(range(0, COUNT, COUNT // 20))
    for n in range(COUNT if LONG else 20):
        verdicts(derivation(n))  # a process that has seen many derivations already
    in_process = {n: verdicts(derivation(n)) for n in sample}
    script = (
        "import json, sys, derive\n"
        "print(json.dumps([s.verdict.value for s in derive.check(sys.stdin.read()).steps]))\n"
    )
    for n in sample:
        done = subprocess.run(
            [sys.executable, "-c", script], input=derivation(n), capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True,
        )
        assert json.loads(done.stdout) == in_process[n], derivation(n)


# Caches over a bounded set of keys need no maxsize: a precision (bounded by numeric._MAX_EXTRA_DIGITS)
# and a function class.
BOUNDED_KEYS = {("numeric.py", "interval_context"), ("diagnose.py", "_outer_derivative")}


def unbounded_caches() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "derive").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                name = ast.unparse(decorator)
                unbounded = name in ("cache", "functools.cache", "lru_cache") or "maxsize=None" in name
                if unbounded and (path.name, node.name) not in BOUNDED_KEYS:
                    found.append((path.name, node.name))
    return found


def test_no_cache_of_the_package_grows_without_bound() -> None:
    assert unbounded_caches() == []
