"""Checking a line in the smaller model of its derivatives: proofs there are proofs, failures decide nothing."""

from __future__ import annotations

import itertools
import sys

import pytest
import sympy
from sympy.core.function import AppliedUndef

from derive.check import check, check_step, holds_locally, real, real_definitions
from derive.definitions import Definition, Definitions
from derive.functions import sigmoid
from derive.symbols import function, symbol

checking = sys.modules["derive.check"]  # `derive.check` is the function of that name
D = sympy.Derivative
x, t, a, z, y, E = (symbol(n) for n in ("x", "t", "a", "z", "y", "E"))
h = [symbol(f"h{i}") for i in range(6)]
w = [symbol(f"w{i}") for i in range(6)]


def network(layers: int) -> Definitions:
    items = [Definition(f"h{i}", (), sigmoid(w[i] * (h[i - 1] if i > 1 else x))) for i in range(1, layers + 1)]
    return Definitions([*items, Definition("E", (), (t - h[layers]) ** 2 / 2)])


def deep_derivation(layers: int, wrong_layer: int | None = None) -> str:
    """A hand-written backprop through `layers` sigmoid layers, one line per factor."""
    lines = ["h1 = sigmoid(w1*x)"]
    lines += [f"h{i} = sigmoid(w{i}*h{i - 1})" for i in range(2, layers + 1)]
    lines += [f"E = 1/2*(t - h{layers})^2", f"dE/dh{layers} = -(t - h{layers})"]
    for i in range(layers, 1, -1):
        sign = "-" if i == wrong_layer else ""
        lines.append(f"dh{i}/dh{i - 1} = {sign}w{i}*h{i}*(1 - h{i})")
        lines.append(f"dE/dh{i - 1} = dE/dh{i} * dh{i}/dh{i - 1}")
    lines.append("dE/dw1 = dE/dh1 * x*h1*(1 - h1)")
    return "\n".join(lines) + "\n"


# (id, claim, true?)
CLAIMS = [
    ("chain", (D(E, h[2]), D(E, h[3]) * D(h[3], h[2])), True),
    ("chain with the local factor written out", (D(E, h[2]), D(E, h[3]) * w[3] * h[3] * (1 - h[3])), True),
    ("local factor", (D(h[3], h[2]), w[3] * h[3] * (1 - h[3])), True),
    ("top factor", (D(E, h[4]), -(t - h[4])), True),
    ("first layer", (D(E, w[1]), D(E, h[1]) * x * h[1] * (1 - h[1])), True),
    ("flipped sign", (D(h[3], h[2]), -w[3] * h[3] * (1 - h[3])), False),
    ("sigma' = sigma(1 + sigma)", (D(h[3], h[2]), w[3] * h[3] * (1 + h[3])), False),
    ("a skipped layer", (D(E, h[2]), D(E, h[3])), False),
    ("a missing local factor", (D(E, h[2]), D(E, h[3]) * D(h[3], h[1])), False),
]


@pytest.mark.parametrize(("claim", "true"), [c[1:] for c in CLAIMS], ids=[c[0] for c in CLAIMS])
def test_a_backprop_line_holds_locally_exactly_when_it_is_true(claim, true):
    definitions = real_definitions(network(4))
    assert holds_locally(real(claim[0]), real(claim[1]), definitions) is true


def test_identities_equal_up_to_their_names_are_one_key():
    identity = checking._Identity
    assert identity(D(h[3], h[2]) * h[3], w[3] * h[2]) == identity(D(h[4], h[3]) * h[4], w[4] * h[3])
    assert identity(D(h[3], h[2]) * h[3], w[3] * h[2]) != identity(D(h[4], h[3]) * h[4], w[4] * h[4])
    # the assumptions are kept, and which sides share a symbol
    assert identity(symbol("q"), sympy.Symbol("q", real=True)) != identity(symbol("q"), symbol("q"))
    assert identity(x + t, x * t) != identity(x + t, x * a)
    # a function by its name as well (the verifier makes every f of one name one real f), and what sympy
    # compares beyond the arguments (an IndexedBase's assumptions)
    f_plain, f_real, g_plain = sympy.Function("f"), sympy.Function("f", real=True), sympy.Function("g")
    right = 2 * f_real(x) * D(f_real(x), x)
    assert identity(D(f_plain(x) ** 2, x), right) != identity(D(g_plain(x) ** 2, x), right)
    i = sympy.Symbol("i", integer=True)
    root = lambda base: (sympy.sqrt(sympy.Pow(base[i], 2, evaluate=False), evaluate=False), base[i])  # noqa: E731
    plain, positive = sympy.IndexedBase(symbol("A")), sympy.IndexedBase(symbol("A"), positive=True)
    assert identity(*root(plain)) != identity(*root(positive))
    # a sum's terms are a multiset: its own term met at another place of the sum, the same identity
    total = w[1] * h[1] + w[2] * h[2] + w[3] * h[3]
    assert identity(w[1] * h[1], total) == identity(w[3] * h[3], total) != identity(w[3] * h[2], total)


