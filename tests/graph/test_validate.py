"""TrustGraph invariants: every problem raises one GraphError that names it, counts it and
shows a few offending ids, whether it comes in through ``from_edges``, the constructor or
``validate()`` on a graph whose arrays were changed after construction."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import laotie
from laotie import GraphError, TrustGraph
from laotie.graph._core import CITY, FOLLOW, LOCAL


def match(*parts: str) -> str:
    """A regex matching the literal ``parts`` in this order, anything in between."""
    return ".*".join(re.escape(p) for p in parts)


# Four residents in two regions: 0 and 1 in "north", 2 and 3 in "south". Node 2 is a local
# creator; node 3 is not a registered user.
NODES: dict[str, Any] = {
    "region": [0, 0, 1, 1],
    "user": [True, True, True, False],
    "creator_kind": [0, 0, 2, 0],
    "region_names": ("north", "south"),
}


@pytest.fixture
def build():
    """``build(src, dst, trust, layer, **node_overrides)``: a 4-node graph via from_edges."""

    def build(src, dst, trust, layer, **overrides):
        attrs = {**NODES, **overrides}
        return TrustGraph.from_edges(4, src, dst, trust, layer, **attrs)

    return build


@pytest.fixture
def csr():
    """``csr(indptr, indices, trust, layer, **overrides)``: a 3-node graph via the constructor."""

    def csr(indptr, indices, trust, layer, **overrides):
        attrs = {
            "region": np.zeros(3, np.int16),
            "hometown": np.zeros(3, np.int16),
            "rural": np.zeros(3, bool),
            "user": np.ones(3, bool),
            "creator_kind": np.zeros(3, np.int8),
            "region_names": ("all",),
            **overrides,
        }
        return TrustGraph(indptr, indices, trust, layer, **attrs)

    return csr


# ------------------------------------------------------------------------- valid graphs
def test_valid_small_graph(build):
    g = build([1, 0, 0], [0, 1, 2], [0.5, 1.0, 0.25], [LOCAL, LOCAL, FOLLOW])
    g.validate()
    # from_edges sorts the edges into CSR order and casts to the compact dtypes.
    assert g.indptr.tolist() == [0, 2, 3, 3, 3]
    assert g.indices.tolist() == [1, 2, 0]
    assert g.trust.tolist() == [1.0, 0.25, 0.5]  # trust exactly 1 is allowed
    assert g.trust.dtype == np.float32 and g.layer.dtype == np.int8
    assert g.region.dtype == np.int16 and g.creator_kind.dtype == np.int8
    assert g.hometown.tolist() == NODES["region"]  # hometown defaults to region
    assert g.followers().tolist() == [0, 0, 1, 0]


def test_empty_edge_list():
    g = TrustGraph.from_edges(3, [], [], [], [])
    assert (g.n_nodes, g.n_edges) == (3, 0)
    assert g.region_names == ("all",)
    assert g.user.all() and not g.rural.any()


def test_generated_graph_passes_validate():
    g = laotie.graph.mudanjiang(scale=0.001, seed=1)
    assert g.n_nodes == 2540
    g.validate()
    assert set(np.unique(g.layer).tolist()) == {LOCAL, CITY, FOLLOW}


def test_validate_checks_arrays_changed_after_construction():
    g = laotie.graph.mudanjiang(scale=0.001, seed=1)
    k = int(np.flatnonzero(g.layer == FOLLOW)[0])
    src, dst = int(g.sources()[k]), int(g.indices[k])
    g.trust[k] = np.nan
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight NaN", f"{src}→{dst}")):
        g.validate(where="after edit")
    g.trust[k] = 0.5
    g.validate()
    g.creator_kind[dst] = 0
    with pytest.raises(GraphError, match=match("follow ties to a node that is not a creator")):
        g.validate()


# ------------------------------------------------------------------------- trust weights
def test_trust_nan(build):
    with pytest.raises(GraphError, match=match("2 edge(s) have trust weight NaN", "0→1, 2→0")):
        build([0, 1, 2], [1, 0, 0], [np.nan, 0.5, np.nan], [LOCAL] * 3)


@pytest.mark.parametrize("value", [-0.5, 0.0, -1e-300, -np.inf])
def test_trust_not_positive(build, value):
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight ≤ 0", "e.g. 1→0")):
        build([0, 1], [1, 0], [0.5, value], [LOCAL, LOCAL])


def test_trust_negative_and_zero_counted_together(build):
    with pytest.raises(GraphError, match=match("2 edge(s) have trust weight ≤ 0", "0→1, 1→0")):
        build([0, 1, 2], [1, 0, 0], [-0.1, 0.0, 0.5], [LOCAL] * 3)


@pytest.mark.parametrize("value", [1.00000001, 1.0000001, 1.5, np.inf])
def test_trust_above_one(build, value):
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1", "e.g. 1→0")):
        build([0, 1], [1, 0], np.array([1.0, value], dtype=np.float64), [LOCAL, LOCAL])


def test_trust_above_one_hidden_by_float32_is_rejected(build, csr):
    value = 1.00000001  # float32 gives exactly 1.0 (1.0000001 would give 1.00000012)
    assert np.float32(value) == 1.0  # a check after the float32 cast would miss it
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1", "0→1")):
        build([0], [1], np.array([value]), [LOCAL])
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1", "1→0")):
        csr([0, 1, 2, 2], [1, 0], np.array([0.5, value]), [LOCAL, LOCAL])


def test_trust_too_small_for_float32(build):
    assert np.float32(1e-50) == 0
    with pytest.raises(GraphError, match=match("1 trust weight(s) are too small for float32")):
        build([0, 1], [1, 0], [0.5, 1e-50], [LOCAL, LOCAL])


@pytest.mark.parametrize(
    "trust",
    [["high"], np.array([0.5 + 0.1j]), np.array([True])],
    ids=["text", "complex", "bool"],
)
def test_trust_not_real_numbers(csr, trust):
    with pytest.raises(GraphError, match=match("trust weights must be real numbers, got dtype")):
        csr([0, 1, 1, 1], [1], trust, [LOCAL])


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble, np.float32, np.float64, ">f8"])
def test_trust_of_any_real_dtype_is_checked_then_kept_as_float32(csr, dtype):
    """float16 and long double are read as float64 by the checks (numba has no kernel for
    them); they are refused or kept by value, like float32 and float64."""
    g = csr([0, 1, 2, 2], [1, 0], np.array([0.5, 1], dtype=dtype), [LOCAL, LOCAL])
    assert g.trust.dtype == np.float32 and g.trust.tolist() == [0.5, 1.0]
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1", "1→0")):
        csr([0, 1, 2, 2], [1, 0], np.array([0.5, 2], dtype=dtype), [LOCAL, LOCAL])


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= 2**-60, reason="long double is double")
@pytest.mark.parametrize("step", [2**-30, 2**-60])
def test_a_long_double_just_above_one_is_refused(csr, step):
    """1 + 2**-30 is 1.0 in float32, 1 + 2**-60 in float64 too."""
    value = np.longdouble(1) + np.longdouble(step)
    trust = np.array([0.5, value], np.longdouble)
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1", "1→0")):
        csr([0, 1, 2, 2], [1, 0], trust, [LOCAL, LOCAL])
    g = csr([0, 1, 2, 2], [1, 0], [0.5, 1.0], [LOCAL, LOCAL])
    g.trust = trust
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1", "1→0")):
        g.validate()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("trust", np.array([0.5 + 0j, 1]), "trust weights must be real numbers"),
        ("trust", np.array([1, 1], "m8[s]"), "trust weights must be real numbers"),
        ("indices", np.array([1.0, 0.0]), "node ids must be integers"),
        ("indices", np.array([1, 3]), "1 edge(s) point to unknown node ids"),
        ("indptr", np.array([], np.int64), "indptr must be a 1-d array"),
        ("layer", np.array([0.0, 0.0]), "layer codes must be integers"),
        ("creator_kind", np.zeros(3, complex), "node attribute 'creator_kind' has dtype"),
        ("trust", np.array([0.5]), "trust has shape (1,); expected (2,)"),
    ],
)
def test_validate_checks_arrays_changed_in_place(csr, name, value, message):
    """What the constructor refuses, validate() refuses after a change in place: never a
    crash in the compiled checks."""
    g = csr([0, 1, 2, 2], [1, 0], [0.5, 1.0], [LOCAL, LOCAL])
    setattr(g, name, value)
    with pytest.raises(GraphError, match=match(message)):
        g.validate()


@pytest.mark.parametrize("name", ["trust", "layer", "creator_kind", "indices"])
def test_arrays_in_the_other_byte_order_are_read(csr, name):
    arrays = {"trust": [0.5, 1.0], "layer": [LOCAL, LOCAL], "indices": [1, 0]}
    kind = np.zeros(3, np.int8)
    if name == "creator_kind":
        kind = kind.astype(">i2")
    else:
        arrays[name] = np.asarray(arrays[name]).astype(
            np.asarray(arrays[name]).dtype.newbyteorder(">")
        )
    g = csr([0, 1, 2, 2], arrays["indices"], arrays["trust"], arrays["layer"], creator_kind=kind)
    assert g.trust.tolist() == [0.5, 1.0] and g.indices.tolist() == [1, 0]


@pytest.mark.parametrize("name", ["trust", "layer", "creator_kind"])
def test_timedeltas_are_not_numbers(csr, name):
    """numpy counts timedelta64 as an integer; a graph does not."""
    arrays = {"trust": [0.5], "layer": [LOCAL], "creator_kind": np.zeros(3, np.int8)}
    arrays[name] = np.asarray(arrays[name]).astype("m8[s]")
    with pytest.raises(GraphError, match="dtype timedelta64"):
        csr(
            [0, 1, 1, 1], [1], arrays["trust"], arrays["layer"], creator_kind=arrays["creator_kind"]
        )


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble, ">f8"])
def test_validate_reads_trust_changed_in_place_to_any_float(csr, dtype):
    g = csr([0, 1, 2, 2], [1, 0], [0.5, 1.0], [LOCAL, LOCAL])
    g.trust = g.trust.astype(dtype)
    g.validate()
    g.trust = np.array([0.5, 2.0], dtype)
    with pytest.raises(GraphError, match=match("1 edge(s) have trust weight > 1")):
        g.validate()


@pytest.mark.parametrize(
    "indptr", [[0, 1, -1, 2], [0, 2, 1, 2], [0, 1, 2, 3], [1, 1, 2, 2], [0, 10**12, 2, 2]]
)
@pytest.mark.parametrize("threads", [1, 2])
def test_validate_refuses_a_row_pointer_changed_in_place(csr, indptr, threads, monkeypatch):
    from laotie.graph import _validate

    monkeypatch.setattr(_validate, "THREADED_TIES", 0)
    monkeypatch.setattr(_validate, "build_threads", lambda: threads)
    g = csr([0, 1, 2, 2], [1, 0], [0.5, 1.0], [LOCAL, LOCAL])
    g.indptr = np.array(indptr, np.int64)
    with pytest.raises(GraphError) as raised:
        g.validate()
    assert str(raised.value) == (
        "TrustGraph: indptr is not a valid CSR row pointer (must rise from 0 to n_edges)"
    )


def test_indices_that_are_not_1d_are_named(csr):
    with pytest.raises(GraphError) as raised:
        csr([0, 1, 2, 2], [[1], [0]], [0.5, 0.5], [LOCAL, LOCAL])
    assert str(raised.value) == (
        "TrustGraph: indices must be a 1-d array of node ids, got shape (2, 1)"
    )


def test_indptr_that_is_not_1d_is_the_one_problem_named(csr):
    with pytest.raises(GraphError) as raised:
        csr([[0], [1], [2], [2]], [1, 0], [0.5, 0.5], [LOCAL, LOCAL])
    assert str(raised.value) == (
        "TrustGraph: indptr must be a 1-d array of length n_nodes + 1, got shape (4, 1)"
    )


# ------------------------------------------------------------------------- edges
def test_self_loops(build):
    with pytest.raises(GraphError, match=match("2 edge(s) are self-loops", "0→0", "2→2")):
        build([0, 0, 2], [0, 1, 2], [0.5, 0.5, 0.5], [LOCAL] * 3)


def test_duplicate_edges(build):
    # The same pair twice, even in different layers, is a duplicate.
    with pytest.raises(
        GraphError, match=match("1 edge(s) are duplicates of the edge before them", "e.g. 1→3")
    ):
        build([0, 1, 1], [1, 3, 3], [0.5, 0.5, 0.4], [LOCAL, CITY, LOCAL])


def test_unknown_target_id_from_edges(build):
    with pytest.raises(
        GraphError,
        match=match("1 edge(s) have an unknown target node id", "valid ids are 0 .. 3", "e.g. 4"),
    ):
        build([0, 1], [4, 0], [0.5, 0.5], [LOCAL, LOCAL])


def test_negative_source_id_from_edges(build):
    with pytest.raises(
        GraphError, match=match("2 edge(s) have an unknown source node id", "e.g. -1, -2")
    ):
        build([-1, -2, 0], [1, 0, 1], [0.5, 0.5, 0.5], [LOCAL] * 3)


def test_unknown_ids_in_constructor(csr):
    with pytest.raises(
        GraphError,
        match=match("2 edge(s) point to unknown node ids", "valid ids are 0 .. 2", "e.g. 3, -1"),
    ):
        csr([0, 1, 2, 2], [3, -1], [0.5, 0.5], [LOCAL, LOCAL])


@pytest.mark.parametrize("bad", [-1, 3, -(2**31)])
def test_one_unknown_id_below_or_above_the_nodes_is_found(csr, bad):
    """Each side of the ids' bounds alone (the check looks at the bounds first)."""
    with pytest.raises(GraphError, match=match("1 edge(s) point to unknown node ids", f"{bad}")):
        csr([0, 1, 2, 2], np.array([1, bad], np.int32), [0.5, 0.5], [LOCAL, LOCAL])


