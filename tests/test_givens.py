"""`given` lines: claims checked where an assumed equation holds (implicit differentiation, related rates).

The table is the specification: each row a given, a claim below it and the verdict. Where the claim is
an implicit derivative, the row also carries it in sympy's terms, and an oracle independent of derive
(sympy.idiff, with y solved explicitly from the given on each branch) confirms that the verdict is right.
"""

from __future__ import annotations

import pytest
import sympy

from derive import DeriveError, ParseError, check

X, Y, T = sympy.symbols("x y t", real=True)

CIRCLE = "given x^2 + y(x)^2 = 1"
FOLIUM = "given x^3 + y(x)^3 = 6 x y(x)"
LADDER = "given x(t)^2 + y(t)^2 = 25"

# (given, claim, verdict, oracle: (F(x, y), order n, the claimed n-th derivative of y) or None)
CASES = [
    # the textbook circle, each line of its derivation, and its classic mistakes
    (CIRCLE, "d/dx(x^2 + y(x)^2) = d/dx(1)", "proved", None),
    (CIRCLE, "2x + 2y(x) dy/dx = 0", "proved", None),
    (CIRCLE, "2x + 2y(x) = 0", "refuted", None),  # the forgotten dy/dx
    (CIRCLE, "dy/dx = -x/y(x)", "proved", (X**2 + Y**2 - 1, 1, -X / Y)),
    (CIRCLE, "dy/dx = x/y(x)", "refuted", (X**2 + Y**2 - 1, 1, X / Y)),  # the lost sign
    (CIRCLE, "dy/dx = -y(x)/x", "refuted", (X**2 + Y**2 - 1, 1, -Y / X)),  # upside down
    (CIRCLE, "dy/dx = -x/sqrt(1 - x^2)", "refuted", (X**2 + Y**2 - 1, 1, -X / sympy.sqrt(1 - X**2))),  # one branch
    (CIRCLE, "d^2y/dx^2 = -1/y(x)^3", "proved", (X**2 + Y**2 - 1, 2, -1 / Y**3)),
    (CIRCLE, "d^2y/dx^2 = -(x^2 + y(x)^2)/y(x)^3", "proved", (X**2 + Y**2 - 1, 2, -(X**2 + Y**2) / Y**3)),
    (CIRCLE, "d^2y/dx^2 = -1/y(x)^2", "refuted", (X**2 + Y**2 - 1, 2, -1 / Y**2)),
    (CIRCLE, "y(x)^2 = 1 - x^2", "proved", None),  # the given itself, solved for y^2
    (CIRCLE, "y(x) = sqrt(1 - x^2)", "refuted", None),  # a claim, not a definition: false for y < 0
    (CIRCLE, "d/dx(x y(x)) = y(x) + x dy/dx", "proved", None),  # an identity stays one
    # the folium of Descartes
    (FOLIUM, "dy/dx = (2y(x) - x^2)/(y(x)^2 - 2x)", "proved",
     (X**3 + Y**3 - 6 * X * Y, 1, (2 * Y - X**2) / (Y**2 - 2 * X))),
    (FOLIUM, "dy/dx = (2y(x) + x^2)/(y(x)^2 - 2x)", "refuted",
     (X**3 + Y**3 - 6 * X * Y, 1, (2 * Y + X**2) / (Y**2 - 2 * X))),
    # transcendental givens: y solved by Newton's method at each point
    ("given x y(x) + sin(y(x)) = 1", "dy/dx = -y(x)/(x + cos(y(x)))", "proved",
     (X * Y + sympy.sin(Y) - 1, 1, -Y / (X + sympy.cos(Y)))),
    ("given x y(x) + sin(y(x)) = 1", "dy/dx = y(x)/(x + cos(y(x)))", "refuted",
     (X * Y + sympy.sin(Y) - 1, 1, Y / (X + sympy.cos(Y)))),
    ("given exp(y(x)) = x", "dy/dx = 1/x", "confirmed", (sympy.exp(Y) - X, 1, 1 / X)),  # needs y = log(x)
    ("given exp(y(x)) = x", "dy/dx = x", "refuted", (sympy.exp(Y) - X, 1, X)),
    # related rates: both move, tied by the given
    (LADDER, "2x(t) dx/dt + 2y(t) dy/dt = 0", "proved", None),
    (LADDER, "dy/dt = -x(t)/y(t) dx/dt", "proved", None),
    (LADDER, "dy/dt = x(t)/y(t) dx/dt", "refuted", None),
    (LADDER, "dy/dt = -x(t)/y(t)", "refuted", None),  # dx/dt dropped
    # a differential equation as the given
    ("given dy/dx = y(x)", "d^2y/dx^2 = y(x)", "proved", None),
    ("given dy/dx = y(x)", "d^2y/dx^2 = 2y(x)", "refuted", None),
    ("given dy/dx = x y(x)", "d^2y/dx^2 = (1 + x^2) y(x)", "proved", None),
    # LaTeX, as pasted
    (r"\text{given } x^2 + y(x)^2 = 1", r"\frac{dy}{dx} = -\frac{x}{y(x)}", "proved", None),
    (r"\text{Given } x^2 + y(x)^2 = 1", r"2x + 2y(x)\frac{dy}{dx} = 0", "proved", None),
]