def test_a_deep_derivation_is_proved_line_by_line_without_reading_any_line_in_full(monkeypatch):
    def in_full(*args: object) -> None:
        raise AssertionError("a correct line was read in full")

    monkeypatch.setattr(checking, "_meanings", in_full)
    report = check(deep_derivation(5))
    assert report.ok and all(s.verdict.value == "proved" for s in report.steps)


def test_a_wrong_line_in_a_deep_derivation_is_refuted_with_its_evidence():
    report = check(deep_derivation(5, wrong_layer=3))
    assert not report.ok
    wrong = report.first_error
    assert wrong.verdict.value == "refuted" and wrong.counterexample
    assert str(wrong.lhs) == "Derivative(h3, h2)"


def test_the_seed_written_with_y_of_z_holds_locally():
    definitions = real_definitions(Definitions([
        Definition("E", (), (a - y) ** 2 / 2), Definition("y", (z,), sigmoid(z)),
    ]))
    Y = function("y")
    assert holds_locally(real(D(E, z)), real(D(E, Y(z)) * D(Y(z), z)), definitions)


# A chain line dE/dw = dE/dh * dh/dw is tried with each body an abstract function of what the claim's
# derivatives move: the bias b and the input x of h = sigmoid(w x + b) are parameters, fixed in every
# derivative of the claim, so the line is the same identity as the seed's dE/dz = dE/dy * dy/dz.
b1 = symbol("b1")
BIASED = Definitions([Definition("h1", (), sigmoid(w[1] * x + b1)), Definition("E", (), (t - h[1]) ** 2 / 2)])
BIASED_CLAIMS = [
    ("chain by the weight", (D(E, w[1]), D(E, h[1]) * D(h[1], w[1])), True),
    ("chain by the input", (D(E, x), D(E, h[1]) * D(h[1], x)), True),
    ("chain by the weight, through the bias", (D(E, w[1]), D(E, h[1]) * D(h[1], b1)), False),
    ("chain, doubled", (D(E, w[1]), 2 * D(E, h[1]) * D(h[1], w[1])), False),
    ("chain, without the local factor", (D(E, w[1]), D(E, h[1])), False),
]


@pytest.mark.parametrize(("claim", "true"), [c[1:] for c in BIASED_CLAIMS], ids=[c[0] for c in BIASED_CLAIMS])
def test_a_chain_line_through_a_layer_with_parameters_holds_locally_exactly_when_it_is_true(claim, true):
    assert holds_locally(real(claim[0]), real(claim[1]), real_definitions(BIASED)) is true


def test_a_layers_chain_line_generalises_to_the_seeds_identity():
    def general(claim: tuple[sympy.Expr, sympy.Expr], defs: Definitions) -> object:
        return checking._generalised(checking.local_model(real(claim[0]), real(claim[1]), real_definitions(defs)))

    seed = Definitions([Definition("y", (), sigmoid(z)), Definition("E", (), (a - y) ** 2 / 2)])
    layer = general((D(E, w[1]), D(E, h[1]) * D(h[1], w[1])), BIASED)
    assert layer is not None
    # one shape: decided once for every layer, whatever its activation
    assert checking.Shaped(layer) == checking.Shaped(general((D(E, z), D(E, y) * D(y, z)), seed))
    assert checking.Shaped(layer) != checking.Shaped(general((D(E, z), 2 * D(E, y) * D(y, z)), seed))


