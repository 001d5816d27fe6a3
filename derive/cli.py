"""The command line: `derive diff` and `derive check`, exit codes 0 (all verified), 1 (a step refuted or
unknown), 2 (bad input or usage: a message naming line and column, never a traceback)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import importlib
import io
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

# Only the standard library and derive.errors at import time: sympy-heavy modules load when a command
# runs, so that `derive --help` starts about as fast as `import sympy`.

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130
PROGRESS_MIN_FILES = 10  # below this many files a progress line is more noise than help
STDIN_NAME = "<stdin>"
# The modules each command needs, loaded at once by `_load_engine`.
_CHECK_MODULES = ("derive.sources", "derive.printing")
_DIFF_MODULES = ("derive.rewrite", "derive.parse", "derive.derivation")
# True when the command owns its whole process (the console script and the processes of --jobs it forks),
# not when `main` is called from other Python code.
_own_process = False

_EXAMPLES = """\
examples:
  derive diff "x^2*sin(x)" --wrt x
  derive diff "1/2*(a - y)^2" --wrt z --where "y = sigmoid(z)"
  derive diff "\\frac{1}{2}(a - \\sigma(z))^2" --wrt z --format latex
  derive diff "log(1 + exp(w*x))" --wrt w --format json
  echo "d/dx(x^3) = 3x^2" | derive check
  derive check notes.txt lecture.md slides.tex --jobs 2
  derive check backprop.tex --format json

files: .tex and .ltx files are checked in every align, align* or equation block preceded by a line
  % derive: check            (or: % derive: check where y = sigmoid(z); E = 1/2(a - y)^2)
Markdown (.md) in every fenced code block whose info string is `derivation`; any other file is one
derivation. Steps and errors are reported as path:line, lines of the file.

exit codes: 0 every step proved or confirmed, 1 some step refuted or unknown, 2 bad input or usage
"""

_ANSI = {"green": "\x1b[32m", "red": "\x1b[31m", "yellow": "\x1b[33m", "bold_red": "\x1b[1;31m"}
_RESET = "\x1b[0m"
_MARK_COLORS = {"✓": "green", "≈": "green", "✗": "red", "?": "yellow"}


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a one-line message, as the contract asks."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"derive: error: {message}\n")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    from derive import __version__

    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="derive",
        description="Differentiate step by step and check derivations; every step verified by sympy.",
        epilog=_EXAMPLES,
        formatter_class=raw,
    )
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{diff,check}", parser_class=_Parser)

    diff = commands.add_parser("diff", help="differentiate an expression step by step",
                               description="Differentiate EXPR with respect to VAR, one verified rule per step.",
                               epilog=_EXAMPLES, formatter_class=raw)
    diff.add_argument("expr", metavar="EXPR", help="the expression, plain text or LaTeX")
    diff.add_argument("--wrt", required=True, metavar="VAR", help="the variable to differentiate with respect to")
    diff.add_argument("--where", action="append", default=[], metavar="DEF",
                      help="a definition such as 'y = sigmoid(z)' (repeatable)")
    diff.add_argument("--style", choices=("expand", "leibniz"), default=None,
                      help="expand: one rule per step; leibniz: chain of named intermediates "
                           "(default: leibniz with --where, else expand)")
    diff.add_argument("--format", choices=("text", "latex", "markdown", "html", "json"), default="text")
    diff.add_argument("--latex", action=argparse.BooleanOptionalAction, default=None,
                      help="read EXPR as LaTeX (default: when it contains a backslash or a brace)")

    check = commands.add_parser("check", help="check a derivation line by line",
                                description="Check every step of the derivations in FILEs (or standard input).",
                                epilog=_EXAMPLES, formatter_class=raw)
    check.add_argument("files", nargs="*", metavar="FILE", help="files to check; none or - reads standard input")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--latex", action=argparse.BooleanOptionalAction, default=None,
                       help="read plain and Markdown derivations as LaTeX "
                            "(default: when they contain a backslash or a brace)")
    check.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                       help="check files in N processes at once (default 1)")
    return parser


@dataclass(frozen=True)
class _Console:
    """Where output goes and whether it may be coloured."""

    out: TextIO
    err: TextIO
    color_out: bool = False
    color_err: bool = False


def use_color(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """ANSI colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not environ.get("NO_COLOR")