@pytest.mark.parametrize("code", [3, -1, 256])  # 256 would wrap to 0 in int8
def test_unknown_layer_code(build, code):
    with pytest.raises(
        GraphError,
        match=match("1 edge(s) have an unknown layer code", "0 = local", "2 = follow", "1→0"),
    ):
        build([0, 1], [1, 0], [0.5, 0.5], np.array([LOCAL, code], dtype=np.int64))


def test_follow_from_non_user(build):
    with pytest.raises(GraphError, match=match("1 edge(s) are follow ties from a non-user", "3→2")):
        build([0, 3], [2, 2], [0.5, 0.5], [FOLLOW, FOLLOW])


def test_follow_to_non_creator(build):
    with pytest.raises(
        GraphError,
        match=match("2 edge(s) are follow ties to a node that is not a creator", "0→1, 2→0"),
    ):
        build([0, 2, 1], [1, 0, 2], [0.5, 0.5, 0.5], [FOLLOW, FOLLOW, FOLLOW])


def test_edges_out_of_order_in_constructor(csr):
    with pytest.raises(GraphError, match=match("1 edge(s) are out of order within their row")):
        csr([0, 2, 2, 2], [2, 1], [0.5, 0.5], [LOCAL, LOCAL])


@pytest.mark.parametrize(
    ("indptr", "expected"),
    [
        ([0, 1, 3, 2], "indptr is not a valid CSR row pointer"),
        ([1, 1, 2, 2], "indptr is not a valid CSR row pointer"),
        ([0.0, 1.5, 2.0, 2.0], "indptr must be integers, got dtype float64"),
    ],
)
def test_bad_indptr(csr, indptr, expected):
    with pytest.raises(GraphError, match=match(expected)):
        csr(indptr, [1, 0], [0.5, 0.5], [LOCAL, LOCAL])


