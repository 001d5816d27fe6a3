"""The command line: formats, exit codes 0/1/2, errors with line and column, files, --jobs, colour."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import sympy

from derive import __version__
from derive.check import check
from derive.cli import PROGRESS_MIN_FILES, Outcome, Task, main, use_color
from derive.functions import relu, sigmoid, softplus
from derive.rewrite import differentiate
from derive.sources import check_source


class Terminal(io.StringIO):
    """A stream that says it is a terminal, to test colour and progress without one."""

    def isatty(self) -> bool:
        return True


def run(*argv: str, stdin: str | bytes = "", environ: dict[str, str] | None = None,
        tty: bool = False) -> tuple[int, str, str]:
    """main() in process: (exit code, stdout, stderr)."""
    out, err = (Terminal(), Terminal()) if tty else (io.StringIO(), io.StringIO())
    source = io.TextIOWrapper(io.BytesIO(stdin)) if isinstance(stdin, bytes) else io.StringIO(stdin)
    code = main(list(argv), stdout=out, stderr=err, stdin=source, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


def rebuild(text: str) -> sympy.Expr:
    """The contract: every "sympy" string is rebuilt by sympify with derive's named functions."""
    return sympy.sympify(text, locals={"sigmoid": sigmoid, "softplus": softplus, "relu": relu})


# --- usage -----------------------------------------------------------------------------------------


def test_version_prints_the_package_version() -> None:
    assert run("--version")[:2] == (0, f"derive {__version__}\n")


@pytest.mark.parametrize("argv", [["--help"], ["diff", "--help"], ["check", "--help"]], ids=" ".join)
def test_help_shows_examples_and_exit_codes(argv: list[str]) -> None:
    code, out, _ = run(*argv)
    assert code == 0
    assert 'derive diff "x^2*sin(x)" --wrt x' in out
    assert "exit codes: 0" in out


@pytest.mark.parametrize(
    "argv",
    [[], ["diff", "x^2"], ["diff", "x", "--wrt", "x", "--format", "pdf"], ["check", "--jobs", "0"],
     ["check", "--jobs", "many"], ["frobnicate"]],
    ids=["no-command", "missing-wrt", "unknown-format", "zero-jobs", "jobs-not-a-number", "unknown-command"],
)
def test_usage_errors_exit_with_2_and_a_message(argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert "usage: derive" in err


# --- derive diff -----------------------------------------------------------------------------------

DIFF_CASES = [
    ("x^2*sin(x)", "x", ()),
    ("1/2*(a - y)^2", "z", ("y = sigmoid(z)",)),
    (r"\frac{1}{2}(a - \sigma(z))^2", "z", ()),
    ("f(z)", "z", ()),  # no step: f'(z) is the result as it stands
]
FORMATS = ["text", "latex", "markdown", "html", "json"]


@cache
def derivation(expr: str, wrt: str, where: tuple[str, ...]):
    return differentiate(expr, wrt, where=where)


def diff_argv(expr: str, wrt: str, where: tuple[str, ...], fmt: str) -> list[str]:
    return ["diff", expr, "--wrt", wrt, *(arg for d in where for arg in ("--where", d)), "--format", fmt]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("expr", "wrt", "where"), DIFF_CASES, ids=["product", "leibniz", "latex-input", "abstract"])
def test_diff_prints_the_derivation_in_every_format(expr: str, wrt: str, where: tuple[str, ...], fmt: str) -> None:
    code, out, err = run(*diff_argv(expr, wrt, where, fmt))
    expected = derivation(expr, wrt, where)
    rendered = {
        "text": expected.to_text, "latex": expected.to_latex, "markdown": expected.to_markdown,
        "html": expected.to_html, "json": lambda: json.dumps(expected.to_dict(), ensure_ascii=False, indent=2),
    }[fmt]()
    assert (code, err) == (0, "")
    assert out == rendered.rstrip("\n") + "\n"


def test_diff_of_an_abstract_function_prints_its_derivative() -> None:
    assert run("diff", "f(z)", "--wrt", "z") == (0, "result: f'(z)\n", "")


def test_diff_json_result_is_sympys_own_derivative() -> None:
    code, out, _ = run("diff", "x^2*sin(x)", "--wrt", "x", "--format", "json")
    x = sympy.Symbol("x", real=True)
    document = json.loads(out)
    assert code == 0 and document["ok"] is True
    assert sympy.simplify(rebuild(document["result"]["sympy"]).subs(sympy.Symbol("x"), x)
                          - sympy.diff(x**2 * sympy.sin(x), x)) == 0


