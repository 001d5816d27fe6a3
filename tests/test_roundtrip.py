"""Round trips: random expressions printed by `sympy.latex` or `derive.printing.to_text` parse back equal."""

from __future__ import annotations

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import parse
from derive.functions import relu, sigmoid, softplus
from derive.printing import to_text
from derive.symbols import function, symbol

# Names for LaTeX: one letter (juxtaposed letters multiply there), a subscript, or a Greek letter.
# Left out on purpose: `e` (Euler's number), `d` (the d of dx), `i` (sympy prints I as i), `sigma`
# (`\sigma \left(x\right)`, sympy's product σ·x, is read as the sigmoid σ(x), what people mean by it).
LATEX_NAMES = ("x", "y", "z", "a", "b", "w", "w_1", "x_2", "alpha", "theta", "lambda_1")
# Plain text has multi-letter names as well; function names and `e`, `pi` are not names there.
PLAIN_NAMES = (*LATEX_NAMES, "rate", "h_2", "w1", "delta", "xy")
FUNCTIONS = ("f", "g")
# sin cos exp log sqrt tanh sigmoid, and what else sympy prints in its own way: \operatorname{asin},
# \left|{x}\right|, \operatorname{softplus}\left(x\right).
UNARY = (sympy.sin, sympy.cos, sympy.exp, sympy.log, sympy.sqrt, sympy.tanh, sigmoid, sympy.Abs, sympy.asin,
         sympy.atan, sympy.cosh, softplus, relu)

SMALL_RATIONALS = st.builds(
    sympy.Rational, st.integers(min_value=-4, max_value=4), st.integers(min_value=1, max_value=4)
)
SMALL_EXPONENTS = st.integers(min_value=-3, max_value=3).map(sympy.Integer)


def _apply_unary(function_and_arg: tuple) -> sympy.Expr:
    fn, arg = function_and_arg
    if fn in (sympy.log, sympy.sqrt) and arg.is_number:
        # log and sqrt of a negative number are complex (sympy prints I as i); keep the argument symbolic.
        arg = arg + symbol("x")
    try:
        return fn(arg)
    except (ValueError, TypeError):  # relu(asin(pi)): sympy refuses a complex number there; take a variable
        return fn(arg + symbol("x"))


def _apply_abstract(name_and_args: tuple) -> sympy.Expr:
    name, args = name_and_args
    return function(name)(*args)


def expressions(names: tuple[str, ...]) -> st.SearchStrategy[sympy.Expr]:
    """Random expression trees: + - * / and small integer powers over symbols, small rationals, pi, e, the
    functions in UNARY, and abstract functions f(u), g(u, v)."""
    leaves = st.one_of(st.sampled_from(names).map(symbol), SMALL_RATIONALS, st.sampled_from([sympy.pi, sympy.E]))

    def extend(children: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
        return st.one_of(
            st.builds(sympy.Add, children, children),
            st.builds(lambda p, q: p - q, children, children),
            st.builds(sympy.Mul, children, children),
            st.builds(lambda p, q: p / q, children, children.filter(lambda q: q != 0)),
            st.builds(sympy.Pow, children.filter(lambda b: b != 0), SMALL_EXPONENTS),
            st.tuples(st.sampled_from(UNARY), children).map(_apply_unary),
            st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, min_size=1, max_size=2)).map(_apply_abstract),
        )

    return st.recursive(leaves, extend, max_leaves=8).filter(_is_real_and_finite)


def _is_real_and_finite(expr: sympy.Expr) -> bool:
    """Keep what derive's notation writes: no I, no infinities, no nan (log(0), 1/0 under sympy), no real
    or imaginary part (sympy's |e^x| for a complex x is e^re(x); derive reads |e^x| as e^x)."""
    return not expr.has(sympy.I, sympy.zoo, sympy.oo, sympy.nan, -sympy.oo, sympy.re, sympy.im)


def same(parsed: sympy.Expr, expr: sympy.Expr) -> bool:
    """Equal as trees, or after expanding both: sympy's automatic evaluation depends on the order in which
    a tree is built (2*(x + y) distributes at once, (2/x)*(x + y) does not), so reading the printed text
    may legitimately group a numeric factor differently. Expanding is deterministic and exact. So is
    evaluating what a tree holds unevaluated: ||x|| built in pieces stays Abs(Abs(x)), and reads as |x|."""
    return (parsed == expr or sympy.expand(parsed) == sympy.expand(expr)
            or sympy.expand(parsed.doit()) == sympy.expand(expr.doit()))


ROUND_TRIP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(expressions(LATEX_NAMES))
def test_what_sympy_latex_prints_parses_back_to_the_same_expression(expr: sympy.Expr) -> None:
    printed = sympy.latex(expr)
    assert same(parse(printed, latex=True), expr), printed


@ROUND_TRIP
@given(expressions(PLAIN_NAMES))
def test_what_to_text_prints_parses_back_to_the_same_expression(expr: sympy.Expr) -> None:
    printed = to_text(expr)
    assert same(parse(printed, latex=False), expr), printed


# derive's own LaTeX (what `--format latex`, reports and the docs print) reads back with every name plain
# text has: multi-letter names (`net`, `rate`), word subscripts (`y_pred`), accents, and the step functions.
DERIVE_LATEX_NAMES = (*PLAIN_NAMES, "net", "out", "y_pred", "x_max", "net1", "yhat", "xbar", "ell", "alphahat",
                      "sigma", "omicron", "pi1", "pi_a", "x_1_2", "w_xhat", "w_alpha")
DERIVE_LATEX_FUNCTIONS = (*FUNCTIONS, "loss", "act")
DERIVE_LATEX_UNARY = (*UNARY, sympy.Heaviside, sympy.sign)


def derive_latex_expressions() -> st.SearchStrategy[sympy.Expr]:
    leaves = st.one_of(st.sampled_from(DERIVE_LATEX_NAMES).map(symbol), SMALL_RATIONALS, st.just(sympy.pi))

    def extend(children: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
        return st.one_of(
            st.builds(sympy.Add, children, children),
            st.builds(sympy.Mul, children, children),
            st.builds(sympy.Pow, children.filter(lambda b: b != 0), SMALL_EXPONENTS),
            st.tuples(st.sampled_from(DERIVE_LATEX_UNARY), children).map(_apply_unary),
            st.tuples(st.sampled_from(DERIVE_LATEX_FUNCTIONS), st.lists(children, min_size=1, max_size=2))
            .map(_apply_abstract),
        )

    return st.recursive(leaves, extend, max_leaves=8).filter(_is_real_and_finite)


@ROUND_TRIP
@given(derive_latex_expressions())
def test_what_derive_s_latex_prints_parses_back_to_the_same_expression(expr: sympy.Expr) -> None:
    from derive.printing import to_latex

    printed = to_latex(expr)
    assert same(parse(printed, latex=True), expr), printed
