"""The computational graph of a derivation with definitions, drawn as SVG: one node per named quantity.

Nodes are the expression (the output), the named intermediates and the leaf variables; an edge runs
from each quantity to every definition that uses it, labelled with its local derivative (the other
names held fixed): with E = 1/2*(a - y)^2 and y = sigmoid(z), E <- y is labelled -(a - y) and
y <- z is labelled y(1 - y). Backpropagation multiplies these labels along the paths from the
variable to the output. Each label is checked against sympy's own derivative before it is drawn.
The layout is a small layered one (inputs on the left, the output on the right), computed here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy
from sympy.core.parameters import distribute

from derive.bounded import BoundExceeded, run_bounded
from derive.definitions import Definition, Definitions, canonical, fold, substitute
from derive.errors import DeriveError
from derive.functions import to_elementary
from derive.leibniz import reachable, top_name
from derive.printing import to_text
from derive.rewrite import derivative_value, names_used, read_expression, read_variable, read_where
from derive.symbols import GREEK_LETTERS, symbol
from derive.sympy_derivative import sympy_diff
from derive.verify import verify_equal

__all__ = ["Edge", "Graph", "Node", "build_graph", "display_name", "graph_svg", "label_text", "layout", "to_svg"]

LABEL_TIMEOUT = 5.0  # seconds to verify one edge label

# Drawing constants (pixels).
NODE_HEIGHT = 34
ROW_GAP = 30  # between the nodes of one column
MIN_COLUMN_GAP = 70
NAME_CHAR = 10.0  # estimated width of one character of a node name (16 px italic serif)
LABEL_CHAR = 7.6  # estimated width of one character of an edge label (13 px sans-serif)
MARGIN = 16
SWEEPS = 4  # barycentre sweeps that order the nodes of each column

# The plain letter for each spelled-out name: σ, not the final form ς; ε, not the symbol ϵ.
_GREEK = {
    spelled: letter
    for letter, spelled in GREEK_LETTERS.items()
    if re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER [A-Z]+", unicodedata.name(letter, ""))
}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAME_WITH_INDEX = re.compile(r"^(?P<base>[^\W\d_]+?)_?(?P<index>\d+)$|^(?P<head>[^\W\d_]+)_(?P<tail>\w+)$")


@dataclass(frozen=True)
class Node:
    """A named quantity: the output (the expression), an intermediate (a definition) or an input (a leaf)."""

    name: str
    kind: str  # "output", "intermediate" or "input"
    definition: str | None = None  # the definition's body as text, for intermediates and the output


@dataclass(frozen=True)
class Edge:
    """`target` uses `source`; `derivative` is d(target)/d(source) with every other name held fixed."""

    source: str
    target: str
    derivative: sympy.Expr
    on_path: bool  # the variable of the derivation reaches the output through this edge


@dataclass(frozen=True)
class Graph:
    """The nodes (inputs first, the output last) and the labelled edges, for d(output)/d(wrt)."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    output: str
    wrt: str


def build_graph(
    expr: str | sympy.Basic, wrt: str | sympy.Symbol, where: Iterable[str] | Mapping[Any, Any] = ()
) -> Graph:
    """The graph of `expr` under the definitions `where`, as `derive.differentiate` reads them."""
    _text, expression = read_expression(expr)
    defs, _texts = read_where(where)
    var = read_variable(wrt, expression, *(d.expr for d in defs), defined=defs.names)
    top, defs = top_name(expression, defs, var)
    used = reachable({top}, defs)
    bodies = {d.name: canonical(d.expr, defs) for d in defs if d.name in used}
    folding = Definitions(Definition(name, (), body) for name, body in bodies.items())
    taken = set(bodies) | names_used(*bodies.values())

    def as_symbol(name: str) -> sympy.Symbol:
        return var if name == var.name else symbol(name)

    def uses(name: str) -> list[str]:
        """The names in `name`'s definition, intermediates first (in definition order), then leaves."""
        free = {s.name for s in bodies[name].free_symbols}
        defined = [n for n in bodies if n in free and n != name]
        leaves = sorted(free - set(bodies))
        return defined + leaves

    reaches: dict[str, bool] = {}

    def depends(name: str) -> bool:
        if name == var.name:
            return True
        if name not in bodies:
            return False
        if name not in reaches:
            reaches[name] = any(depends(child) for child in uses(name))
        return reaches[name]

    labels: list[tuple[str, str, sympy.Expr]] = []
    # As derive's own steps write them: -(a - y), not -a + y. All the labels first, then all their
    # checks: each switch of sympy's evaluation empties its cache (see `rewrite.checking`).
    with distribute(False):
        for name in bodies:
            for child in uses(name):
                value, _rule = derivative_value(bodies[name], as_symbol(child), taken)
                labels.append((name, child, fold(value, folding, as_symbol)))
    edges = []
    for name, child, value in labels:
        _verify_label(bodies[name], as_symbol(child), value, folding, name, child)
        edges.append(Edge(child, name, value, on_path=depends(child)))
    leaves = sorted({e.source for e in edges} - set(bodies))
    nodes = [Node(leaf, "input") for leaf in leaves]
    nodes += [Node(n, "intermediate", to_text(b)) for n, b in reversed(bodies.items()) if n != top]
    nodes.append(Node(top, "output", to_text(bodies[top])))
    return Graph(tuple(nodes), tuple(edges), top, var.name)