# A softmax's path sum dE/ds = sum_k dE/dp_k dp_k/ds, with E cut down to Φ(p1, p2, p3): each p_k =
# e^(z_k)/s moves only with s (z_k is fixed in every derivative of the claim), so p_k = G_k(s).
s_sum = symbol("s")
zs = [symbol(f"z{k}") for k in (1, 2, 3)]
ys = [symbol(f"y{k}") for k in (1, 2, 3)]
ps = [symbol(f"p{k}") for k in (1, 2, 3)]
SOFTMAX = Definitions([
    Definition("s", (), sum(sympy.exp(zk) for zk in zs)),
    *(Definition(f"p{k}", (), sympy.exp(zs[k - 1]) / s_sum) for k in (1, 2, 3)),
    Definition("E", (), -sum(yk * sympy.log(pk) for yk, pk in zip(ys, ps, strict=True))),
])
PATHS = [D(E, pk) * D(pk, s_sum) for pk in ps]
SOFTMAX_CLAIMS = [
    ("the path sum", (D(E, s_sum), sympy.Add(*PATHS)), True),
    ("the path sum through z1", (D(E, zs[0]), ps[0] * D(E, ps[0]) + D(E, s_sum) * D(s_sum, zs[0])), True),
    ("a path missing", (D(E, s_sum), PATHS[0] + PATHS[1]), False),
    ("a path twice", (D(E, s_sum), sympy.Add(*PATHS) + PATHS[2]), False),
    ("a path by the wrong name", (D(E, s_sum), PATHS[0] + PATHS[1] + D(E, ps[2]) * D(ps[1], s_sum)), False),
    ("the path sum through z1, s's path twice", (D(E, zs[0]), ps[0] * D(E, ps[0]) + 2 * D(E, s_sum) * D(s_sum, zs[0])),
     False),
    ("the path sum through z1 without p1's", (D(E, zs[0]), D(E, s_sum) * D(s_sum, zs[0])), False),
    # true only for s's own body (ds/dz1 = e^z1): not for every function of z1, so read as it is
    ("the path sum through z1, plus ds/dz1 - e^z1",
     (D(E, zs[0]), ps[0] * D(E, ps[0]) + D(E, s_sum) * D(s_sum, zs[0]) + D(s_sum, zs[0]) - sympy.exp(zs[0])), True),
]


@pytest.mark.parametrize(("claim", "true"), [c[1:] for c in SOFTMAX_CLAIMS], ids=[c[0] for c in SOFTMAX_CLAIMS])
def test_a_softmax_path_sum_holds_locally_exactly_when_it_is_true(claim, true):
    assert holds_locally(real(claim[0]), real(claim[1]), real_definitions(SOFTMAX)) is true


def test_a_softmax_path_sum_is_proved_for_every_function_of_s():
    model = checking.local_model(real(D(E, s_sum)), real(sympy.Add(*PATHS)), real_definitions(SOFTMAX))
    general = checking._generalised(model)
    assert general is not None and checking._model_holds(general)
    # Φ(p1, p2, p3) with p_k = G_k(s): three functions of one argument, the same one
    assert sorted(len(d.expr.args) for d in general.definitions) == [1, 1, 1, 3]
    assert len({d.expr.args for d in general.definitions if len(d.expr.args) == 1}) == 1


def test_the_path_sum_through_z1_is_proved_for_every_function_of_z1_in_place_of_s():
    claim = (D(E, zs[0]), ps[0] * D(E, ps[0]) + D(E, s_sum) * D(s_sum, zs[0]))
    model = checking.local_model(real(claim[0]), real(claim[1]), real_definitions(SOFTMAX))
    assert checking._generalised(model) is None  # p1 stands on the right as itself
    partly = checking._partly_generalised(model)
    assert partly is not None and checking._model_holds(partly)
    # s = G(z1), its derivative named on the right; p1 = e^z1/s and E = Φ(p1, s) as they were
    changed = [(old.expr, new.expr) for old, new in zip(model.definitions, partly.definitions, strict=True)
               if old.expr != new.expr]
    assert len(changed) == 1
    body, general = changed[0]
    assert body.func == sympy.Add and len(body.args) == 3 and all(t.func == sympy.exp for t in body.args)
    assert len(general.args) == 1 and general.args[0].is_Symbol


def _concrete(model: object) -> dict[str, sympy.Lambda]:
    """A transcendental function of its own for each stand-in of the model, by name (its partials differ)."""
    made = {}
    for k, f in enumerate(sorted(model.cuts, key=str)):
        arity = next(len(e.args) for d in model.definitions for e in d.expr.atoms(f))
        v = sympy.symbols(f"v1:{arity + 1}", real=True)
        made[f.__name__] = sympy.Lambda(v, sympy.sin(sum((i + 2 + k) * vi for i, vi in enumerate(v)) / 5)
                                        + sympy.exp(v[0] / (3 + k)) * sympy.prod(v))
    return made