def test_edge_array_shapes_in_constructor(csr):
    with pytest.raises(GraphError, match=match("trust has shape (1,); expected (2,)")):
        csr([0, 1, 2, 2], [1, 0], [0.5], [LOCAL, LOCAL])
    with pytest.raises(GraphError, match=match("layer codes must be integers, got dtype float64")):
        csr([0, 1, 2, 2], [1, 0], [0.5, 0.5], [0.0, 0.0])


def test_from_edges_argument_errors():
    with pytest.raises(GraphError, match=match("different lengths (2, 2, 1, 2)")):
        TrustGraph.from_edges(3, [0, 1], [1, 0], [0.5], [LOCAL, LOCAL])
    with pytest.raises(GraphError, match=match("source node ids must be integers, got float64")):
        TrustGraph.from_edges(3, [0.0, 1.0], [1, 0], [0.5, 0.5], [LOCAL, LOCAL])
    with pytest.raises(GraphError, match=match("must be 1-d sequences", "()")):
        TrustGraph.from_edges(3, [0], [1], 0.5, [LOCAL])
    with pytest.raises(GraphError, match=match("n_nodes = -1; expected an integer ≥ 0")):
        TrustGraph.from_edges(-1, [], [], [], [])


# ------------------------------------------------------------------------- node attributes
def test_creator_not_a_user(build):
    with pytest.raises(
        GraphError, match=match("1 creator(s) are not registered users", "e.g. nodes 3")
    ):
        build([0], [1], [0.5], [LOCAL], creator_kind=[0, 0, 2, 1])