@pytest.mark.parametrize(("given", "claim", "verdict", "oracle"), CASES)
def test_a_claim_below_a_given_is_checked_where_the_given_holds(given, claim, verdict, oracle):
    (step,) = check(f"{given}\n{claim}").steps
    assert step.verdict == verdict, (step.note, step.counterexample)


@pytest.mark.parametrize(("given", "claim", "verdict", "oracle"), [c for c in CASES if c[3] is not None])
def test_the_table_agrees_with_sympy_idiff_on_every_branch(given, claim, verdict, oracle):
    """The oracle: sympy's implicit derivative against the claim at points of each explicit branch."""
    f, n, claimed = oracle
    difference = sympy.idiff(f, Y, X, n) - claimed
    holds = True
    for x0 in (sympy.Rational(1, 3), sympy.Rational(2, 5), sympy.Rational(3, 4)):
        if not f.is_polynomial(Y):  # no closed form: y by nsolve
            values = [sympy.nsolve(f.subs(X, x0), Y, 0, prec=40)]
        else:
            roots = sympy.Poly(f.subs(X, x0), Y).nroots(n=40)
            values = [sympy.re(r) for r in roots if abs(sympy.im(r)) < 1e-30]
        assert values, "the oracle found no point of the given"
        for y0 in values:
            at = difference.subs({X: x0, Y: y0}).evalf(40)
            holds = holds and at.is_real is True and abs(at) < 1e-25
    assert holds == (verdict in ("proved", "confirmed"))


def test_a_refutation_is_a_point_on_the_given_with_the_function_as_its_taylor_polynomial():
    (step,) = check(f"{CIRCLE}\ndy/dx = x/y(x)").steps
    point = step.counterexample
    x0 = sympy.Rational(point["x"])
    taylor = sympy.sympify(point["y"])  # the contract's form of a function: Lambda(t, ...)
    y0, slope = taylor(x0), sympy.diff(taylor(T), T).subs(T, x0)
    assert abs(x0**2 + y0**2 - 1) < 1e-12  # on the circle
    assert abs(slope + x0 / y0) < 1e-12  # with the circle's slope there
    assert abs(float(step.lhs_value) - slope) < 1e-12 and abs(float(step.rhs_value) - x0 / y0) < 1e-12
    assert str(step.expected) == "-x/y(x)"  # what dy/dx is on the given