def _verify_label(body: sympy.Expr, var: sympy.Symbol, value: sympy.Expr, folding: Definitions,
                  name: str, child: str) -> None:
    """A label is drawn only when it equals sympy's derivative of the elementary body (in the leaves)."""

    def sides() -> tuple[sympy.Expr, sympy.Expr]:
        truth = sympy_diff(to_elementary(body), var)
        return (to_elementary(substitute(truth, folding, keep=[var.name])),
                to_elementary(substitute(value, folding, keep=[var.name])))

    try:
        left, right = run_bounded(sides, seconds=LABEL_TIMEOUT)
    except BoundExceeded:
        raise DeriveError(f"time limit reached while checking d{name}/d{child}") from None
    verification = verify_equal(left, right, timeout=LABEL_TIMEOUT)
    if not verification.ok:
        raise DeriveError(f"the local derivative d{name}/d{child} = {to_text(value)} is {verification.verdict.value}")


# --- layout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A node's place: centre and size."""

    x: float
    y: float
    width: float


def display_name(name: str) -> str:
    """How a name reads in the picture: Greek letters as letters, indices as subscripts (w1 -> w₁)."""
    found = _NAME_WITH_INDEX.match(name)
    if found and found.group("base"):
        return _GREEK.get(found.group("base"), found.group("base")) + found.group("index").translate(_SUBSCRIPTS)
    if found and found.group("tail").isdigit():
        return _GREEK.get(found.group("head"), found.group("head")) + found.group("tail").translate(_SUBSCRIPTS)
    return _GREEK.get(name, name)


def label_text(expr: sympy.Expr) -> str:
    """An edge label: derive's plain notation with · for products and the names as the nodes show them."""
    names = {s.name for s in expr.free_symbols}
    text = to_text(expr).replace("*", "·").replace("sigmoid", "σ").replace(" - ", " − ")
    text = re.sub(r"(^|[(\s])-", "\\1−", text)  # a minus sign, not a hyphen
    return re.sub(r"[^\W\d]\w*", lambda m: display_name(m.group()) if m.group() in names else m.group(), text)


def _columns(graph: Graph) -> dict[str, int]:
    """Column of each node: the output rightmost, every node left of all the nodes that use it."""
    users: dict[str, list[str]] = {}
    for edge in graph.edges:
        users.setdefault(edge.source, []).append(edge.target)
    depth: dict[str, int] = {}

    def distance(name: str) -> int:  # longest path to the output (definitions are acyclic)
        if name not in depth:
            depth[name] = 0 if name == graph.output else 1 + max(distance(u) for u in users.get(name, []))
        return depth[name]

    deepest = max(distance(node.name) for node in graph.nodes)
    return {node.name: deepest - distance(node.name) for node in graph.nodes}


def layout(graph: Graph) -> dict[str, Box]:
    """Layered layout: columns by longest path, order within a column by barycentre sweeps."""
    column = _columns(graph)
    count = max(column.values()) + 1
    order: list[list[str]] = [[] for _ in range(count)]
    for node in graph.nodes:
        order[column[node.name]].append(node.name)
    neighbours: dict[str, list[str]] = {node.name: [] for node in graph.nodes}
    for edge in graph.edges:
        neighbours[edge.source].append(edge.target)
        neighbours[edge.target].append(edge.source)

    def rows() -> dict[str, float]:
        return {name: i - (len(names) - 1) / 2 for names in order for i, name in enumerate(names)}

    for sweep in range(SWEEPS):
        sequence = range(count - 2, -1, -1) if sweep % 2 == 0 else range(1, count)
        for c in sequence:
            place = rows()
            side = c + 1 if sweep % 2 == 0 else c - 1

            def centre(name: str, place: dict[str, float] = place, side: int = side) -> float:
                near = [place[n] for n in neighbours[name] if column[n] == side]
                return sum(near) / len(near) if near else place[name]

            order[c].sort(key=centre)

    widths = {node.name: max(NODE_HEIGHT + 10, NAME_CHAR * len(display_name(node.name)) + 26) for node in graph.nodes}
    column_width = [max(widths[n] for n in names) for names in order]
    gaps = [MIN_COLUMN_GAP] * count
    for edge in graph.edges:
        c = column[edge.source]
        span = column[edge.target] - c
        needed = LABEL_CHAR * len(label_text(edge.derivative)) + 36
        gaps[c] = max(gaps[c], needed / span)
    x = [0.0] * count
    for c in range(1, count):
        x[c] = x[c - 1] + column_width[c - 1] / 2 + gaps[c - 1] + column_width[c] / 2
    tallest = max(len(names) for names in order)
    place = rows()
    step = NODE_HEIGHT + ROW_GAP
    boxes = {}
    for node in graph.nodes:
        c = column[node.name]
        boxes[node.name] = Box(
            x=x[c] + column_width[0] / 2 + MARGIN,
            y=(place[node.name] + (tallest - 1) / 2) * step + NODE_HEIGHT / 2 + MARGIN,
            width=widths[node.name],
        )
    return boxes