@pytest.mark.parametrize("code", [5, -1, 300])  # 300 would wrap to 44 in int8
def test_unknown_creator_kind(build, code):
    with pytest.raises(
        GraphError,
        match=match("1 node(s) have an unknown creator_kind", "4 = outside", "e.g. nodes 1"),
    ):
        build([0], [1], [0.5], [LOCAL], creator_kind=np.array([0, code, 2, 0], dtype=np.int64))


def test_creators_outside_the_city_are_not_users_and_have_no_ties(build):
    """A creator outside the city (kind 4) is followed, but is not the city's user, and has
    no local or city ties either way."""
    kinds = np.array([0, 4, 2, 0])
    users = [True, False, True, True]
    ok = build([0, 2], [1, 1], [0.5, 0.5], [FOLLOW, FOLLOW], creator_kind=kinds, user=users)
    assert ok.n_residents == 3 and ok.resident.tolist() == [True, False, True, True]
    with pytest.raises(GraphError, match=match("1 creator(s) outside the city are marked")):
        build([0], [1], [0.5], [FOLLOW], creator_kind=kinds)
    with pytest.raises(GraphError, match=match("are ties from a creator outside the city")):
        build([1], [0], [0.5], [LOCAL], creator_kind=kinds, user=users)
    with pytest.raises(GraphError, match=match("are local or city ties to a creator outside")):
        build([0], [1], [0.5], [CITY], creator_kind=kinds, user=users)