def test_diff_reads_the_expression_as_latex_when_asked() -> None:
    code, out, _ = run("diff", "wx", "--wrt", "x", "--latex", "--format", "json")
    assert code == 0
    assert rebuild(json.loads(out)["result"]["sympy"]) == sympy.Symbol("w")


@pytest.mark.parametrize(
    ("argv", "where", "line", "column"),
    [
        (["diff", "sin(x", "--wrt", "x"], "<expr>", 1, 6),
        (["diff", r"\foo x", "--wrt", "x"], "<expr>", 1, 1),
        (["diff", "", "--wrt", "x"], "<expr>", 1, 1),
        (["diff", "x^2 +* 1", "--wrt", "x"], "<expr>", 1, 6),
        (["diff", "x^2", "--wrt", "x", "--where", "y = sigmoid(z"], "<where 1>", 1, 14),
        (["diff", "y", "--wrt", "z", "--where", "a = 1", "--where", "y = y^2"], "<where 2>", 1, 1),
        (["diff", "y", "--wrt", "z", "--where", "y = u", "--where", "u = y"], "<where 1>", 1, 1),
    ],
    ids=["unclosed-parenthesis", "unknown-latex-command", "empty", "two-operators", "bad-where", "self-reference",
         "cycle"],
)
def test_diff_parse_errors_name_line_and_column_with_a_caret(argv: list[str], where: str, line: int,
                                                             column: int) -> None:
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    first, *context = err.rstrip("\n").split("\n")
    assert first.startswith(f"{where}:{line}:{column}: error: ")
    assert context[-1] == "  " + " " * (column - 1) + "^"
    assert "Traceback" not in err


@pytest.mark.parametrize("wrt", ["2", "x+y", ""], ids=["number", "expression", "empty"])
def test_diff_rejects_a_variable_that_is_not_a_name(wrt: str) -> None:
    code, out, err = run("diff", "x^2", "--wrt", wrt)
    assert (code, out) == (2, "")
    assert "error:" in err and "wrt" in err


# --- derive check ----------------------------------------------------------------------------------

RIGHT = "d/dx(x^3) = 3x^2\nd/dx(sin(x)^2) = 2 sin(x) cos(x)\n"
WRONG = "d/dx(x^3) = 3x^2\n\nd/dx(x^2) = 2x = x + x = 3x\n"


@pytest.mark.parametrize(
    ("text", "code"), [(RIGHT, 0), (WRONG, 1)], ids=["all-steps-hold", "a-step-is-refuted"]
)
def test_check_reads_standard_input_and_exits_by_its_verdicts(text: str, code: int) -> None:
    assert run("check", stdin=text)[0] == code
    assert run("check", "-", stdin=text)[0] == code


def test_check_text_names_every_step_by_line_with_its_evidence() -> None:
    code, out, _ = run("check", stdin=WRONG)
    lines = out.rstrip("\n").split("\n")
    assert code == 1
    assert lines[0].startswith("<stdin>:1: ✓ ")
    assert [line.split(":")[1] for line in lines if line.startswith("<stdin>:3")] == ["3 (step 1)", "3 (step 2)",
                                                                                      "3 (step 3)"]
    assert any(line.startswith("    counterexample: x = ") for line in lines)
    assert lines[-1] == "<stdin>: 3 proved, 1 refuted: first error on line 3"


def test_check_json_of_one_input_is_the_report() -> None:
    code, out, _ = run("check", "--format", "json", stdin=WRONG)
    assert code == 1
    assert json.loads(out) == check(WRONG).to_dict()


