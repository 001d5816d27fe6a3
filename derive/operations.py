"""sympy's `count_ops`, counted in numbers: how `tidy` compares the length of candidate forms.

`count_ops(expr, visual=True)` walks the expression and builds a sympy sum of symbols (ADD, MUL,
NEG, SIN, ...), which `tidy` then evaluated twice with different weights; building and substituting
that sum was two thirds of the count. The walk here is sympy's own, step for step (sympy 1.14,
`sympy.core.function.count_ops`), with a counter in place of the symbolic sum.
"""

from __future__ import annotations

from collections import Counter

import sympy
from sympy import S
from sympy.core.function import UndefinedFunction, _coeff_isneg
from sympy.core.operations import LatticeOp
from sympy.simplify.radsimp import fraction

_COUNTED = (sympy.Derivative, sympy.Integral, sympy.Sum)


def operations(expr: sympy.Expr) -> Counter[str]:
    """How many operations of each kind `count_ops(expr, visual=True)` shows, by the names it gives them."""
    ops: Counter[str] = Counter()
    todo = [expr]
    while todo:
        a = todo.pop()
        if a.is_Rational:
            if a is not S.One:  # -1/3 = NEG + DIV
                if a.p < 0:
                    ops["NEG"] += 1
                if a.q != 1:
                    ops["DIV"] += 1
                continue
        elif a.is_Mul or a.is_MatMul:
            if _coeff_isneg(a):
                ops["NEG"] += 1
                a = a.as_two_terms()[1] if a.args[0] is S.NegativeOne else -a
            n, d = fraction(a)
            if n.is_Integer:
                ops["DIV"] += 1
                if n < 0:
                    ops["NEG"] += 1
                todo.append(d)
                continue
            if d is not S.One:
                if not d.is_Integer:
                    todo.append(d)
                ops["DIV"] += 1
                todo.append(n)
                continue
        elif a.is_Add or a.is_MatAdd:
            terms = list(a.args)
            negative = 0
            for i, term in enumerate(terms):
                if _coeff_isneg(term):
                    negative += 1
                    todo.append(-term)
                    if i > 0:
                        ops["SUB"] += 1
                else:
                    todo.append(term)
                    if i > 0:
                        ops["ADD"] += 1
            if negative == len(terms):  # -x - y = NEG + SUB
                ops["NEG"] += 1
            elif _coeff_isneg(terms[0]):  # -x + y = SUB, already counted as ADD
                ops["SUB"] += 1
                ops["ADD"] -= 1
            continue
        if a.is_Pow and a.exp is S.NegativeOne:
            ops["DIV"] += 1
            todo.append(a.base)
            continue
        if a == S.Exp1:
            ops["EXP"] += 1
            continue
        if a.is_Pow and a.base == S.Exp1:
            ops["EXP"] += 1
            todo.append(a.exp)
            continue
        if a.is_Mul or isinstance(a, LatticeOp):
            ops[a.func.__name__.upper()] += len(a.args) - 1
        elif a.args and (a.is_Pow or a.is_Function or isinstance(a, _COUNTED)):
            prefix = "FUNC_" if isinstance(a.func, UndefinedFunction) else ""
            ops[prefix + a.func.__name__.upper()] += 1
        if not a.is_Symbol:
            todo.extend(a.args)
    return ops