def test_unknown_region_code(build):
    with pytest.raises(
        GraphError,
        match=match("1 node(s) have an unknown region code (there are 2 regions)", "nodes 2"),
    ) as info:
        build([0], [1], [0.5], [LOCAL], region=[0, 0, 2, 1], hometown=[0, 0, 1, 1])
    assert "hometown" not in str(info.value)


@pytest.mark.parametrize("code", [-1, 5, 65536])  # 65536 would wrap to 0 in int16
def test_unknown_hometown_code(build, code):
    with pytest.raises(
        GraphError,
        match=match("2 node(s) have an unknown hometown code (there are 2 regions)", "nodes 1, 3"),
    ):
        build([0], [1], [0.5], [LOCAL], hometown=np.array([0, code, 1, code], dtype=np.int64))


def test_region_names(csr):
    with pytest.raises(GraphError, match=match("there are no regions (region_names is empty)")):
        csr([0, 1, 2, 2], [1, 0], [0.5, 0.5], [LOCAL, LOCAL], region_names=())
    with pytest.raises(GraphError, match=match("region names are not unique", "'a', 'a'")):
        csr([0, 1, 2, 2], [1, 0], [0.5, 0.5], [LOCAL, LOCAL], region_names=("a", "a"))


@pytest.mark.parametrize("name", ["region", "hometown", "rural", "user", "creator_kind"])
def test_missing_node_attribute(csr, name):
    with pytest.raises(GraphError, match=match(f"node attribute {name!r} is missing")):
        csr([0, 1, 2, 2], [1, 0], [0.5, 0.5], [LOCAL, LOCAL], **{name: None})


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("rural", np.zeros(4), "node attribute 'rural' has dtype float64; expected bool"),
        (
            "user",
            np.ones(4, dtype=np.int64),
            "node attribute 'user' has dtype int64; expected bool",
        ),
        ("region", np.zeros(4), "node attribute 'region' has dtype float64; expected integer"),
        (
            "hometown",
            np.zeros(4, bool),
            "node attribute 'hometown' has dtype bool; expected integer",
        ),
        (
            "creator_kind",
            ["none"] * 4,
            "node attribute 'creator_kind' has dtype <U4; expected integer",
        ),
    ],
)
def test_wrongly_typed_node_attribute(build, name, values, expected):
    with pytest.raises(GraphError, match=match(expected)):
        build([0], [1], [0.5], [LOCAL], **{name: values})