@pytest.mark.parametrize(
    ("stdin", "line", "column"),
    [("d/dx(x^2) = 2x\nsin(x = 1\n", 2, 7), ("", 1, 1), ("x = 1\n\\foo = 2\n", 2, 1),
     (b"x = 1\n2 = \xff\n", 2, 5), ("f = x^2\nlet f = f + 1\n", 2, 1), ("a = b\n b = a\nda/dx = 1\n", 2, 2)],
    ids=["unclosed-parenthesis", "empty", "unknown-latex-command", "not-utf8", "self-reference", "cycle"],
)
def test_check_bad_input_exits_2_naming_line_and_column(stdin: str | bytes, line: int, column: int) -> None:
    code, out, err = run("check", stdin=stdin)
    assert (code, out) == (2, "")
    assert err.startswith(f"<stdin>:{line}:{column}: error: ")
    assert err.rstrip("\n").endswith("^")
    assert "Traceback" not in err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A right, a wrong, a Markdown, a LaTeX, a non-UTF-8 file, and a missing one."""
    contents: dict[str, str | bytes] = {
        "right.txt": RIGHT,
        "wrong.txt": WRONG,
        "notes.md": "# Notes\n\n```derivation\nd/dx(e^(2x)) = 2e^(2x)\n```\n",
        "neuron.tex": "% derive: check where y = sigmoid(z)\n\\begin{align}\n"
                      "\\frac{dy}{dz} &= y(1 - y)\n\\end{align}\n",
        "latin1.txt": "x = 1\ny = é\n".encode("latin-1"),
    }
    paths = {}
    for name, content in contents.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths[name] = path
    paths["missing.txt"] = tmp_path / "missing.txt"
    return paths


def test_check_reports_markdown_and_latex_steps_at_file_lines(files: dict[str, Path]) -> None:
    code, out, _ = run("check", str(files["notes.md"]), str(files["neuron.tex"]))
    assert code == 0
    assert f"{files['notes.md']}:4: ✓ " in out
    assert f"{files['neuron.tex']}:3: ✓ " in out
    assert out.rstrip("\n").split("\n")[-1] == "2 files: 2 ok"


@pytest.mark.parametrize(
    ("names", "code"),
    [(["right.txt", "notes.md"], 0), (["right.txt", "wrong.txt"], 1), (["wrong.txt", "missing.txt"], 2)],
    ids=["all-hold", "one-refuted", "bad-input-wins"],
)
def test_check_exit_code_of_several_files_is_the_worst(files: dict[str, Path], names: list[str], code: int) -> None:
    assert run("check", *(str(files[name]) for name in names))[0] == code


@pytest.mark.parametrize(
    ("name", "position"), [("missing.txt", ""), ("latin1.txt", ":2:5")], ids=["missing", "not-utf8"]
)
def test_a_file_that_cannot_be_read_is_bad_input(files: dict[str, Path], name: str, position: str) -> None:
    code, out, err = run("check", str(files[name]))
    assert (code, out) == (2, "")
    assert err.startswith(f"{files[name]}{position}: error: ")
    assert "Traceback" not in err


def test_check_json_of_several_files_lists_them_in_order(files: dict[str, Path]) -> None:
    names = ["wrong.txt", "notes.md", "missing.txt", "neuron.tex"]
    code, out, _ = run("check", "--format", "json", *(str(files[name]) for name in names))
    document = json.loads(out)
    assert code == 2
    assert document["ok"] is False
    assert [entry["path"] for entry in document["files"]] == [str(files[name]) for name in names]
    for name, entry in zip(names, document["files"], strict=True):
        if name == "missing.txt":
            assert entry["error"]["message"].startswith("cannot read the file")
        else:
            path = str(files[name])
            assert entry == {"path": path, **check_source(path, files[name].read_text()).to_dict()}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_jobs_2_gives_the_same_report_as_jobs_1(files: dict[str, Path], fmt: str) -> None:
    paths = [str(files[name]) for name in ("wrong.txt", "notes.md", "right.txt", "latin1.txt", "neuron.tex")]
    assert run("check", "--format", fmt, "--jobs", "2", *paths) == run("check", "--format", fmt, "--jobs", "1", *paths)


def test_jobs_2_over_many_files_of_many_sizes_reports_them_in_the_order_given(tmp_path: Path) -> None:
    """Files go to the processes largest first; the report keeps the order of the arguments."""
    paths = []
    for k in range(24):
        lines = [f"d/dx(x^{n}) = {n}*x^{n - 1}" for n in range(2, 2 + (24 - k) % 7)]
        if k % 5 == 0:
            lines.append("d/dx(sin(x)) = -cos(x)")  # a wrong line now and then
        path = tmp_path / f"f{k:02d}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path))
    paths.insert(7, str(tmp_path / "missing.txt"))
    for fmt in ("text", "json"):
        serial = run("check", "--format", fmt, *paths)
        assert run("check", "--format", fmt, "--jobs", "2", *paths) == serial
        assert serial[0] == 2


# --- terminal niceties -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tty", "environ", "expected"),
    [(True, {}, True), (True, {"NO_COLOR": "1"}, False), (True, {"NO_COLOR": ""}, True), (False, {}, False)],
    ids=["terminal", "no-color-set", "no-color-empty", "pipe"],
)
def test_colour_only_on_a_terminal_without_no_color(tty: bool, environ: dict[str, str], expected: bool) -> None:
    assert use_color(Terminal() if tty else io.StringIO(), environ) is expected


def test_marks_and_errors_are_coloured_on_a_terminal() -> None:
    _, out, _ = run("check", stdin=WRONG, tty=True)
    assert "\x1b[32m✓\x1b[0m" in out and "\x1b[31m✗\x1b[0m" in out
    _, out, _ = run("diff", "x^2", "--wrt", "x", tty=True)
    assert "\x1b[32m✓\x1b[0m" in out
    _, _, err = run("check", stdin="sin(x = 1", tty=True)
    assert "\x1b[1;31merror:\x1b[0m" in err


def test_nothing_is_coloured_with_no_color_or_in_a_pipe() -> None:
    assert "\x1b[" not in "".join(run("check", stdin=WRONG, tty=True, environ={"NO_COLOR": "1"})[1:])
    assert "\x1b[" not in "".join(run("check", stdin=WRONG)[1:])


@pytest.mark.parametrize(("count", "shown"), [(PROGRESS_MIN_FILES, True), (PROGRESS_MIN_FILES - 1, False)],
                         ids=["many-files", "few-files"])
def test_progress_shows_on_a_terminal_for_many_files(tmp_path: Path, count: int, shown: bool) -> None:
    paths = []
    for number in range(count):
        path = tmp_path / f"f{number}.txt"
        path.write_text(f"{number} + 1 = {number + 1}\n")
        paths.append(str(path))
    code, _, err = run("check", *paths, tty=True, environ={"NO_COLOR": "1"})
    assert code == 0
    assert (f"checking {count}/{count} files" in err) is shown


# --- the real program, in a subprocess (each start imports sympy: kept few) -------------------------


# As a user's shell starts it: output to a pipe is buffered (PYTHONUNBUFFERED would hide a lost flush).
USER_ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}


def derive_process(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "derive", *argv], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False, env=USER_ENVIRONMENT)


def test_python_m_derive_runs_diff_with_exit_0() -> None:
    result = derive_process("diff", "1/2*(a - y)^2", "--wrt", "z", "--where", "y = sigmoid(z)", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == derivation("1/2*(a - y)^2", "z", ("y = sigmoid(z)",)).to_dict()


def test_python_m_derive_checks_standard_input_with_exit_1() -> None:
    result = derive_process("check", "--format", "json", stdin=WRONG)
    assert result.returncode == 1
    assert json.loads(result.stdout)["first_error"] == {"line": 3, "k": 2}


def test_python_m_derive_reports_bad_input_without_a_traceback() -> None:
    result = derive_process("diff", "sin(x", "--wrt", "x")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("<expr>:1:6: error: ")
    assert "Traceback" not in result.stderr


def test_jobs_2_leaves_sympy_to_the_processes_it_forks(files: dict[str, Path]) -> None:
    """The processes fork before this one imports sympy: forked from a process that had worked with sympy,
    each would copy its memory page by page as it touched it."""
    code = ("import sys; from derive.cli import main; main(['check', '--jobs', '2', *sys.argv[1:]]); "
            "print('sympy in the parent:', 'sympy' in sys.modules)")
    paths = [str(files[name]) for name in ("right.txt", "neuron.tex", "notes.md")]
    result = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=120,
                            check=False)
    assert "every step holds" in result.stdout
    assert result.stdout.rstrip().endswith("sympy in the parent: False")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie is gone
    except FileNotFoundError:
        return False


def _forty_files(folder: Path) -> list[str]:
    """Forty files of product-rule lines: long enough to interrupt `--jobs 2` in the middle (a few seconds
    of work; ten lines a file took 0.1 s, done before the interruption came)."""
    paths = []
    for k in range(40):
        path = folder / f"f{k}.txt"
        path.write_text("".join(f"d/dx(x^{n}*sin(k{j} x)) = {n}*x^{n - 1}*sin(k{j} x) + k{j} x^{n}*cos(k{j} x)\n"
                                for j, n in enumerate(range(2, 82))), encoding="utf-8")
        paths.append(str(path))
    return paths


def _its_two_children(parent: subprocess.Popen[bytes]) -> list[int]:
    """The processes of `--jobs 2` once both have started (Linux's list of a process's children)."""
    import time

    children: list[int] = []
    deadline = time.monotonic() + 60
    while len(children) < 2 and time.monotonic() < deadline and parent.poll() is None:
        with open(f"/proc/{parent.pid}/task/{parent.pid}/children", encoding="ascii") as listed:
            children = [int(pid) for pid in listed.read().split()]
        time.sleep(0.05)
    return children


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a process's children are listed in Linux's /proc")
def test_the_processes_of_jobs_2_end_when_a_signal_ends_their_parent(tmp_path: Path) -> None:
    import signal
    import time

    paths = _forty_files(tmp_path)
    parent = subprocess.Popen([sys.executable, "-m", "derive", "check", "--jobs", "2", *paths],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = _its_two_children(parent)
    assert len(children) == 2 and parent.poll() is None
    time.sleep(0.5)  # each has started (and asked to end with its parent)
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children)


def _check_in_the_isolation_worker(task: Task) -> Outcome:
    """In place of check_one: start this process's isolation worker, and say which process it is."""
    from derive.worker import run_isolated

    return Outcome(task.path, text=str(run_isolated(os.getpid, seconds=60)), passed=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="processes are looked up in Linux's /proc")