def paint(text: str, color: str, enabled: bool) -> str:
    return f"{_ANSI[color]}{text}{_RESET}" if enabled else text


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    out = _whole_writes(stdout or sys.stdout or _Nowhere())
    err = _whole_writes(stderr or sys.stderr or _Nowhere())
    env = os.environ if environ is None else environ
    console = _Console(out, err, use_color(out, env), use_color(err, env))
    parser = build_parser()
    try:
        args = _parse_args(parser, argv, out, err)
    except SystemExit as stop:  # argparse's --help/--version (0) and usage errors (2)
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(err)
        return EXIT_BAD_INPUT
    from derive.errors import DeriveError

    try:
        if args.command == "diff":
            return _diff(args, console)
        return _check(args, console, stdin or sys.stdin)
    except DeriveError as exc:  # raised outside any one input: name it as it is
        _error(console, "derive", str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        with contextlib.suppress(OSError, ValueError):
            err.write("derive: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `derive check ... | head`: the reader left, nothing more to say
        return EXIT_FAILED
    except RecursionError:
        _error(console, "derive", "expression too deeply nested")
        return EXIT_BAD_INPUT
    except Exception as exc:  # the contract promises no traceback: name the failure instead
        _error(console, "derive", f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_BAD_INPUT


def run() -> NoReturn:
    """The console script: `main`, then out of the process without tearing the interpreter down.

    Freeing one by one every object of a process that has loaded sympy took 0.2 s, a quarter of checking
    a small file. The streams are flushed and derive's own worker stopped first, so nothing is lost.
    """
    global _own_process
    _own_process = True
    code = EXIT_BAD_INPUT
    try:
        code = main()
    except OSError as exc:  # a message about a failure could not be written either: stderr is full or gone
        code = EXIT_FAILED if isinstance(exc, BrokenPipeError) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    finally:
        try:
            code = _flush(code)
            _stop_isolation_worker()
        except KeyboardInterrupt:  # while the last of the report was being written
            code = EXIT_INTERRUPTED
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("derive: interrupted\n")
                sys.stderr.flush()
        finally:
            os._exit(code)


def _flush(code: int) -> int:
    """Write what the standard streams still hold; the exit code once they are written (or cannot be)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # closed before the start
            continue
        try:
            stream.flush()
        except BrokenPipeError:  # `derive check ... | head`: the reader left, as `main` says it
            code = max(code, EXIT_FAILED)
        except (OSError, ValueError) as exc:  # a full disk, a file size limit; ValueError: a closed stream
            code = max(code, EXIT_BAD_INPUT)
            if stream is sys.stdout and sys.stderr is not None:
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.write(f"derive: error: {_unwritable(exc)}\n")
                    sys.stderr.flush()
    return code


def _load_engine(modules: Sequence[str]) -> None:
    """Import derive's sympy-heavy modules with the garbage collector paused.

    Loading sympy makes about 120,000 objects that live as long as the process. Collected while they are
    made, they cost 55 ms, and a full collection during a check another 50 ms. In a process the command
    owns they are then frozen: left out of every later collection (Python's gc.freeze).
    """
    missing = [name for name in modules if name not in sys.modules]
    if not missing:
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name in missing:
            importlib.import_module(name)
    finally:
        if enabled:
            if _own_process:
                gc.freeze()
            gc.enable()


class _WholeWrites(io.TextIOBase):
    """A text stream over an unbuffered one (PYTHONUNBUFFERED, `python -u`, as many containers run): its
    raw write may take only part of a long text, which the text stream drops without an error, so that a
    report cut short by a reader who left (`derive check ... | head`) exited 0. This one writes the rest,
    and so meets the error."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.raw: Any = stream.buffer

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def flush(self) -> None:
        self.stream.flush()

    def write(self, text: str) -> int:
        self.stream.flush()  # anything the stream holds goes first
        data = memoryview(text.encode(self.stream.encoding or "utf-8", self.stream.errors or "strict"))
        while data:
            written = self.raw.write(data)
            if not written:  # a non-blocking descriptor that is full: an error rather than a spin
                raise BlockingIOError(errno.EAGAIN, "the output cannot take more now")
            data = data[written:]
        return len(text)


def _whole_writes(stream: TextIO) -> TextIO:
    """`stream`, or one that writes all of each text when it is unbuffered (see _WholeWrites)."""
    return _WholeWrites(stream) if isinstance(getattr(stream, "buffer", None), io.RawIOBase) else stream


class _Nowhere(io.TextIOBase):
    """Where output goes when the stream was closed before derive started (`derive check f >&-`: Python then
    has no sys.stdout): nowhere, and the exit code still tells."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def _parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None, out: TextIO,
                err: TextIO) -> argparse.Namespace:
    """argparse writes to sys.stdout/sys.stderr; the streams given to main take their place meanwhile."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        args = parser.parse_args(_expression_kept(list(sys.argv[1:] if argv is None else argv)))
    finally:
        sys.stdout, sys.stderr = saved
    if getattr(args, "expr", None) is not None:
        args.expr = args.expr.removeprefix(_KEPT)
    return args


# `derive diff '-x^2' --wrt x`: argparse takes an argument that starts with '-' for an option. An
# expression there (not an option of diff's) is marked so that it reads as EXPR, and unmarked after.
_KEPT = "\N{ZERO WIDTH SPACE}"
_DIFF_OPTIONS = ("-h", "--help", "--wrt", "--where", "--style", "--format", "--latex", "--no-latex")


def _expression_kept(argv: list[str]) -> list[str]:
    command = next((i for i, item in enumerate(argv) if not item.startswith("-")), None)
    if command is None or argv[command] != "diff":
        return argv
    start = command + 1
    out = argv[:start]
    after_option = False
    for item in argv[start:]:
        looks_like_option = item.startswith("-") and (item.split("=")[0] in _DIFF_OPTIONS or item == "--")
        if item.startswith("-") and len(item) > 1 and not looks_like_option and not after_option:
            item = _KEPT + item
        after_option = item in _DIFF_OPTIONS[2:6]  # the next item is that option's value
        out.append(item)
    return out


def _deliver(console: _Console, write: Callable[[], object], code: int) -> int:
    """Write a command's report; its exit code once written. A reader that left cuts it short (1; bad
    input stays 2); a full disk or a file size limit is an error of its own (2)."""
    try:
        write()
    except BrokenPipeError:
        return max(code, EXIT_FAILED)
    except OSError as exc:
        _error(console, "derive", _unwritable(exc))
        return EXIT_BAD_INPUT
    return code


def _unwritable(exc: OSError | ValueError) -> str:
    return f"cannot write the output: {exc}"


def _error(console: _Console, where: str, message: str, context: str = "") -> None:
    """One error on stderr; when stderr cannot take it (its reader gone, a full disk) the exit code still
    tells, so the failure to write is not a second error."""
    label = paint("error:", "bold_red", console.color_err)
    text = f"{where}: {label} {message}\n" + "".join(f"  {line}\n" for line in context.split("\n") if context)
    with contextlib.suppress(OSError, ValueError):
        console.err.write(text)


# --- derive diff -----------------------------------------------------------------------------------


def _diff(args: argparse.Namespace, console: _Console) -> int:
    from derive.errors import DefinitionError, DeriveError, ParseError

    _load_engine(_DIFF_MODULES)

    try:
        derivation = _differentiate(args)
    except (ParseError, DefinitionError) as exc:
        if exc.line is None or exc.column is None:
            _error(console, "derive diff", exc.message)
        else:
            _error(console, f"{_diff_origin(exc, args)}:{exc.line}:{exc.column}", exc.message, exc.context)
        return EXIT_BAD_INPUT
    except DeriveError as exc:
        _error(console, "derive diff", str(exc))
        return EXIT_BAD_INPUT
    except RecursionError:
        _error(console, "derive diff", "expression too deeply nested")
        return EXIT_BAD_INPUT
    render: dict[str, Callable[[], str]] = {
        "text": lambda: _paint_marks(derivation.to_text(), console.color_out),
        "latex": derivation.to_latex,
        "markdown": derivation.to_markdown,
        "html": derivation.to_html,
        "json": lambda: json.dumps(derivation.to_dict(), ensure_ascii=False, indent=2),
    }
    text = render[args.format]().rstrip("\n") + "\n"
    return _deliver(console, lambda: console.out.write(text), EXIT_OK if derivation.ok else EXIT_FAILED)


def _differentiate(args: argparse.Namespace) -> Any:
    from derive.rewrite import differentiate

    expr: object = args.expr
    if args.latex is not None:  # read here, where the notation is chosen, under the definitions
        from derive.parse import parse
        from derive.rewrite import read_where
        from derive.statements import parse_context

        expr = parse(args.expr, latex=args.latex, context=parse_context(read_where(tuple(args.where))[0]))
    return differentiate(expr, args.wrt, where=tuple(args.where), style=args.style)


def _diff_origin(exc: Any, args: argparse.Namespace) -> str:
    """Which argument a parse error is in: the expression or the n-th --where (its source line shows it)."""
    shown = exc.context.split("\n")[0].strip("…") if exc.context else ""
    if not shown.strip():  # an empty --where '' shows nothing to match
        blank = next((n for n, text in enumerate(args.where, start=1) if not text.strip()), None)
        if blank is not None and args.expr.strip():
            return f"<where {blank}>"
    if shown and shown not in args.expr:
        for number, text in enumerate(args.where, start=1):
            if shown in text:
                return f"<where {number}>"
    return "<expr>"


def _paint_marks(text: str, enabled: bool) -> str:
    """Colour the verdict mark that ends a step line of the text rendering."""
    if not enabled:
        return text
    lines = []
    for line in text.split("\n"):
        mark = line[-1:]
        if mark in _MARK_COLORS and line[:-1].endswith(" "):
            line = line[:-1] + paint(mark, _MARK_COLORS[mark], True)
        lines.append(line)
    return "\n".join(lines)


# --- derive check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """Bad input in one file: the message, and the position when there is one."""

    message: str
    line: int | None = None
    column: int | None = None
    context: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "line": self.line, "column": self.column}


@dataclass(frozen=True)
class Outcome:
    """What checking one file gave, as plain data (it crosses process boundaries)."""

    path: str
    document: dict[str, Any] | None = None
    text: str = ""
    failure: Failure | None = None
    passed: bool = False  # every step holds

    @property
    def ok(self) -> bool:
        return self.failure is None and self.passed


@dataclass(frozen=True)
class Task:
    """One file to check; `data` is given for standard input, the worker reads the file otherwise."""

    path: str
    data: bytes | str | None = None
    latex: bool | None = None
    color: bool = False
    name: str = ""
    # Only the form that is written is made: printing every step twice is a fifth of a check's time.
    json: bool = False


def check_one(task: Task) -> Outcome:
    """Check one file and render its result; never raises for bad input (it becomes a Failure)."""
    _load_engine(_CHECK_MODULES)
    from derive.errors import DefinitionError, DeriveError, ParseError
    from derive.sources import check_source, decode, read_source

    name = task.name or task.path
    try:
        if task.data is None:
            text = read_source(task.path)
        else:
            text = decode(task.data) if isinstance(task.data, bytes) else task.data
        report = check_source(task.path, text, latex=task.latex)
    except (ParseError, DefinitionError) as exc:
        return Outcome(name, failure=Failure(exc.message, exc.line, exc.column, exc.context))
    except DeriveError as exc:
        return Outcome(name, failure=Failure(str(exc)))
    except RecursionError:
        return Outcome(name, failure=Failure("expression too deeply nested"))
    except Exception as exc:  # the contract promises no traceback; one file must not stop the rest
        return Outcome(name, failure=Failure(f"internal error: {type(exc).__name__}: {exc}"))
    if task.json:
        return Outcome(name, document=report.to_dict(), passed=report.ok)
    return Outcome(name, text=render_report(name, report, color=task.color), passed=report.ok)


def render_report(name: str, report: Any, *, color: bool = False) -> str:
    """Each step as `path:line: mark lhs = rhs [verdict]` with its evidence below, then a summary line."""
    from derive.printing import to_text

    per_line: dict[int, int] = {}
    for step in report.steps:
        per_line[step.line] = per_line.get(step.line, 0) + 1
    lines = []
    for step in report.steps:
        number = f" (step {step.k + 1})" if per_line[step.line] > 1 else ""
        mark = paint(step.mark, _MARK_COLORS.get(step.mark, "yellow"), color)
        verdict = str(step.verdict.value)
        lines.append(f"{name}:{step.line}{number}: {mark} {to_text(step.lhs)} = {to_text(step.rhs)}   [{verdict}]")
        lines.extend(step.to_text().split("\n")[1:])  # the evidence under a wrong step
    lines.append(f"{name}: {summary(report)}")
    return "\n".join(lines) + "\n"


def summary(report: Any) -> str:
    if not report.steps:
        return "no steps to check"
    counts: dict[str, int] = {}
    for step in report.steps:
        counts[step.verdict.value] = counts.get(step.verdict.value, 0) + 1
    order = ("proved", "confirmed", "refuted", "unknown")
    text = ", ".join(f"{counts[v]} {v}" for v in order if v in counts)
    verdict = "every step holds" if report.ok else f"first error on line {report.first_error.line}"
    return f"{text}: {verdict}"


def _check(args: argparse.Namespace, console: _Console, stdin: TextIO | None) -> int:
    from derive.errors import DeriveError

    paths = list(args.files) or ["-"]
    json_out = args.format == "json"
    tasks = []
    for path in paths:
        if path == "-":
            if stdin is None:  # `derive check <&-`: Python has no sys.stdin
                raise DeriveError("standard input is closed: name the files to check, or send a derivation to it")
            from derive.limits import DEFAULT_LIMITS
            from derive.sources import read_bounded

            buffer = getattr(stdin, "buffer", None)  # bytes, so that UTF-8 is required whatever the locale
            limit = DEFAULT_LIMITS.max_input_bytes
            data = read_bounded(buffer) if buffer is not None else stdin.read(limit + 1)
            if len(data) > limit:
                raise DeriveError(f"input too large: more than {limit:,} characters (at most {limit:,}; limits.md)")
            tasks.append(
                Task(path, data=data, latex=args.latex, color=console.color_out, name=STDIN_NAME, json=json_out)
            )
        else:
            tasks.append(Task(path, latex=args.latex, color=console.color_out, json=json_out))
    outcomes = run_tasks(tasks, jobs=args.jobs, progress=Progress(console.err, len(tasks)))
    for outcome in outcomes:
        if outcome.failure is not None:
            failure = outcome.failure
            where = outcome.path if failure.line is None else f"{outcome.path}:{failure.line}"
            where += "" if failure.line is None or failure.column is None else f":{failure.column}"
            _error(console, where, failure.message, failure.context)
    if any(outcome.failure is not None for outcome in outcomes):
        code = EXIT_BAD_INPUT
    else:
        code = EXIT_OK if all(outcome.ok for outcome in outcomes) else EXIT_FAILED

    def write() -> None:
        if args.format == "json":
            _write_json(outcomes, console.out)
            return
        for outcome in outcomes:
            console.out.write(outcome.text)
        if len(outcomes) > 1:
            console.out.write(_files_summary(outcomes) + "\n")

    return _deliver(console, write, code)


def _write_json(outcomes: list[Outcome], out: TextIO) -> None:
    if len(outcomes) == 1:
        if outcomes[0].document is not None:  # bad input: the message is on stderr, nothing here
            out.write(json.dumps(outcomes[0].document, ensure_ascii=False, indent=2) + "\n")
        return
    files = []
    for outcome in outcomes:
        if outcome.failure is not None:
            # A file that could not be read still appears, so that the list matches the arguments.
            files.append({"path": outcome.path, "ok": False, "first_error": None, "steps": [],
                          "error": outcome.failure.to_dict()})
        else:
            files.append({"path": outcome.path, **(outcome.document or {})})
    document = {"ok": all(outcome.ok for outcome in outcomes), "files": files}
    out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _files_summary(outcomes: list[Outcome]) -> str:
    ok = sum(outcome.ok for outcome in outcomes)
    bad = sum(outcome.failure is not None for outcome in outcomes)
    failed = len(outcomes) - ok - bad
    parts = [f"{ok} ok"] + ([f"{failed} not ok"] if failed else []) + ([f"{bad} bad input"] if bad else [])
    return f"{len(outcomes)} files: {', '.join(parts)}"


class Progress:
    """`checking 3/20` on a terminal's stderr while many files are checked; nothing otherwise."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        isatty = getattr(stream, "isatty", None)
        self.enabled = total >= PROGRESS_MIN_FILES and bool(isatty and isatty())
        self.width = 0

    def update(self, done: int) -> None:
        if self.enabled:
            text = f"checking {done}/{self.total} files"
            self.width = max(self.width, len(text))
            self.stream.write(f"\r{text}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def run_tasks(tasks: list[Task], *, jobs: int = 1, progress: Progress | None = None) -> list[Outcome]:
    """Check every task, in `jobs` processes when there is more than one; outcomes in input order."""
    outcomes: list[Outcome | None] = [None] * len(tasks)
    try:
        if jobs <= 1 or len(tasks) <= 1:
            for index, task in enumerate(tasks):
                outcomes[index] = check_one(task)
                if progress:
                    progress.update(index + 1)
        else:
            _check_in_processes(tasks, jobs, outcomes, progress)
    finally:
        if progress:
            progress.close()
    return [outcome for outcome in outcomes if outcome is not None]


def _check_in_processes(tasks: list[Task], jobs: int, outcomes: list[Outcome | None],
                        progress: Progress | None) -> None:
    """run_tasks with more than one process: fill `outcomes` in the order of `tasks`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The processes fork from this one before it has imported sympy or checked anything, and each
    # imports and checks on its own, as separate runs would. Forked after a first file had been checked
    # here (to share sympy's warm caches) they were slower, as every touch of the parent's objects copied
    # its memory page by page: 1.73x the throughput of `--jobs 1` on 200 small files, against 1.99x; forked
    # after importing sympy only, 3.25 s against 3.05 s. Files go out largest first, in pairs (fewer round
    # trips), so that no process is left alone with a long file at the end; outcomes come back in order.
    # Objects made so far are left out of garbage collection, which would write to each of them (the
    # gc.freeze advice for forked processes); not when a caller has frozen objects of its own, which
    # unfreezing would thaw.
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    order = sorted(range(len(tasks)), key=lambda i: -_size(tasks[i]))
    chunk = 2 if len(order) >= 8 * jobs else 1
    pool: ProcessPoolExecutor | None = None
    try:
        with _interrupts_held():
            pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context,
                                       initializer=_start_pool_process)
            results = pool.map(check_one, [tasks[i] for i in order], chunksize=chunk)  # forks the processes
        for done, (index, outcome) in enumerate(zip(order, results, strict=True), start=1):
            outcomes[index] = outcome
            if progress:
                progress.update(done)
        pool.shutdown()
    except BaseException:  # Ctrl-C or a failure: no more files go out, and the processes stop at once
        if pool is not None:
            _stop_pool(pool)
        raise
    finally:
        if freezing:
            gc.unfreeze()


def _stop_pool(pool: Any) -> None:
    """Stop the processes of --jobs where they are and wait for them to end, so that none is left to init
    as a zombie. The pool has no public way to stop a process in the middle of a file: its own table of
    processes (`_processes`, pid to process) is read before `shutdown` clears it, and skipped if absent."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=10)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C waits while the processes of --jobs fork. One that came in the middle left a process half
    started (a traceback from its initializer, a broken pool) or was lost in an after-fork hook (exit 0)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _start_pool_process() -> None:
    """Each process of --jobs: leaves Ctrl-C to its parent, which stops the pool (a Ctrl-C reaches every
    process of the terminal's group); dies with its parent (ended by a signal, the parent would leave it
    waiting for work forever); and stops derive's isolation worker, if it started one, when it ends (its
    processes leave without running atexit handlers)."""
    from multiprocessing.util import Finalize

    from derive.lifetime import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held while it forked
    die_with_parent()
    Finalize(None, _stop_isolation_worker, exitpriority=10)


def _stop_isolation_worker() -> None:
    """Stop this process's isolation worker, if derive started one (a process leaving with os._exit, or
    a process of --jobs, runs no atexit handler that would)."""
    worker = sys.modules.get("derive.worker")
    if worker is not None:
        worker.shutdown()


def _size(task: Task) -> int:
    """The length of a task's text, a measure of its work (0 when the file cannot be read: it fails fast)."""
    if task.data is not None:
        return len(task.data)
    try:
        return os.stat(task.path).st_size
    except OSError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    run()