@pytest.mark.parametrize("name", ["region", "hometown", "rural", "user", "creator_kind"])
def test_wrong_length_node_attribute(build, name):
    values = {"rural": [False] * 3, "user": [True] * 3}.get(name, [0, 0, 0])
    with pytest.raises(
        GraphError, match=match(f"node attribute {name!r} has shape (3,); expected (4,)")
    ):
        build([0], [1], [0.5], [LOCAL], **{name: values})


def test_labels_must_match_nodes(build):
    with pytest.raises(GraphError, match=match("there are 2 labels for 4 nodes")):
        build([0], [1], [0.5], [LOCAL], labels=["a", "b"])
    with pytest.raises(GraphError, match=match("2 node label(s) are duplicates", "'a', 'b'")):
        build([0], [1], [0.5], [LOCAL], labels=["a", "b", "a", "b"])


def test_tuple_labels_stay_one_per_node(build):
    labels = [(0, 0), (0, 1), (1, 0), (1, 1)]
    g = build([0], [1], [0.5], [LOCAL], labels=labels)
    assert g.labels.shape == (4,)
    assert g.labels.tolist() == labels


# ------------------------------------------------------------------------- the message
def test_several_problems_in_one_message(build):
    with pytest.raises(GraphError) as info:
        build(
            [0, 1, 3, 2],
            [1, 1, 2, 0],
            [np.nan, 0.5, 2.0, 0.5],
            [LOCAL, LOCAL, FOLLOW, LOCAL],
            creator_kind=[0, 9, 2, 0],
            hometown=[0, 0, 1, 7],
        )
    message = str(info.value)
    for part in (
        "1 edge(s) have trust weight NaN, e.g. 0→1",
        "1 edge(s) have trust weight > 1, e.g. 3→2",
        "1 edge(s) are self-loops, e.g. 1→1",
        "1 edge(s) are follow ties from a non-user, e.g. 3→2",
        "1 node(s) have an unknown creator_kind",
        "1 node(s) have an unknown hometown code",
    ):
        assert part in message
    assert message.count("; ") == 5


def test_node_attribute_problems_are_listed_together(csr):
    with pytest.raises(GraphError) as info:
        csr([0, 1, 2, 2], [1, 0], [0.5, 0.5], [LOCAL, LOCAL], rural=None, region=np.zeros(3))
    assert "'rural' is missing" in str(info.value)
    assert "'region' has dtype float64" in str(info.value)


def test_message_shows_at_most_five_ids(build):
    src = [0, 0, 0, 1, 1, 1, 2]
    dst = [1, 2, 3, 0, 2, 3, 0]
    with pytest.raises(GraphError) as info:
        build(src, dst, [np.nan] * 7, [LOCAL] * 7)
    message = str(info.value)
    assert "7 edge(s) have trust weight NaN, e.g. 0→1, 0→2, 0→3, 1→0, 1→2" in message
    assert "1→3" not in message


def test_message_uses_labels(build):
    with pytest.raises(GraphError, match=match("1 edge(s) are self-loops, e.g. 'cy'→'cy'")):
        build([2], [2], [0.5], [LOCAL], labels=["ann", "bo", "cy", "di"])


def test_message_names_where(build, csr):
    with pytest.raises(GraphError, match=r"^friends\.csv: 1 edge\(s\) are self-loops"):
        build([0], [0], [0.5], [LOCAL], where="friends.csv")
    with pytest.raises(GraphError, match=r"^edge list: 1 edge\(s\) are self-loops"):
        build([0], [0], [0.5], [LOCAL])
    with pytest.raises(GraphError, match=r"^my source: node attribute 'user' is missing"):
        csr([0, 1, 2, 2], [1, 0], [0.5, 0.5], [LOCAL, LOCAL], user=None, where="my source")
    with pytest.raises(GraphError, match=r"^TrustGraph: 1 edge\(s\) are out of order"):
        csr([0, 2, 2, 2], [2, 1], [0.5, 0.5], [LOCAL, LOCAL])
    g = build([0], [1], [0.5], [LOCAL])
    g.trust[0] = -1
    with pytest.raises(GraphError, match=r"^checkpoint: 1 edge\(s\) have trust weight ≤ 0"):
        g.validate(where="checkpoint")