def test_a_point_off_the_given_refutes_nothing_the_lines_claim_on_it():
    # as an identity, 2x + 2y y' = 0 fails at any point where y' is arbitrary; on the circle it holds
    report = check(f"{CIRCLE}\n2x + 2y(x) dy/dx = 0")
    assert report.ok and "not an identity" in report.steps[0].note


def test_without_a_given_the_same_lines_are_identities_and_fail():
    report = check("x^2 + y(x)^2 = 1\n2x + 2y(x) dy/dx = 0\ndy/dx = -x/y(x)")
    assert [s.verdict for s in report.steps] == ["refuted", "refuted", "refuted"]


def test_a_later_given_on_the_same_function_replaces_the_earlier_one():
    text = f"{CIRCLE}\ndy/dx = -x/y(x)\ngiven x y(x) = 1\ndy/dx = -y(x)/x\ndy/dx = -x/y(x)"
    assert [s.verdict for s in check(text).steps] == ["proved", "proved", "refuted"]


def test_let_still_defines_a_function_a_given_ties():
    report = check(f"{CIRCLE}\nlet y(x) = sqrt(1 - x^2)\ndy/dx = -x/sqrt(1 - x^2)")
    assert report.ok and len(report.definitions) == 1


def test_givens_and_definitions_together():
    report = check("r = 5\ngiven x(t)^2 + y(t)^2 = r^2\ndy/dt = -x(t)/y(t) dx/dt\ny(t)^2 = 25 - x(t)^2")
    assert [s.verdict for s in report.steps] == ["proved", "proved"]


@pytest.mark.parametrize(("text", "message", "line"), [
    ("given x^2 + y^2 = 1\ndy/dx = -x/y", "write the function that depends on the variable as y(x)", 1),
    ("given x^2 + y(x)^2 = 1 = 2", "after 'given', write one equation", 1),
    ("given x^2 + y(x)^2\n", "after 'given', write one equation", 1),
    ("given x^2 + y(x)^2 = 1\n= 1 - 0", "the line above is a given", 2),
])
def test_a_given_that_cannot_be_used_is_an_error_at_its_line(text, message, line):
    with pytest.raises(DeriveError) as caught:
        check(text)
    assert message in str(caught.value)
    assert caught.value.line == line
    if isinstance(caught.value, ParseError):
        assert caught.value.column is not None


def test_a_claim_about_a_function_the_given_does_not_tie_is_unknown_not_refuted():
    (step,) = check(f"{CIRCLE}\ndy/dx = f(x)").steps
    assert step.verdict == "unknown" and "f is not in it" in step.note


def test_a_given_row_of_an_align_block_as_pasted_from_a_paper():
    text = "\n".join([
        r"\begin{align*}",
        r"\text{given } x^2 + y(x)^2 &= 1 \\",
        r"2x + 2y(x)\frac{dy}{dx} &= 0 \\",
        r"\frac{dy}{dx} &= \frac{x}{y(x)}",
        r"\end{align*}",
    ])
    report = check(text)
    assert [(s.line, s.verdict) for s in report.steps] == [(3, "proved"), (4, "refuted")]
    assert [g.line for g in report.givens] == [2]


def test_the_site_shows_a_given_as_a_line_of_its_own():
    from derive.mkdocs_ext import render_report

    source = f"{CIRCLE}\ndy/dx = -x/y(x)"
    html = render_report(check(source), source)
    assert html.index('derive-rule">given') < html.index('data-verdict="proved"')



