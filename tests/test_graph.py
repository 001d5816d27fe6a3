"""derive.graph: the computational graph as SVG, one node per named quantity, one labelled edge per use."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sympy

import derive
from derive.functions import sigmoid, to_elementary
from derive.graph import build_graph, display_name, graph_svg, label_text, layout

SVG = "{http://www.w3.org/2000/svg}"
a, b1, b2, o, t, w1, w2, x, y, z, h, u, E = sympy.symbols("a b1 b2 o t w1 w2 x y z h u E")
act = sympy.Symbol("a")  # the two-layer network's activation is also called a

# (expression, variable, definitions, {name: its definition as sympy, names as symbols}, output name)
SEED = ("1/2*(a - y)^2", "z", ["y = sigmoid(z)"], {"E": (a - y) ** 2 / 2, "y": sigmoid(z)}, "E")
SEED_COS = ("1/2*(a - y)^2", "z", ["y = cos(z)"], {"E": (a - y) ** 2 / 2, "y": sympy.cos(z)}, "E")
NETWORK = (
    "E",
    "w1",
    ["h = w1*x + b1", "a = sigmoid(h)", "o = w2*a + b2", "E = 1/2*(o - t)^2"],
    {"h": w1 * x + b1, "a": sigmoid(h), "o": w2 * act + b2, "E": (o - t) ** 2 / 2},
    "E",
)
TWO_PATHS = ("f", "x", ["u = x^2", "f = u*x"], {"u": x**2, "f": u * x}, "f")
CASES = [SEED, SEED_COS, NETWORK, TWO_PATHS]
IDS = ["seed_sigmoid", "seed_cos", "two_layer_network", "two_paths"]


def _svg(case: tuple) -> ET.Element:
    expr, wrt, where, _bodies, _top = case
    return ET.fromstring(graph_svg(expr, wrt, where))  # well-formed XML, or this raises


def _groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if kind in g.get("class", "").split()]


def _expected_edges(bodies: dict[str, sympy.Expr]) -> set[tuple[str, str]]:
    return {(s.name, name) for name, body in bodies.items() for s in body.free_symbols}


def _leaf(expr: sympy.Expr, bodies: dict[str, sympy.Expr]) -> sympy.Expr:
    """Every name replaced by its definition, recursively, then elementary functions only."""
    for _ in range(len(bodies) + 1):
        expr = expr.xreplace({sympy.Symbol(n): body for n, body in bodies.items()})
    return to_elementary(expr)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_svg_has_one_node_per_intermediate_and_leaf(case: tuple) -> None:
    bodies = case[3]
    names = set(bodies) | {s.name for body in bodies.values() for s in body.free_symbols}
    nodes = [g.get("data-name") for g in _groups(_svg(case), "node")]
    assert sorted(nodes) == sorted(names)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_svg_has_one_labelled_edge_per_dependency(case: tuple) -> None:
    edges = _groups(_svg(case), "edge")
    assert sorted((g.get("data-source"), g.get("data-target")) for g in edges) == sorted(_expected_edges(case[3]))
    for edge in edges:
        assert edge.find(f"{SVG}path") is not None
        label = edge.find(f"{SVG}text")
        assert label is not None and label.text and label.text.strip()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_edge_label_is_the_local_derivative(case: tuple) -> None:
    bodies = case[3]
    for edge in _groups(_svg(case), "edge"):
        source, target = edge.get("data-source"), edge.get("data-target")
        label = derive.parse(edge.get("data-derivative"))
        # oracle: sympy's derivative of the definition, the other names held fixed
        expected = sympy.diff(to_elementary(bodies[target]), sympy.Symbol(source))
        difference = _leaf(label, bodies) - _leaf(expected, bodies)
        assert sympy.simplify(difference) == 0, (source, target, label)


@pytest.mark.parametrize(
    ("case", "labels"),
    [
        (SEED, {("y", "E"): "−(a − y)", ("a", "E"): "a − y", ("z", "y"): "y·(1 − y)"}),
        (SEED_COS, {("y", "E"): "−(a − y)", ("z", "y"): "−sin(z)"}),
        (NETWORK, {("w1", "h"): "x", ("x", "h"): "w₁", ("h", "a"): "a·(1 − a)", ("o", "E"): "o − t"}),
    ],
    ids=["seed_sigmoid", "seed_cos", "two_layer_network"],
)
def test_labels_read_as_in_a_textbook(case: tuple, labels: dict[tuple[str, str], str]) -> None:
    edges = _groups(_svg(case), "edge")
    shown = {(g.get("data-source"), g.get("data-target")): g.find(f"{SVG}text").text for g in edges}
    for key, text in labels.items():
        assert shown[key] == text


@pytest.mark.parametrize(
    ("case", "on_path"),
    [
        (SEED, {("z", "y"), ("y", "E")}),
        (NETWORK, {("w1", "h"), ("h", "a"), ("a", "o"), ("o", "E")}),
        (TWO_PATHS, {("x", "u"), ("u", "f"), ("x", "f")}),
    ],
    ids=["seed_sigmoid", "two_layer_network", "two_paths"],
)
def test_the_paths_from_the_variable_to_the_output_are_highlighted(case: tuple, on_path: set) -> None:
    highlighted = {(g.get("data-source"), g.get("data-target")) for g in _groups(_svg(case), "path")}
    assert highlighted == on_path
    variable = [g.get("data-name") for g in _groups(_svg(case), "wrt")]
    assert variable == [case[1]]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_layout_flows_left_to_right_without_overlaps(case: tuple) -> None:
    graph = build_graph(*case[:3])
    boxes = layout(graph)
    for edge in graph.edges:
        assert boxes[edge.source].x < boxes[edge.target].x
    placed = list(boxes.values())
    for i, first in enumerate(placed):
        for second in placed[i + 1 :]:
            apart_x = abs(first.x - second.x) >= (first.width + second.width) / 2
            apart_y = abs(first.y - second.y) >= 34
            assert apart_x or apart_y


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_picture_fits_its_view_box(case: tuple) -> None:
    root = _svg(case)
    _x, _y, width, height = (float(v) for v in root.get("viewBox").split())
    for rect in root.iter(f"{SVG}rect"):
        left, top = float(rect.get("x")), float(rect.get("y"))
        assert left >= 0 and left + float(rect.get("width")) <= width
        assert top >= 0 and top + float(rect.get("height")) <= height


def test_the_output_is_the_rightmost_node() -> None:
    graph = build_graph(*NETWORK[:3])
    boxes = layout(graph)
    assert max(boxes, key=lambda name: boxes[name].x) == "E"
    assert [n.kind for n in graph.nodes if n.name == "E"] == ["output"]
    assert {n.name for n in graph.nodes if n.kind == "input"} == {"t", "w1", "w2", "b1", "b2", "x"}


def test_an_unnamed_expression_gets_a_name_of_its_own() -> None:
    graph = build_graph("sin(u)", "x", ["u = x^2"])
    assert graph.output == "E"
    assert {(e.source, e.target) for e in graph.edges} == {("u", "E"), ("x", "u")}


@pytest.mark.parametrize(
    ("name", "shown"),
    [("E", "E"), ("w1", "w₁"), ("h_2", "h₂"), ("alpha", "α"), ("delta2", "δ₂"), ("sigma", "σ"), ("xy", "xy")],
    ids=["letter", "digit_index", "underscore_index", "greek", "greek_with_index", "sigma", "two_letters"],
)
def test_names_are_shown_with_greek_letters_and_subscripts(name: str, shown: str) -> None:
    assert display_name(name) == shown


def test_labels_use_a_centre_dot_and_minus_signs() -> None:
    assert label_text(y * (1 - y)) == "y·(1 − y)"
    assert label_text(-w1 * x) == "−w₁·x"


@pytest.mark.parametrize(
    ("expr", "wrt", "where"),
    [("1/2*(a - y", "z", ["y = sigmoid(z)"]), ("x^2", "2", []), ("f", "x", ["f = g", "g = f"])],
    ids=["unbalanced_parenthesis", "number_as_variable", "cyclic_definitions"],
)
def test_bad_input_is_a_derive_error(expr: str, wrt: str, where: list[str]) -> None:
    with pytest.raises(derive.DeriveError):
        graph_svg(expr, wrt, where)