def test_the_processes_of_jobs_2_stop_their_isolation_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process of --jobs leaves without atexit handlers: it stops and reaps its isolation worker itself
    before it ends. Left to die with it, the worker would stay behind as a zombie until init reaps it."""
    import derive.cli

    monkeypatch.setattr(derive.cli, "check_one", _check_in_the_isolation_worker)  # the forked processes get it
    outcomes = derive.cli.run_tasks([Task(f"f{k}.txt") for k in range(4)], jobs=2)
    workers = {int(outcome.text) for outcome in outcomes}
    assert workers and os.getpid() not in workers  # one per process of --jobs that got a file
    # run_tasks has waited for the processes of --jobs, and each of them for its worker: all are gone.
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_sigmask"), reason="needs POSIX signal masks")
def test_a_ctrl_c_while_jobs_2_forks_waits_and_then_interrupts_the_parent_only() -> None:
    """Ctrl-C is held while the processes fork; the parent gets it afterwards, and a process of --jobs
    (which inherits it pending) drops it instead of failing in its initializer."""
    import signal

    from derive.cli import _interrupts_held

    with pytest.raises(KeyboardInterrupt), _interrupts_held():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # bytecode runs on: a signal not held would be raised here
            pass
        held = True
    assert held
    code = ("import os, signal\n"
            "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}); os.kill(os.getpid(), signal.SIGINT)\n"
            "from derive.cli import _start_pool_process\n"
            "_start_pool_process()\n"
            "print('started')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a process's children are listed in Linux's /proc")
def test_ctrl_c_during_jobs_2_interrupts_once_and_leaves_no_process(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the terminal's group: the processes of --jobs leave it to their
    parent, which stops them, says so once and exits 130."""
    import signal
    import time

    paths = _forty_files(tmp_path)
    parent = subprocess.Popen([sys.executable, "-m", "derive", "check", "--jobs", "2", *paths],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                              env=USER_ENVIRONMENT)
    children = _its_two_children(parent)
    assert len(children) == 2 and parent.poll() is None
    time.sleep(1.0)  # each is checking
    assert parent.poll() is None, "the files were all checked before the interruption: give them more work"
    os.killpg(parent.pid, signal.SIGINT)
    _, err = parent.communicate(timeout=60)
    assert (parent.returncode, err.decode()) == (130, "derive: interrupted\n")
    # Reaped by their parent before it left, not left to init as zombies.
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)