@pytest.mark.parametrize(("text", "verdict"), [
    # a tiny constant is a difference on the given too (confirmed, at large values, to 30 digits)
    ("given x^2 + y(x)^2 = r^2\ny(x)^2 = r^2 - x^2 + 1/10^25", "refuted"),
    ("given dz/dt = t z(t)\nd^3z/dt^3 = (3t + t^3) z(t) + 1/10^25", "refuted"),
    (f"{CIRCLE}\ndy/dx = -x/y(x) + 1/10^25", "refuted"),
    # two more branches exist only for 0 < x < 1/1000: tried between where branches meet
    ("given 1000 x = (y(x)^2 - 1)^2\ny(x)^2 = 1 + sqrt(1000 x)", "refuted"),
    ("given 1000 x = (y(x)^2 - 1)^2\n(y(x)^2 - 1)^2 = 1000 x", "proved"),
    # real only for x > 0: the points where it is not are left out (it was an internal error)
    ("given exp(y(x)) = x\ndy/dx = 1/x", "confirmed"),
    ("given sin(y(x)) = x\ndy/dx = 1/cos(y(x))", "proved"),
    # a wrong derivative refuted at a point where the given determines y (not at x = 1, y = 0, a triple root)
    ("given sin(x y(x)) = y(x)\ndy/dx = y(x) cos(x y(x))/(1 + x cos(x y(x)))", "refuted"),
    ("given sin(x y(x)) = y(x)\ndy/dx = y(x) cos(x y(x))/(1 - x cos(x y(x)))", "proved"),
])
def test_claims_on_givens_that_were_decided_wrongly(text, verdict):
    (step,) = check(text).steps
    assert step.verdict == verdict, (step.note, step.counterexample)


def test_the_counterexample_of_a_given_is_a_point_where_it_determines_y():
    (step,) = check("given sin(x y(x)) = y(x)\ndy/dx = y(x) cos(x y(x))/(1 + x cos(x y(x)))").steps
    x0 = sympy.Rational(step.counterexample["x"])
    y0 = sympy.sympify(step.counterexample["y"])(x0)
    assert abs(sympy.sin(x0 * y0) - y0) < 1e-12 and abs(x0 * sympy.cos(x0 * y0) - 1) > 1e-3


@pytest.mark.parametrize("text", [
    # a ladder's given and its area's: two givens on functions they share, taken together
    "given x(t)^2 + y(t)^2 = 100\ngiven A(t) = x(t) y(t)/2\ndA/dt = (y(t) - x(t)^2/y(t)) dx/dt/2",
    "given x(t)^2 + y(t)^2 = 100\ngiven x(t) y(t)/2 = A(t)\ndA/dt = (y(t) - x(t)^2/y(t)) dx/dt/2",
    "given y(x) = sin(x)\ngiven u(x) = y(x)^2\ndu/dx = 2 sin(x) cos(x)",
])
def test_givens_on_shared_functions_are_taken_together(text):
    report = check(text)
    assert report.ok, [(s.verdict, s.note) for s in report.steps]


def test_a_bare_name_after_a_given_that_writes_it_as_a_function_is_an_error():
    with pytest.raises(DeriveError, match="y is a function of the given above"):
        check(f"{CIRCLE}\ny = sqrt(1 - x^2)")


def test_a_claim_about_a_given_function_in_terms_of_itself_is_a_claim():
    (step,) = check("given y(x)^2 = x\ny(x) = x/y(x)").steps  # was "y is defined in terms of itself"
    assert step.verdict == "proved"