def _value(e: sympy.Expr, concrete: dict[str, sympy.Lambda]) -> sympy.Float:
    """`e` with the stand-ins concrete: a jet (jets._partial) as the partial of its function at its
    arguments, a derivative at a point by sympy's own doit; at a point of the variables, 30 digits."""
    def jet(app: sympy.Basic) -> sympy.Expr:
        function, slots = type(app).jet
        body = concrete[function.__name__]
        partial = sympy.diff(body.expr, *(body.variables[k - 1] for k in slots)) if slots else body.expr
        return partial.xreplace(
            dict(zip(body.variables, app.args, strict=True)))

    e = e.replace(lambda a: hasattr(type(a), "jet"), jet)
    e = e.replace(lambda a: type(a).__name__ in concrete, lambda a: concrete[type(a).__name__](*a.args)).doit()
    point = {s: sympy.Rational(3 + k, 10) for k, s in enumerate(sorted(e.free_symbols, key=str))}
    return sympy.N(e.xreplace(point), 30)


@pytest.mark.parametrize(("claim", "true"), [c[1:] for c in SOFTMAX_CLAIMS], ids=[c[0] for c in SOFTMAX_CLAIMS])
def test_a_model_read_with_its_stand_ins_as_jets_has_the_value_of_their_derivatives_at_points(claim, true):
    model = checking.local_model(real(claim[0]), real(claim[1]), real_definitions(SOFTMAX))
    for variant in (model, checking._generalised(model), checking._partly_generalised(model)):
        if variant is None or not variant.cuts:
            continue
        jets = checking._in_jets(variant)
        assert all(hasattr(type(app), "jet") for d in jets.definitions for app in d.expr.atoms(AppliedUndef))
        concrete = _concrete(variant)
        for at_points, in_jets in zip(variant.meanings(), jets.meanings(), strict=True):
            assert not in_jets.has(sympy.Subs, sympy.Derivative)
            assert abs(_value(at_points, concrete) - _value(in_jets, concrete)) < 1e-20


# Wrong lines a smaller model once proved, each with a true line on the same definitions. The truth of
# each was computed by hand from the contract's meaning (values at the points in the comments).
TWO_LAYERS = "z1 = w1*x\nh1 = sigmoid(z1)\nz2 = w2*h1\nh2 = sigmoid(z2)\nE = (h2 - t)^2/2\n"
ABSTRACT = "z = w*x\ny = g(z)\nE = L(y)\n"
SOFTMAX3 = ("s = exp(z1) + exp(z2) + exp(z3)\np1 = exp(z1)/s\np2 = exp(z2)/s\np3 = exp(z3)/s\n"
            "E = -(y1*log(p1) + y2*log(p2) + y3*log(p3))\n")
INNER_DERIVATIVE = "s = z1*z2\nq = d/dz2(s)\n"  # q = z1, though q's body mentions only s and z2
MODEL_LINES = [
    # an abstract layer above a name: every path factor reads 0 when the point of L'(g(z)) is lost
    ("an extra local factor", TWO_LAYERS, "dE/dh1 = dE/dh2*dh2/dh1*dh1/dz1", "refuted"),
    ("a name differentiated by itself", TWO_LAYERS, "dE/dz1 = dE/dz1*dz1/dw1", "refuted"),
    ("the two-layer chain", TWO_LAYERS, "dE/dh1 = dE/dh2*dh2/dh1", "proved"),
    ("an abstract loss of an abstract layer is not constant", ABSTRACT, "dE/dz = 0", "refuted"),  # L'(g(z)) g'(z)
    ("its chain rule", ABSTRACT, "dE/dz = dE/dy*dy/dz", "proved"),
    ("a softmax path counted twice", SOFTMAX3, "dE/dz1 = p1*dE/dp1 + dE/ds*ds/dz1 + dE/dp2*dp2/ds*ds/dz1",
     "refuted"),
    ("a derivative inside a definition", INNER_DERIVATIVE + "E = q*s + s\n", "dE/dz1 = ds/dz1", "refuted"),  # 3 vs 1
    ("through a name that is a derivative", INNER_DERIVATIVE + "E = q^2\n", "dE/dz1 = dE/dq*dq/ds*ds/dz1",
     "refuted"),  # 2 z1 vs 0
    ("its true value", INNER_DERIVATIVE + "E = q^2\n", "dE/dz1 = 2*z1", "proved"),
]


@pytest.mark.parametrize(("definitions", "line", "verdict"), [c[1:] for c in MODEL_LINES],
                         ids=[c[0] for c in MODEL_LINES])