def test_python_m_derive_jobs_2_matches_jobs_1(files: dict[str, Path]) -> None:
    paths = [str(files[name]) for name in ("wrong.txt", "notes.md", "missing.txt", "neuron.tex")]
    parallel, serial = derive_process("check", "--jobs", "2", *paths), derive_process("check", *paths)
    assert (parallel.returncode, parallel.stdout, parallel.stderr) == (serial.returncode, serial.stdout, serial.stderr)
    assert serial.returncode == 2


# --- the console script leaves without tearing down the interpreter ---------------------------------


def test_python_m_derive_writes_a_long_report_whole(tmp_path: Path) -> None:
    """The script leaves with os._exit: what is still buffered (here the last lines) must be written first."""
    paths = []
    for k in range(20):
        path = tmp_path / f"f{k:02d}.txt"
        path.write_text("".join(f"d/dx(x^{n}) = {n}*x^{n - 1}\n" for n in range(2, 60)), encoding="utf-8")
        paths.append(str(path))
    result = derive_process("check", *paths)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 64 * 1024  # more than a pipe holds and many times a stream's buffer
    assert result.stdout == run("check", *paths)[1]


@pytest.mark.parametrize("lines", [400, 3], ids=["while-writing", "at-the-last-flush"])
def test_python_m_derive_says_nothing_when_its_reader_leaves(tmp_path: Path, lines: int) -> None:
    """`derive check ... | head`: the rest of the report cannot be written; exit 1, no traceback or
    'Exception ignored'. A short report is still in the stream's buffer when the reader has gone."""
    path = tmp_path / "report.txt"
    path.write_text("".join(f"d/dx(x^{n}) = {n}*x^{n - 1}\n" for n in range(2, 2 + lines)), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "derive", "check", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=USER_ENVIRONMENT)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert (process.wait(timeout=120), err) == (1, "")