@pytest.mark.parametrize(("text", "verdicts"), [
    # both sides 10^-4343 and of opposite signs: not equal (agreement was judged against 1)
    ("given y(x)^3 = x^2 + 10^4\nexp(-y(x)^3) = -exp(-y(x)^3)", ["refuted"]),
    ("given y(x)^2 = x^2 + 10^4\nd/dx(exp(-y(x)^2)) = 2 x exp(-y(x)^2)", ["refuted"]),
    ("given y(x)^2 = x^2 + 10^4\nd/dx(exp(-y(x)^2)) = -2 x exp(-y(x)^2)", ["proved"]),
    # 87 digits cancel at x = -100: the comparison takes more digits, not the rounding for a difference
    ("given dy/dx = y(x)\ny(x) cosh(x)^2 - dy/dx sinh(x)^2 = y(x)", ["confirmed"]),
    ("given exp(y(x)) = x\n(x^20 + y(x))^2 - x^40 - 2 x^20 y(x) = log(x)^2", ["confirmed"]),
    # slopes of 10^-15 everywhere: the given still determines y
    ("given exp(y(x))/10^15 = x/10^15\ndy/dx = 1/x", ["confirmed"]),
    # a definition below a given reaches it, as it reaches the claims
    ("given x^2 + y(x)^2 = r^2\nr = 5\ny(x)^2 = r^2 - x^2", ["proved"]),
    # a function the ladder ties, written outright below it, is assumed, not defined anew
    ("given x(t)^2 + y(t)^2 = 25\ngiven x(t) = 2t\ndy/dt = -4t/y(t)\ndy/dt = -x(t)/y(t) dx/dt", ["proved", "proved"]),
    # written outright, a given holds wherever its function is applied
    ("given sin(x) = y(x)\ny(0) = 0\ny(pi/2) = 1", ["proved", "proved"]),
    ("given x(t) y(t)/2 = A(t)\nA(2) = x(2) y(2)/2", ["proved"]),
    # a rate: dx/dt = 2 with the ladder, the worksheet's shape
    ("given x(t)^2 + y(t)^2 = 100\ngiven dx/dt = 2\ndy/dt = -2 x(t)/y(t)\ndy/dt = 2 x(t)/y(t)", ["proved", "refuted"]),
    # a given that holds its function on both sides is assumed, not a definition of itself
    ("given y(x) = x + y(x)^3/10\ndy/dx = 1/(1 - 3 y(x)^2/10)", ["proved"]),
    ("given y(x) = x + sin(y(x))\ndy/dx = 1/(1 - cos(y(x)))", ["proved"]),
    # the next problem of a sheet: a given on all the functions of an earlier one replaces it
    (f"{CIRCLE}\ndy/dx = -x/y(x)\n{LADDER}\ndy/dt = -x(t)/y(t) dx/dt\ndy/dt = x(t)/y(t) dx/dt",
     ["proved", "proved", "refuted"]),
])
def test_givens_after_the_second_review(text, verdicts):
    assert [s.verdict for s in check(text).steps] == verdicts


def test_a_claim_is_not_confirmed_while_branches_are_left_out():
    factors = "".join(f"(y(x) - x - {k})" for k in range(1, 11))
    (step,) = check(f"given {factors} = 0\n{factors[: factors.index('(y(x) - x - 9)')]} = 0").steps
    assert step.verdict not in ("proved", "confirmed")



@pytest.mark.parametrize("text", [
    # the branches that exist only for 0 < x < 10^-6, with a rate, a parameter, or an irrational coefficient
    "given 10^6 x(t) = (y(t)^2 - 1)^2\ndy/dt = 250 dx/dt/(y(t) sqrt(x(t)))",
    "given 10^6 a x = (y(x)^2 - 1)^2\ny(x)^2 = 1 + 1000 sqrt(a x)",
    "given sqrt(2) 10^6 x = (y(x)^2 - 1)^2\ny(x)^2 = 1 + 1000 sqrt(sqrt(2) x)",
])
def test_short_branches_are_found_whatever_else_the_given_holds(text):
    (step,) = check(text).steps
    assert step.verdict == "refuted", step.note