def test_graph_error_is_a_value_error(build):
    with pytest.raises(ValueError):
        build([0], [0], [0.5], [LOCAL])
    assert issubclass(GraphError, laotie.LaotieError)


def test_the_one_pass_check_of_the_edges_finds_every_broken_invariant(
    small_city: TrustGraph,
) -> None:
    # laotie.graph._validate._edges_hold decides whether the masked checks (which name the
    # edges at fault) run at all: each edge invariant broken alone must make it say False.
    from laotie.graph._core import FOLLOW as FOLLOW_LAYER
    from laotie.graph._core import OUTSIDE as OUTSIDE_KIND
    from laotie.graph._validate import _edges_hold
    from laotie.graph.codes import LAYERS

    g = small_city

    def holds(**changed: np.ndarray) -> bool:
        arrays = {
            "indptr": g.indptr,
            "indices": g.indices.copy(),
            "trust": g.trust.copy(),
            "layer": g.layer.copy(),
            "user": g.user.copy(),
            "kind": g.creator_kind.astype(np.int64),
        } | changed
        return bool(_edges_hold(*arrays.values(), len(LAYERS), 0, g.n_nodes))

    assert holds()
    row = int(np.flatnonzero(np.diff(g.indptr) >= 2)[0])
    k = int(g.indptr[row])
    for value in (np.nan, 0.0, -0.5, 1.5):
        trust = g.trust.copy()
        trust[k] = value
        assert not holds(trust=trust), value
    for target in (row, int(g.indices[k + 1])):  # a self-loop; a duplicate (and unsorted)
        indices = g.indices.copy()
        indices[k] = target
        assert not holds(indices=indices), target
    indices = g.indices.copy()
    indices[k], indices[k + 1] = indices[k + 1], indices[k]  # out of order
    assert not holds(indices=indices)
    layer = g.layer.copy()
    layer[k] = len(LAYERS)
    assert not holds(layer=layer)
    follows = np.flatnonzero(g.layer == FOLLOW_LAYER)
    f = int(follows[0])
    source = int(np.searchsorted(g.indptr, f, side="right") - 1)
    user = g.user.copy()
    user[source] = False
    assert not holds(user=user)  # a follow from a non-user
    kind = g.creator_kind.astype(np.int64)
    kind[g.indices[f]] = 0
    assert not holds(kind=kind)  # a follow to a non-creator
    kind = g.creator_kind.astype(np.int64)
    kind[row] = OUTSIDE_KIND
    assert not holds(kind=kind)  # a tie from a creator outside the city
    local = int(np.flatnonzero(g.layer != FOLLOW_LAYER)[0])
    kind = g.creator_kind.astype(np.int64)
    kind[g.indices[local]] = OUTSIDE_KIND
    assert not holds(kind=kind)  # a local or city tie to one


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_large_graph_checks_its_edges_in_two_runs_of_rows_and_misses_none(
    small_city: TrustGraph, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Split into runs of rows (in threads), a broken tie in the first row or the last one
    is still found, and a valid graph still holds."""
    from laotie.graph import _validate

    monkeypatch.setattr(_validate, "THREADED_TIES", 0)
    monkeypatch.setattr(_validate, "build_threads", lambda: 2)
    g = small_city
    assert _validate._all_edges_hold(g)
    rows = np.flatnonzero(np.diff(g.indptr) > 0)
    row = int(rows[0] if where == "first" else rows[-1])
    k = int(g.indptr[row])
    trust = g.trust.copy()
    g.trust[k] = 1.5
    try:
        assert not _validate._all_edges_hold(g)
        with pytest.raises(GraphError, match=r"1 edge\(s\) have trust weight > 1"):
            g.validate()
    finally:
        g.trust[:] = trust
