"""Feed every hostile input to derive's API in one process; print one JSON line per (case, call).

Run as a subprocess by tests/test_hostile.py, so that a hang or a crash of the interpreter cannot take
the test run with it: a watchdog ends this process if one call runs past HANG_SECONDS.
"""

from __future__ import annotations

import faulthandler
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import derive
from derive.errors import DeriveError

HANG_SECONDS = 20.0
HERE = Path(__file__).parent


def generated() -> dict[str, str]:
    """Inputs too large to keep as files."""
    return {
        "parens_100k": "(" * 100_000 + "x" + ")" * 100_000,
        "braces_100k": "\\frac{d}{dx}" + "{" * 100_000 + "x" + "}" * 100_000,
        "one_megabyte_sum": "x + " * 250_000 + "x",
        "one_megabyte_name": "x" * 1_000_000,
        "one_megabyte_derivation": "d/dx(x^2) = 2x\n" * 70_000,
        "many_lines_of_definitions": "".join(f"a{k} = a{k - 1} + 1\n" for k in range(1, 25_000)),
        "long_definition_chain": "a0 = x\n" + "".join(f"a{k} = a{k - 1}^2\n" for k in range(1, 60)) + "da59/dx = 0\n",
        "ten_thousand_digits": "1" * 10_000 + " x",
        "many_distinct_terms": " + ".join(f"sin({k} x)" for k in range(1, 3_000)),
    }


def corpus() -> dict[str, str]:
    cases = {p.stem: p.read_bytes().decode("utf-8", "surrogateescape") for p in sorted(HERE.glob("*.txt"))}
    cases.update(generated())
    return cases


def calls(text: str) -> dict[str, Callable[[], object]]:
    result: dict[str, Callable[[], object]] = {"check": lambda: [s.verdict.value for s in derive.check(text).steps]}
    if "\n" not in text.strip() and "=" not in text:
        result["parse"] = lambda: str(derive.parse(text))[:200]
        result["differentiate"] = lambda: str(derive.differentiate(text, "x").result)[:200]
    return result


def main() -> None:
    selected = set(sys.argv[1:])
    for name, text in corpus().items():
        if selected and name not in selected:
            continue
        for api, call in calls(text).items():
            faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
            started = time.monotonic()
            record: dict[str, object] = {"case": name, "api": api}
            try:
                record.update(outcome="ok", value=call())
            except DeriveError as error:
                record.update(outcome="error", error_type=type(error).__name__, message=str(error)[:300])
            except BaseException as error:
                record.update(outcome="crash", error_type=type(error).__name__, message=traceback.format_exc()[-2000:])
            faulthandler.cancel_dump_traceback_later()
            record["seconds"] = round(time.monotonic() - started, 3)
            print(json.dumps(record), flush=True)
    # The hostile derivative with respect to a number, through the API's wrt argument.
    for wrt in ("2", "x.__class__", "__import__('os')"):
        record = {"case": f"wrt {wrt}", "api": "differentiate"}
        try:
            record.update(outcome="ok", value=str(derive.differentiate("x^2", wrt).result))
        except DeriveError as error:
            record.update(outcome="error", error_type=type(error).__name__, message=str(error)[:300])
        except BaseException as error:
            record.update(outcome="crash", error_type=type(error).__name__, message=traceback.format_exc()[-2000:])
        print(json.dumps(record), flush=True)
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