def test_python_m_derive_unbuffered_says_so_when_its_reader_leaves_in_the_middle(tmp_path: Path) -> None:
    """Unbuffered (PYTHONUNBUFFERED, as many containers set it), a long write to a pipe whose reader leaves
    writes only part, and Python's text stream drops the rest without an error: exit 0 for a cut report."""
    path = tmp_path / "report.txt"
    path.write_text("d/dx(x^2) = 2x\n" * 3000, encoding="utf-8")  # a report of 130 kB: two pipes' worth
    process = subprocess.Popen([sys.executable, "-m", "derive", "check", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**USER_ENVIRONMENT, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)  # the report has started: the rest waits in a full pipe
    process.stdout.close()
    assert (process.wait(timeout=120), process.stderr.read().decode()) == (1, "")


@pytest.mark.skipif(os.name != "posix", reason="closes the child's descriptors before it starts")
@pytest.mark.parametrize(("text", "code"), [("d/dx(x^2) = 2x\n", 0), ("d/dx(x^2) = 3x\n", 1), ("sin(x\n", 2)],
                         ids=["right", "wrong", "bad-input"])
def test_python_m_derive_still_answers_with_its_output_closed(tmp_path: Path, text: str, code: int) -> None:
    """`derive check f >&- 2>&-` (Python then has no sys.stdout or sys.stderr): no report, but the exit code
    is the check's."""
    path = tmp_path / "claim.txt"
    path.write_text(text, encoding="utf-8")

    def close_output() -> None:
        os.close(1)
        os.close(2)

    result = subprocess.run([sys.executable, "-m", "derive", "check", str(path)], preexec_fn=close_output,
                            timeout=120, check=False, env=USER_ENVIRONMENT)
    assert result.returncode == code


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs a device that is always full")
@pytest.mark.parametrize("argv", [["check", "right.txt"], ["diff", "x^2", "--wrt", "x"]], ids=["check", "diff"])
def test_python_m_derive_says_once_that_its_output_cannot_be_written(tmp_path: Path, argv: list[str]) -> None:
    path = tmp_path / "right.txt"
    path.write_text("d/dx(x^2) = 2x\n", encoding="utf-8")
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run([sys.executable, "-m", "derive", *argv], cwd=tmp_path, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120, check=False, env=USER_ENVIRONMENT)
    assert result.returncode == 2
    assert result.stderr == "derive: error: cannot write the output: [Errno 28] No space left on device\n"


def test_python_m_derive_keeps_exit_2_for_bad_input_when_stderr_has_no_reader(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("d/dx(sin(x) = cos(x)\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "derive", "check", str(path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=USER_ENVIRONMENT)
    assert process.stderr is not None
    process.stderr.close()
    assert process.wait(timeout=120) == 2


@pytest.mark.skipif(os.name != "posix", reason="closes the child's descriptor before it starts")
def test_python_m_derive_check_names_a_closed_standard_input() -> None:
    result = subprocess.run([sys.executable, "-m", "derive", "check"], preexec_fn=lambda: os.close(0),
                            capture_output=True, text=True, timeout=120, check=False, env=USER_ENVIRONMENT)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("derive: error: standard input is closed: name the files to check, "
                             "or send a derivation to it\n")


def _leave_at_once(task: Task) -> Outcome:
    os._exit(3)


def test_jobs_2_thaws_what_it_froze_even_when_a_process_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector is frozen around the fork (the processes would otherwise copy what it touches); a
    caller's own frozen objects stay frozen, and what --jobs froze is thawed however the pool ends."""
    import gc
    from concurrent.futures.process import BrokenProcessPool

    import derive.cli

    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(derive.cli, "check_one", _leave_at_once)
    with pytest.raises(BrokenProcessPool):
        derive.cli.run_tasks([Task(f"f{k}.txt") for k in range(4)], jobs=2)
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(derive.cli, "check_one", _check_in_the_isolation_worker)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        derive.cli.run_tasks([Task(f"f{k}.txt") for k in range(4)], jobs=2)
        assert gc.get_freeze_count() > frozen // 2  # not thawed (frozen objects that die leave the count)
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("collector", ["on", "off"])
def test_main_leaves_the_garbage_collector_as_it_found_it(collector: str) -> None:
    """sympy loads with the collector paused; a caller's choice is restored (a fresh process: sympy is
    imported by main, not before)."""
    code = ("import gc, sys; from derive.cli import main\n"
            f"gc.{'enable' if collector == 'on' else 'disable'}()\n"
            "main(['check', '-'])\n"
            "print('sympy' in sys.modules, gc.isenabled())")
    result = subprocess.run([sys.executable, "-c", code], input="d/dx(x^2) = 2x\n", capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.stdout.splitlines()[-1] == f"True {collector == 'on'}", result.stderr


def test_ctrl_c_while_the_command_line_loads_ends_it_quietly() -> None:
    # A Ctrl-C in the first few milliseconds, while derive.cli and the standard library load, printed a
    # traceback; the console script now catches it as the command does later (exit 130, one line).
    probe = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def interrupted(name, *args, **kwargs):\n"
        "    if name == 'derive.cli':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = interrupted\n"
        "from derive.script import run\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "derive: interrupted\n")


def test_the_console_script_and_python_m_derive_run_the_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "derive", "diff", "x^2", "--wrt", "x"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "result: 2·x" in result.stdout
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "derive"]
    assert script.value == "derive.script:run"


@pytest.mark.parametrize(("expr", "result"), [("-x^2", "-2*x"), ("-\\frac{1}{x}", "x**(-2)"), ("-x", "-1")])
def test_diff_takes_an_expression_that_starts_with_a_minus(expr: str, result: str) -> None:
    # argparse took -x^2 for an option: "the following arguments are required: EXPR"
    code, out, err = run("diff", expr, "--wrt", "x", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["input"] == expr and data["result"]["sympy"] == result


def test_a_file_named_diff_is_still_a_file_to_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "diff").write_text("d/dx x^2 = 2x\n", encoding="utf-8")
    code, out, _ = run("check", "diff", "--jobs", "1")
    assert code == 0 and "1 proved" in out


def test_an_empty_where_is_named_as_the_where_it_is() -> None:
    code, _, err = run("diff", "x", "--wrt", "x", "--where", "y = 1", "--where", "")
    assert code == 2 and err.startswith("<where 2>:1:1:")


def test_an_endless_input_is_refused_once_it_passes_the_bound_not_read_whole() -> None:
    """`yes ... | derive check`, or a device such as /dev/zero: read up to the bound, then an error (it
    was read whole, into memory without end)."""
    process = subprocess.Popen([sys.executable, "-m", "derive", "check"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=USER_ENVIRONMENT)
    assert process.stdin is not None
    line = b"d/dx(x^2) = 2x\n" * 10_000
    with contextlib.suppress(BrokenPipeError):
        for _ in range(400):  # 60 MB, well past the bound; derive stops reading before the end
            process.stdin.write(line)
        process.stdin.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert b"input too large" in err and b"bytes" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs an endless device")
def test_an_endless_file_is_refused_once_it_passes_the_bound() -> None:
    result = derive_process("check", "/dev/zero")
    assert result.returncode == 2 and "too large" in result.stderr