def test_a_line_gets_its_true_verdict_whatever_model_it_is_tried_in(definitions, line, verdict):
    report = check(definitions + line + "\n")
    assert [s.verdict.value for s in report.steps] == [verdict]


def _models() -> list[object]:
    """Local models of many lines: the layers of a network, the classes of a softmax, and near misses."""
    claims = [(D(E, h[i]), D(E, h[i + 1]) * D(h[i + 1], h[i])) for i in range(1, 4)]
    claims += [(D(h[i + 1], h[i]), w[i + 1] * h[i + 1] * (1 - h[i + 1])) for i in range(1, 4)]
    claims += [(D(h[i + 1], h[i]), w[i + 1] * h[i + 1] * (1 + h[i + 1])) for i in range(1, 4)]
    claims += [(D(E, w[1]), D(E, h[1]) * D(h[1], w[1])), (D(E, h[4]), h[4] - t), (D(E, h[4]), t - h[4])]
    models = [checking.local_model(real(left), real(right), real_definitions(network(4))) for left, right in claims]
    softmax = [c[1] for c in SOFTMAX_CLAIMS] + [(D(E, pk), -yk / pk) for pk, yk in zip(ps, ys, strict=True)]
    softmax += [(D(pk, s_sum), -sympy.exp(zk) / s_sum**2) for pk, zk in zip(ps, zs, strict=True)]
    models += [checking.local_model(real(left), real(right), real_definitions(SOFTMAX)) for left, right in softmax]
    return [m for m in models if m is not None]


def _mapped(model, names, functions):
    """`model` with its symbols and abstract functions replaced as `names` and `functions` say."""

    def put(e):
        e = e.xreplace(names)
        return e.replace(lambda a: isinstance(a, AppliedUndef) and type(a) in functions,
                         lambda a: functions[type(a)](*a.args))

    definitions = {put(sympy.Symbol(d.name, real=True)): (tuple(put(p) for p in d.params), put(d.expr))
                   for d in model.definitions}
    return put(model.left), put(model.right), definitions, {functions.get(f, f) for f in model.cuts}


def test_models_of_one_shape_are_one_model_in_other_names() -> None:
    models = _models()
    shapes = [checking.Shaped(m) for m in models]
    for i, j in itertools.combinations(range(len(models)), 2):
        if shapes[i] == shapes[j]:
            # the names of one place in each model's key, one to one, make the first model the second
            _, names_i, functions_i = checking._shape_of(models[i])
            _, names_j, functions_j = checking._shape_of(models[j])
            mapped = _mapped(models[i], dict(zip(names_i, names_j, strict=True)),
                             dict(zip(functions_i, functions_j, strict=True)))
            assert mapped == _mapped(models[j], {}, {}), (i, j)
            # and names to names, one to one: a model's meaning finds a definition by its name
            by_name: dict[str, str] = {}
            for one, other in zip(names_i, names_j, strict=True):
                assert by_name.setdefault(one.name, other.name) == other.name
            assert len(set(by_name.values())) == len(by_name)
    # each layer's chain line is one shape, so is its local derivative; the near misses are others
    assert shapes[0] == shapes[1] == shapes[2] and shapes[3] == shapes[4] == shapes[5]
    assert shapes[6] == shapes[7] == shapes[8] and shapes[6] != shapes[3] and shapes[10] != shapes[11]
    # the classes of a softmax: dE/dp_k (its term at another place of E's sum for every k), dp_k/ds
    classes = len(SOFTMAX_CLAIMS)
    assert shapes[12 + classes] == shapes[13 + classes] == shapes[14 + classes]
    assert shapes[15 + classes] == shapes[16 + classes] == shapes[17 + classes]
    assert shapes[12 + classes] != shapes[15 + classes]


@pytest.mark.parametrize("made", [lambda name: sympy.Symbol(name, positive=True), sympy.Dummy],
                         ids=["positive", "dummy"])
def test_a_symbol_named_as_a_definition_is_that_definition_and_another_name_is_not(made) -> None:
    """In a model's meaning a positive (or dummy) y is the defined y, found by its name; a q is not. The two
    claims are alike in every other way, and the first one's proof must not decide the second."""
    x_, y_, e_ = sympy.symbols("x y E")
    defs = Definitions([Definition("y", (), x_**3), Definition("E", (), y_**2)])  # dE/dx = 6 x^5
    proved = check_step(D(e_, x_), 6 * made("y") * x_**2, defs)
    refuted = check_step(D(e_, x_), 6 * made("q") * x_**2, defs)
    assert (proved.verdict.value, refuted.verdict.value) == ("proved", "refuted")
