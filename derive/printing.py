"""sympy -> derive's own plain-text notation, which `derive.parse` reads back to the same expression."""

from __future__ import annotations

import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.str import StrPrinter


class PlainTextPrinter(StrPrinter):
    """sympy's str() with derive's notation: `^`, `e`, `abs`, `d/dx(...)`, `dE/dz`, `f'(u)`."""

    def _print_Exp1(self, expr: sympy.Expr) -> str:
        return "e"

    def _print_Abs(self, expr: sympy.Expr) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sympy.Expr) -> str:
        return f"heaviside({self._print(expr.args[0])})"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        inner = expr.expr
        variables = expr.variable_count
        if len(variables) > 1:  # d/dy(d/dx(f)): one variable at a time, innermost first
            # (sympy merges nested Derivative objects into one, so the nesting exists only as text)
            text = self._print(sympy.Derivative(inner, variables[0], evaluate=False))
            for var, order in variables[1:]:
                text = f"d/d{self._print(var)}({text})" if order == 1 else f"diff({text}, {self._print(var)}, {order})"
            return text
        var, order = variables[0]
        if isinstance(var, sympy.Symbol):
            if isinstance(inner, sympy.Symbol) and order == 1:
                return f"d{inner.name}/d{var.name}"
            # f'(x) for an abstract f, as in calculus texts; d/dx(sin(x)) for a known one, which reads better.
            if isinstance(inner, AppliedUndef) and inner.args == (var,):
                return f"{_function_name(inner)}{chr(39) * order}({var.name})"
            if order == 1:
                return f"d/d{var.name}({self._print(inner)})"
            return f"diff({self._print(inner)}, {var.name}, {order})"
        if isinstance(inner, sympy.Symbol) and order == 1 and isinstance(var, AppliedUndef):
            return f"d{inner.name}/d{self._print(var)}"
        return super()._print_Derivative(expr)

    def _print_Subs(self, expr: sympy.Subs) -> str:
        inner, (var,), (point,) = expr.args
        if (
            isinstance(inner, sympy.Derivative)
            and len(inner.variable_count) == 1
            and inner.variable_count[0][0] == var
            and isinstance(inner.expr, sympy.Function)
            and inner.expr.args == (var,)
        ):
            order = inner.variable_count[0][1]
            return f"{_function_name(inner.expr)}{chr(39) * order}({self._print(point)})"
        return super()._print_Subs(expr)

    def parenthesize(self, item: sympy.Basic, level: int, strict: bool = False) -> str:
        # `d/dx(...)` takes the rest of a product as its operand when read back (d/dx x^2 y), so inside a
        # product or a power it is wrapped: (d/dx(x^2))*y, (d/dx(x^2))^2.
        printed = self._print(item)
        if isinstance(item, sympy.Derivative) and printed.startswith(("d/d", "∂/∂")):
            return f"({printed})"
        return super().parenthesize(item, level, strict)


def _function_name(expr: sympy.Function) -> str:
    return type(expr).__name__


_PRINTER = PlainTextPrinter({"order": None})


def to_text(expr: sympy.Basic) -> str:
    """Plain text that derive.parse reads back to an equal expression (`x^2*sin(x)`, `dE/dz`)."""
    return _PRINTER.doprint(expr).replace("**", "^")