@pytest.mark.parametrize(("text", "verdicts"), [
    # the top slides down at 1 ft/s: the rate is on y, so x is the function solved for
    ("given x(t)^2 + y(t)^2 = 100\ngiven dy/dt = -1\ndx/dt = y(t)/x(t)", ["proved"]),
    ("given x(t)^2 + y(t)^2 = z(t)^2\ngiven dz/dt = 5\ngiven dy/dt = 4\ndx/dt = (5z(t) - 4y(t))/x(t)", ["proved"]),
    # a rate given before the ladder stays (the ladder replaced it)
    ("given x'(t) = 2\ngiven x(t)^2 + y(t)^2 = 100\ndy/dt = -2 x(t)/y(t)", ["proved"]),
    # a rate in terms of another: put in with what is known of it
    ("given x(t)^2 + y(t)^2 = z(t)^2\ngiven dx/dt = 2\ngiven dy/dt = dx/dt\ndz/dt = 2(x(t) + y(t))/z(t)\ndy/dt = 2",
     ["proved", "proved"]),
    # sides of 10^260 that differ by 1 everywhere
    ("given (y(x) - 6)^2 + x^2 = 1\nexp(100 y(x)) = exp(100 y(x)) + 1", ["refuted"]),
    # the branch named outright: the circle has nothing left to tie
    (f"{CIRCLE}\ngiven y(x) = sqrt(1 - x^2)\ndy/dx = -x/y(x)\ndy/dx = x/y(x)", ["proved", "refuted"]),
])
def test_givens_after_the_fourth_review(text, verdicts):
    assert [s.verdict for s in check(text).steps] == verdicts


def test_a_counterexample_satisfies_the_rates_given():
    (step,) = check("given x(t)^2 + y(t)^2 = 100\ngiven dx/dt = 2\nd^2y/dt^2 = -(4 + 2(dy/dt)^2)/(2y(t))").steps
    assert step.verdict == "refuted"
    x, y = (sympy.sympify(step.counterexample[name]) for name in ("x", "y"))
    t0 = sympy.Rational(step.counterexample["t"])
    assert abs(sympy.diff(x(T), T).subs(T, t0) - 2) < 1e-12  # the rate (x was a constant there)
    assert abs(x(t0) ** 2 + y(t0) ** 2 - 100) < 1e-9  # a point of the ladder
    slope = sympy.diff(y(T), T).subs(T, t0)
    assert abs(x(t0) * 2 + y(t0) * slope) < 1e-9  # and of its derivative



@pytest.mark.parametrize("text", [
    # wrong by x where every term is e^100 (it agreed to 30 digits): rounding is the intervals', not a share
    f"{CIRCLE}\nexp(100(x^2 + y(x)^2)) dy/dx = -x y(x) exp(100(x^2 + y(x)^2))/(1 - x^2) + x",
    f"{CIRCLE}\ndy/dx = -x*y(x)/(1-x^2) + x*pi^(-100)",  # pi^-100: as many digits as it needs
])
def test_claims_off_by_little_beside_large_or_long_terms_are_refuted(text):
    (step,) = check(text).steps
    assert step.verdict == "refuted"


@pytest.mark.parametrize(("text", "verdicts"), [
    # the rate first, then the function: V'(t) = 100 becomes 4 pi r^2 r' = 100 (it was dropped, and refuted)
    ("given V'(t) = 100\ngiven V(t) = 4/3 pi r(t)^3\ndr/dt = 25/(pi r(t)^2)", ["proved"]),
    ("given V'(t) = 10\ngiven V(t) = pi/12 h(t)^3\ndV/dt = pi/4 h(t)^2 dh/dt\ndh/dt = 40/(pi h(t)^2)",
     ["proved", "proved"]),
    # x(t) = 6 beside dx/dt = 2 contradict each other: unknown, not a false answer proved
    ("given x(t)^2 + y(t)^2 = 100\ngiven dx/dt = 2\ngiven x(t) = 6\ndy/dt = -3/2\ndy/dt = 0", ["unknown", "unknown"]),
    # the next problem of a sheet takes the last one's rates away with its curve
    ("given x(t)^2 + y(t)^2 = 100\ngiven dx/dt = 2\ndy/dt = -2 x(t)/y(t)\n"
     "given x(t)^2 + y(t)^2 = 25\ngiven dy/dt = -1\ndx/dt = y(t)/x(t)\ndx/dt = 2", ["proved", "proved", "refuted"]),
])
def test_givens_after_the_seventh_review(text, verdicts):
    assert [s.verdict for s in check(text).steps] == verdicts