# --- SVG -------------------------------------------------------------------------------------------

_STYLE = (
    ".node rect{stroke:#455a64;stroke-width:1.2}"
    ".input rect{fill:#eceff1}.intermediate rect{fill:#e3f2fd}.output rect{fill:#e8f5e9;stroke-width:2}"
    ".wrt rect{stroke:#e65100;stroke-width:2.4}"
    ".node text{font:italic 16px 'Times New Roman',serif;fill:#212121;text-anchor:middle;dominant-baseline:central}"
    ".edge path{fill:none;stroke:#90a4ae;stroke-width:1.4}.edge.path path{stroke:#e65100;stroke-width:2}"
    ".edge rect{fill:#fff;stroke:#cfd8dc;stroke-width:1}.edge.path rect{stroke:#ffcc80}"
    ".edge text{font:13px sans-serif;fill:#263238;text-anchor:middle;dominant-baseline:central}"
)


def to_svg(graph: Graph) -> str:
    """The graph as a standalone SVG element (no scripts, no external files)."""
    boxes = layout(graph)
    right = max(b.x + b.width / 2 for b in boxes.values()) + MARGIN
    bottom = max(b.y + NODE_HEIGHT / 2 for b in boxes.values()) + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="derive-graph" viewBox="0 0 {right:.0f} {bottom:.0f}" '
        f'width="{right:.0f}" height="{bottom:.0f}" role="img" style="max-width:100%;height:auto">',
        f"<title>{html.escape(_summary(graph))}</title>",
        f"<style>{_STYLE}</style>",
        '<defs><marker id="derive-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#78909c"/></marker></defs>',
    ]
    for edge in graph.edges:
        parts.append(_edge_svg(edge, boxes[edge.source], boxes[edge.target]))
    for node in graph.nodes:
        parts.append(_node_svg(node, boxes[node.name], node.name == graph.wrt))
    parts.append("</svg>")
    return "".join(parts)


def _summary(graph: Graph) -> str:
    labels = "; ".join(f"d{e.target}/d{e.source} = {to_text(e.derivative)}" for e in graph.edges)
    return f"Computational graph of {graph.output} (variable {graph.wrt}): {labels}"


def _edge_svg(edge: Edge, source: Box, target: Box) -> str:
    x0, y0 = source.x + source.width / 2, source.y
    x1, y1 = target.x - target.width / 2 - 2, target.y
    bend = max((x1 - x0) / 2, 20)
    path = f"M{x0:.1f},{y0:.1f}C{x0 + bend:.1f},{y0:.1f} {x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
    text = html.escape(to_text(edge.derivative))
    kind = "edge path" if edge.on_path else "edge"
    label = label_text(edge.derivative)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    width = LABEL_CHAR * len(label) + 10
    return (
        f'<g class="{kind}" data-source="{html.escape(edge.source)}" data-target="{html.escape(edge.target)}" '
        f'data-derivative="{text}"><title>d{html.escape(edge.target)}/d{html.escape(edge.source)} = {text}</title>'
        f'<path d="{path}" marker-end="url(#derive-arrow)"/>'
        f'<rect x="{mx - width / 2:.1f}" y="{my - 10:.1f}" width="{width:.1f}" height="20" rx="4"/>'
        f'<text x="{mx:.1f}" y="{my:.1f}">{html.escape(label)}</text></g>'
    )


def _node_svg(node: Node, box: Box, is_wrt: bool) -> str:
    kind = f"node {node.kind}" + (" wrt" if is_wrt else "")
    tip = f"{node.name} = {node.definition}" if node.definition else f"{node.name} (input)"
    return (
        f'<g class="{kind}" data-name="{html.escape(node.name)}"><title>{html.escape(tip)}</title>'
        f'<rect x="{box.x - box.width / 2:.1f}" y="{box.y - NODE_HEIGHT / 2:.1f}" width="{box.width:.1f}" '
        f'height="{NODE_HEIGHT}" rx="{NODE_HEIGHT / 2 if node.kind == "input" else 6}"/>'
        f'<text x="{box.x:.1f}" y="{box.y:.1f}">{html.escape(display_name(node.name))}</text></g>'
    )


def graph_svg(
    expr: str | sympy.Basic, wrt: str | sympy.Symbol, where: Iterable[str] | Mapping[Any, Any] = ()
) -> str:
    """The computational graph of d(expr)/d(wrt) with the definitions `where`, as an SVG string."""
    return to_svg(build_graph(expr, wrt, where))

