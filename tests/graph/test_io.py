"""Trust graphs in and out: networkx, CSV and npz round trips are exact, and every bad input
gives a GraphError that names the file (or graph), the attribute or column and the entries."""

from __future__ import annotations

import json
import os
import re
import stat

import networkx as nx
import numpy as np
import pytest

import laotie
from laotie import GraphError, TrustGraph
from laotie.graph import LAYERS, from_networkx, load, read_csv, save, to_networkx, write_csv
from laotie.graph._core import CITY, FOLLOW, LOCAL


def match(*parts: str) -> str:
    """A regex matching the literal ``parts`` in this order, anything in between."""
    return ".*".join(re.escape(p) for p in parts)


def edge_dict(g: TrustGraph) -> dict[tuple, tuple[float, int]]:
    """``{(source label, target label): (trust, layer)}`` of every edge."""
    labels = list(range(g.n_nodes)) if g.labels is None else list(g.labels)
    return {
        (labels[s], labels[d]): (t, ly)
        for s, d, t, ly in zip(
            g.sources().tolist(),
            g.indices.tolist(),
            g.trust.tolist(),
            g.layer.tolist(),
            strict=True,
        )
    }


@pytest.fixture(scope="module")
def city() -> TrustGraph:
    return laotie.graph.mudanjiang(scale=0.001, seed=3)


@pytest.fixture(scope="module")
def city_nx(city) -> nx.DiGraph:
    return city.to_networkx()


@pytest.fixture
def labelled() -> TrustGraph:
    """Five residents with string labels, every layer, two creators and a non-user."""
    return TrustGraph.from_edges(
        5,
        [0, 1, 2, 2, 3, 0, 4],
        [1, 0, 4, 3, 2, 4, 0],
        [0.123456789, 1 / 3, 1.0, 0.7, 2 / 3, 0.05, 0.999999],
        [FOLLOW, LOCAL, FOLLOW, LOCAL, LOCAL, CITY, CITY],
        region=[0, 0, 1, 1, 1],
        hometown=[0, 1, 1, 0, 1],
        rural=[False, False, True, True, False],
        user=[True, True, True, False, True],
        creator_kind=[0, 2, 0, 0, 1],
        region_names=("north", "south"),
        labels=["ann", "bo", "cy", "di", "eve"],
        meta={"source": "hand-made", "n": 5},
    )


# ---------------------------------------------------------------------------- networkx
def test_networkx_round_trip_is_exact(city, city_nx):
    back = TrustGraph.from_networkx(city_nx)
    assert back.equals(city)
    assert back.trust.dtype == np.float32
    assert back.region_names == city.region_names
    assert back.labels is None
    assert back.meta == city.meta


def test_networkx_export_attributes(city, city_nx):
    G = city_nx
    assert (G.number_of_nodes(), G.number_of_edges()) == (city.n_nodes, city.n_edges)
    assert G.graph["regions"] == list(city.region_names)
    assert G.graph["generator"] == city.meta["generator"]
    migrant = int(np.flatnonzero(city.hometown != city.region)[0])
    rural = int(np.flatnonzero(city.rural)[0])
    non_user = int(np.flatnonzero(~city.user)[0])
    head = int(city.creators("head")[0])
    for i in (0, city.n_nodes - 1, migrant, rural, non_user, head):
        node = G.nodes[i]
        assert node["region"] == city.region_names[city.region[i]]
        assert node["hometown"] == city.region_names[city.hometown[i]]
        assert node["rural"] is bool(city.rural[i])
        assert node["user"] is bool(city.user[i])
        assert node["creator_kind"] == laotie.graph.CREATOR_KINDS[city.creator_kind[i]]
    assert G.nodes[migrant]["hometown"] != G.nodes[migrant]["region"]
    assert G.nodes[head]["creator_kind"] == "head"
    src = city.sources()
    follow = int(np.flatnonzero(city.layer == FOLLOW)[0])
    city_tie = int(np.flatnonzero(city.layer == CITY)[0])
    for k in (0, city.n_edges - 1, follow, city_tie):
        data = G.edges[int(src[k]), int(city.indices[k])]
        assert type(data["trust"]) is float
        assert data["trust"] == float(city.trust[k])
        assert np.float32(data["trust"]) == city.trust[k]
        assert data["layer"] == LAYERS[city.layer[k]]
    assert G.edges[int(src[follow]), int(city.indices[follow])]["layer"] == "follow"


def test_networkx_defaults_for_a_plain_graph():
    G = nx.DiGraph()
    G.add_edges_from([("alice", "bob"), ("bob", "alice"), ("bob", "carol")])
    G.add_node("dave")
    g = TrustGraph.from_networkx(G)
    assert g.labels.tolist() == ["alice", "bob", "carol", "dave"]
    assert g.region_names == ("all",)
    assert g.region.tolist() == g.hometown.tolist() == [0, 0, 0, 0]
    assert g.rural.tolist() == [False] * 4
    assert g.user.tolist() == [True] * 4
    assert g.creator_kind.tolist() == [0] * 4
    assert g.layer.tolist() == [LOCAL] * 3
    assert g.trust.tolist() == [np.float32(0.6)] * 3
    assert set(edge_dict(g)) == set(G.edges)

    H = g.to_networkx()
    assert list(H.nodes) == ["alice", "bob", "carol", "dave"]
    assert set(H.edges) == set(G.edges)
    assert H.nodes["dave"] == {
        "region": "all",
        "hometown": "all",
        "rural": False,
        "user": True,
        "creator_kind": "none",
    }
    assert H.edges["bob", "carol"] == {"trust": float(np.float32(0.6)), "layer": "local"}
    assert TrustGraph.from_networkx(H).equals(g)


def test_networkx_default_trust_per_layer_and_given():
    G = nx.DiGraph()
    G.add_nodes_from(["a", "b"], creator_kind="none")
    G.add_node("c", creator_kind="head")
    G.add_edge("a", "b", layer="local")
    G.add_edge("b", "a", layer="city")
    G.add_edge("a", "c", layer="follow")
    g = from_networkx(G)
    assert edge_dict(g) == {
        ("a", "b"): (np.float32(0.6), LOCAL),
        ("b", "a"): (np.float32(0.3), CITY),
        ("a", "c"): (np.float32(0.4), FOLLOW),
    }
    g = from_networkx(G, default_trust=0.8)
    assert g.trust.tolist() == [np.float32(0.8)] * 3


def test_networkx_region_order_from_graph_attribute():
    G = nx.DiGraph(regions=["north", "south", "east"])
    G.add_node(0, region="south")
    G.add_node(1, region="north", hometown="east")
    G.nodes[0]["hometown"] = "south"
    G.add_edge(0, 1)
    g = from_networkx(G)
    assert g.region_names == ("north", "south", "east")
    assert g.region.tolist() == [1, 0]
    assert g.hometown.tolist() == [1, 2]
    # Without the attribute the regions are numbered in sorted order.
    del G.graph["regions"]
    assert from_networkx(G).region_names == ("east", "north", "south")


def test_networkx_labelled_round_trip(labelled):
    H = labelled.to_networkx()
    assert list(H.nodes) == ["ann", "bo", "cy", "di", "eve"]
    assert H.nodes["eve"]["creator_kind"] == "head"
    assert H.nodes["bo"]["hometown"] == "south"
    assert H.nodes["di"]["user"] is False
    assert H.edges["ann", "bo"] == {"trust": float(np.float32(0.123456789)), "layer": "follow"}
    assert H.graph["source"] == "hand-made"
    back = TrustGraph.from_networkx(H)
    assert back.equals(labelled)
    assert back.meta == labelled.meta


def test_networkx_tuple_labels_round_trip():
    G = nx.grid_2d_graph(2, 3)
    g = from_networkx(G)
    assert g.labels.shape == (6,)
    H = to_networkx(g)
    assert list(H.nodes) == list(G.nodes)
    assert H.number_of_edges() == 2 * G.number_of_edges()
    assert {frozenset(e) for e in H.edges} == {frozenset(e) for e in G.edges}
    assert from_networkx(H).equals(g)


def test_networkx_undirected_edges_become_two():
    G = nx.Graph()
    G.add_edge("a", "b", trust=0.7, layer="city")
    G.add_edge("b", "c", trust=0.2, layer="local")
    g = from_networkx(G)
    assert g.n_edges == 4
    assert edge_dict(g) == {
        ("a", "b"): (np.float32(0.7), CITY),
        ("b", "a"): (np.float32(0.7), CITY),
        ("b", "c"): (np.float32(0.2), LOCAL),
        ("c", "b"): (np.float32(0.2), LOCAL),
    }


def test_networkx_undirected_follow_ties_are_refused():
    G = nx.Graph()
    G.add_node("a", creator_kind="none")
    G.add_node("b", creator_kind="local")
    G.add_node("c", creator_kind="none")
    G.add_edge("a", "b", layer="follow")
    G.add_edge("b", "c", layer="local")
    with pytest.raises(
        GraphError, match=match("follow ties are one-way", "undirected", "e.g. ('a', 'b')")
    ):
        from_networkx(G)


def test_networkx_multigraph_is_refused():
    with pytest.raises(GraphError, match=match("networkx graph: multigraphs are not supported")):
        from_networkx(nx.MultiDiGraph([(0, 1), (0, 1)]))


def test_networkx_node_attribute_on_some_nodes_only():
    G = nx.DiGraph()
    G.add_node("a", rural=True)
    G.add_nodes_from(["b", "c"])
    G.add_edge("a", "b")
    with pytest.raises(
        GraphError,
        match=match("node attribute 'rural' is missing on 2 of 3 nodes", "e.g. 'b', 'c'"),
    ):
        from_networkx(G)


def test_networkx_edge_attribute_on_some_edges_only():
    G = nx.DiGraph()
    G.add_edge("a", "b", trust=0.5)
    G.add_edge("b", "a")
    with pytest.raises(
        GraphError,
        match=match("edge attribute 'trust' is missing on 1 of 2 edges", "e.g. ('b', 'a')"),
    ):
        from_networkx(G)


@pytest.mark.parametrize(
    ("kind", "attr", "bad", "expected"),
    [
        ("node", "rural", "yes", "node attribute 'rural' has a wrong type on 1 nodes"),
        ("node", "user", 1, "node attribute 'user' has a wrong type on 1 nodes"),
        ("node", "region", 1.5, "node attribute 'region' has a wrong type on 1 nodes"),
        ("node", "creator_kind", 2, "node attribute 'creator_kind' has a wrong type on 1 nodes"),
        ("edge", "trust", "high", "edge attribute 'trust' has a wrong type on 1 edges"),
        ("edge", "trust", True, "edge attribute 'trust' has a wrong type on 1 edges"),
        ("edge", "layer", 0, "edge attribute 'layer' has a wrong type on 1 edges"),
    ],
)
def test_networkx_wrongly_typed_attribute(kind, attr, bad, expected):
    good = {"rural": False, "user": True, "region": "x", "creator_kind": "none"}
    good |= {"trust": 0.5, "layer": "local"}
    G = nx.DiGraph()
    G.add_node("a", **({attr: bad} if kind == "node" else {}))
    G.add_node("b", **({attr: good[attr]} if kind == "node" else {}))
    G.add_edge("a", "b", **({attr: bad} if kind == "edge" else {}))
    G.add_edge("b", "a", **({attr: good[attr]} if kind == "edge" else {}))
    where = "'a'" if kind == "node" else "('a', 'b')"
    with pytest.raises(
        GraphError, match=match(expected, f"got {type(bad).__name__} {bad!r}", f"e.g. {where}")
    ):
        from_networkx(G)


def test_networkx_unknown_layer():
    G = nx.DiGraph()
    G.add_edge("a", "b", layer="friends")
    G.add_edge("b", "a", layer="local")
    with pytest.raises(
        GraphError,
        match=match("1 edge(s) have an unknown layer", "local, city, follow", "('a', 'b')"),
    ):
        from_networkx(G)


def test_networkx_unknown_creator_kind():
    G = nx.DiGraph()
    G.add_node("a", creator_kind="kol")
    G.add_node("b", creator_kind="none")
    G.add_edge("b", "a")
    with pytest.raises(
        GraphError,
        match=match("1 node(s) have an unknown creator_kind", "none, head, local, gov", "'a'"),
    ):
        from_networkx(G)


def test_networkx_region_not_in_graph_regions():
    G = nx.DiGraph(regions=["north"])
    G.add_node(0, region="north")
    G.add_node(1, region="south")
    G.add_edge(0, 1)
    with pytest.raises(
        GraphError, match=match("1 node(s) have a region that is not in the graph's regions")
    ):
        from_networkx(G)


def test_networkx_bad_trust_reaches_validate():
    G = nx.DiGraph(name="town")
    G.add_edge("a", "b", trust=float("nan"))
    G.add_edge("b", "a", trust=-0.5)
    G.add_edge("b", "c", trust=1.5)
    with pytest.raises(
        GraphError,
        match="^"
        + match(
            "networkx graph 'town': 1 edge(s) have trust weight NaN, e.g. 'a'→'b'",
            "1 edge(s) have trust weight ≤ 0, e.g. 'b'→'a'",
            "1 edge(s) have trust weight > 1, e.g. 'b'→'c'",
        ),
    ):
        from_networkx(G)


def test_to_networkx_max_edges(labelled):
    assert labelled.n_edges == 7
    with pytest.raises(GraphError, match=match("7 edges, more than max_edges = 6")):
        labelled.to_networkx(max_edges=6)
    with pytest.raises(GraphError, match=match("max_edges")):
        to_networkx(labelled, max_edges=0)
    assert labelled.to_networkx(max_edges=7).number_of_edges() == 7


# ---------------------------------------------------------------------------- CSV
def test_csv_round_trip_generated(city, tmp_path):
    write_csv(city, tmp_path / "edges.csv", tmp_path / "nodes.csv")
    back = read_csv(tmp_path / "edges.csv", tmp_path / "nodes.csv")
    assert back.equals(city)
    assert back.labels is None
    assert sorted(os.listdir(tmp_path)) == ["edges.csv", "nodes.csv"]


def test_csv_round_trip_labelled(labelled, tmp_path):
    edges, nodes = tmp_path / "e.csv", tmp_path / "n.csv"
    labelled.to_csv(edges, nodes)
    lines = edges.read_text().splitlines()
    assert lines[0] == "source,target,trust,layer"
    assert lines[1].startswith("ann,bo,") and lines[1].endswith(",follow")
    assert nodes.read_text().splitlines()[:2] == [
        "id,region,hometown,rural,user,creator_kind",
        "ann,north,north,False,True,none",
    ]
    back = TrustGraph.from_csv(edges, nodes)
    assert back.equals(labelled)
    assert back.labels.tolist() == ["ann", "bo", "cy", "di", "eve"]
    assert back.region_names == ("north", "south")


@pytest.mark.parametrize(
    "labels", [["007", "8", "x"], [10, 20, 30], ["10", "2", "3"], [2, 0, 1]], ids=repr
)
def test_csv_round_trip_keeps_label_types(tmp_path, labels):
    g = TrustGraph.from_edges(3, [0, 1, 2], [1, 2, 0], [0.5, 0.25, 1.0], [0, 1, 0], labels=labels)
    g.to_csv(tmp_path / "e.csv", tmp_path / "n.csv")
    back = TrustGraph.from_csv(tmp_path / "e.csv", tmp_path / "n.csv")
    # CSV has no types: ids that are all plain integers come back as int, others as text.
    expected = [int(x) for x in labels] if all(str(int(x)) == str(x) for x in labels) else labels
    assert back.labels.tolist() == expected
    assert back.equals(g) == (expected == labels)
    relabel = dict(zip(labels, expected, strict=True))
    assert edge_dict(back) == {(relabel[s], relabel[d]): v for (s, d), v in edge_dict(g).items()}


@pytest.mark.xfail(strict=True, reason="a CSV node list does not record the order of regions")
def test_csv_round_trip_keeps_region_order(tmp_path):
    g = TrustGraph.from_edges(
        2, [0], [1], [0.5], [0], region=[1, 0], region_names=("north", "south")
    )
    g.to_csv(tmp_path / "e.csv", tmp_path / "n.csv")
    assert TrustGraph.from_csv(tmp_path / "e.csv", tmp_path / "n.csv").equals(g)


def test_csv_edges_only(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("source,target\nbo,ann\nann,cy\n")
    g = read_csv(path)
    assert g.labels.tolist() == ["ann", "bo", "cy"]
    assert edge_dict(g) == {
        ("bo", "ann"): (np.float32(0.6), LOCAL),
        ("ann", "cy"): (np.float32(0.6), LOCAL),
    }
    path.write_text("source,target,layer\n2,0,city\n0,1,local\n")
    g = read_csv(path)
    assert g.labels is None
    assert edge_dict(g) == {(2, 0): (np.float32(0.3), CITY), (0, 1): (np.float32(0.6), LOCAL)}


def test_csv_ids_match_as_text_across_files(tmp_path):
    # pandas would read the edge ids as int and the node ids (one of them "x") as str.
    (tmp_path / "e.csv").write_text("source,target\n1,2\n")
    (tmp_path / "n.csv").write_text("id\n1\n2\nx\n")
    g = read_csv(tmp_path / "e.csv", tmp_path / "n.csv")
    assert g.labels.tolist() == ["1", "2", "x"]
    assert edge_dict(g) == {("1", "2"): (np.float32(0.6), LOCAL)}


EDGES = "source,target\na,b\n"
NODES = "id\na\nb\nc\n"


def case(edges: str, nodes: str, named: str, *parts: str, id: str):
    return pytest.param(edges, nodes, named, parts, id=id)


@pytest.mark.parametrize(
    ("edges", "nodes", "named", "parts"),
    [
        case(
            "source,trust\na,0.5\n",
            NODES,
            "e",
            "missing column(s) target",
            "found source, trust",
            id="missing-edge-column",
        ),
        case(EDGES, "name\na\n", "n", "missing column(s) id", id="missing-node-column"),
        case(
            "source,target,trsut\na,b,0.5\n",
            NODES,
            "e",
            "unknown column 'trsut'; did you mean 'trust'?",
            id="unknown-edge-column",
        ),
        case(
            EDGES,
            "id,rurl\na,true\n",
            "n",
            "unknown column 'rurl'; did you mean 'rural'?",
            id="unknown-node-column",
        ),
        case(
            "source,target,trust\na,b,0.5\nb,a,high\nc,a,\n",
            NODES,
            "e",
            "2 row(s) have a trust that is not a number",
            "e.g. rows 2, 3",
            "'high'",
            id="trust-not-a-number",
        ),
        case(
            "source,target,layer\na,b,local\nb,a,friends\n",
            NODES,
            "e",
            "1 row(s) have an unknown layer in column 'layer'",
            "e.g. rows 2",
            "'friends'",
            id="unknown-layer",
        ),
        case(
            "source,target\na,b\nb,z\n",
            NODES,
            "e",
            "1 row(s) have a target that is not a node of",
            "n.csv",
            "e.g. rows 2",
            "'z'",
            id="target-not-a-node",
        ),
        case(
            "source,target\na,b\n,c\n",
            NODES,
            "e",
            "1 row(s) have no value in column 'source', e.g. rows 2",
            id="blank-source",
        ),
        case(
            EDGES,
            "id\na\nb\na\nc\n",
            "n",
            "1 duplicate id(s) in column 'id'",
            "e.g. rows 3",
            "'a'",
            id="duplicate-id",
        ),
        case(
            EDGES,
            "id,rural\na,true\nb,maybe\nc,no\n",
            "n",
            "1 row(s) have a value in column 'rural' that is not true or false",
            "e.g. rows 2",
            "'maybe'",
            id="bad-boolean",
        ),
        case(
            EDGES,
            "id,creator_kind\na,none\nb,kol\nc,head\n",
            "n",
            "1 row(s) have an unknown creator_kind",
            "e.g. rows 2",
            "'kol'",
            id="unknown-creator-kind",
        ),
        case(
            EDGES,
            "id,user\na,true\nb,true\n,false\n",
            "n",
            "1 row(s) have no value in column 'id', e.g. rows 3",
            id="blank-id",
        ),
        case(
            EDGES,
            "id,region\na,x\nb,\nc,y\n",
            "n",
            "1 row(s) have no value in column 'region', e.g. rows 2",
            id="blank-region",
        ),
        case("", NODES, "e", "not a readable CSV file", id="empty-file"),
        case(
            "source,target,trust\na,b,nan\n",
            NODES,
            "e",
            "1 edge(s) have trust weight NaN, e.g. 'a'→'b'",
            id="trust-nan",
        ),
    ],
)
def test_csv_errors_name_file_and_row(tmp_path, edges, nodes, named, parts):
    (tmp_path / "e.csv").write_text(edges)
    (tmp_path / "n.csv").write_text(nodes)
    where = re.escape(f"{tmp_path / (named + '.csv')}: ")
    with pytest.raises(GraphError, match="^" + where + match(*parts)):
        read_csv(tmp_path / "e.csv", tmp_path / "n.csv")


def test_csv_missing_files(labelled, tmp_path):
    labelled.to_csv(tmp_path / "e.csv", tmp_path / "n.csv")
    missing = tmp_path / "nope.csv"
    with pytest.raises(GraphError, match=match(f"{missing}: no such file")):
        read_csv(missing, tmp_path / "n.csv")
    with pytest.raises(GraphError, match=match(f"{missing}: no such file")):
        read_csv(tmp_path / "e.csv", missing)
    with pytest.raises(GraphError, match=match(f"{tmp_path}: not a readable CSV file")):
        read_csv(tmp_path, tmp_path / "n.csv")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_written_files_have_ordinary_permissions(labelled, tmp_path):
    reference = tmp_path / "reference.txt"
    reference.write_text("x")
    mode = stat.S_IMODE(reference.stat().st_mode)
    labelled.to_csv(tmp_path / "e.csv", tmp_path / "n.csv")
    labelled.save(tmp_path / "g.npz")
    for name in ("e.csv", "n.csv", "g.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


# ---------------------------------------------------------------------------- npz
def test_npz_round_trip_labelled(labelled, tmp_path):
    path = tmp_path / "g.npz"
    labelled.save(path)
    assert os.listdir(tmp_path) == ["g.npz"]  # no stray .part file
    back = TrustGraph.load(path)
    assert back.equals(labelled)
    assert back.labels.tolist() == ["ann", "bo", "cy", "di", "eve"]
    assert back.meta == {"source": "hand-made", "n": 5}
    assert back.region_names == ("north", "south")


def test_npz_round_trip_generated(city, tmp_path):
    path = tmp_path / "sub" / "city.npz"
    save(city, path)
    assert os.listdir(path.parent) == ["city.npz"]
    back = load(path)
    assert back.equals(city)
    assert back.labels is None
    assert back.meta == city.meta
    assert back.indptr.dtype == np.int64 and back.trust.dtype == np.float32


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
def test_npz_graphs_are_written_and_read_past_the_page_cache(city, tmp_path, monkeypatch):
    """A saved city is 1.4 GB: save and load drop it from the page cache as they go
    (laotie._io.write_npz and read_npz; tests/test_npz.py checks those)."""
    import laotie._io as lio

    calls = []
    monkeypatch.setattr(lio, "PAST_CACHE", 8192)
    monkeypatch.setattr(lio, "_ADVISE", lambda fd, start, length, advice: calls.append(advice))
    path = tmp_path / "city.npz"
    save(city, path)
    written = calls.count(os.POSIX_FADV_DONTNEED)
    assert written > 3
    calls.clear()
    assert load(path).equals(city)
    assert calls.count(os.POSIX_FADV_WILLNEED) > 3 and calls.count(os.POSIX_FADV_DONTNEED) > 3


def test_npz_save_is_atomic(labelled, tmp_path, monkeypatch):
    path = tmp_path / "g.npz"
    labelled.save(path)
    before = path.read_bytes()

    def broken_write(member, array, **options):
        member.write(b"half an array")
        raise RuntimeError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write)
    with pytest.raises(RuntimeError, match="disk full"):
        labelled.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["g.npz"]
    monkeypatch.undo()
    assert TrustGraph.load(path).equals(labelled)


def test_npz_save_to_a_directory(labelled, tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(GraphError, match=match(f"{target}: cannot write")):
        labelled.save(target)
    assert os.listdir(tmp_path) == ["taken"]


def test_npz_save_refuses_labels_json_would_change(tmp_path):
    g = from_networkx(nx.grid_2d_graph(2, 2))
    with pytest.raises(
        GraphError, match=match("cannot save 4 label(s) that are not str, int or float", "(0, 0)")
    ):
        g.save(tmp_path / "grid.npz")
    g = TrustGraph.from_edges(2, [0], [1], [0.5], [0], meta={"when": object()})
    with pytest.raises(GraphError, match=match("cannot save labels or metadata as JSON")):
        g.save(tmp_path / "meta.npz")
    assert os.listdir(tmp_path) == []


def _fake_npz(path, header):
    arrays = {
        name: np.zeros(1, np.int64)
        for name in ("indptr", "indices", "trust", "layer", "region", "hometown")
    }
    arrays |= {name: np.zeros(1, np.int64) for name in ("rural", "user", "creator_kind")}
    np.savez(path, header=np.array(header), **arrays)


def test_npz_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(GraphError, match="^" + match(f"{missing}: no such file")):
        load(missing)

    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(GraphError, match="^" + match(f"{other}: not a laotie graph file")):
        load(other)

    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(GraphError, match="^" + match(f"{text}: not a laotie graph file")):
        load(text)

    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(3))
    with pytest.raises(GraphError, match="^" + match(f"{npy}: not a laotie graph file")):
        load(npy)

    wrong = tmp_path / "wrong.npz"
    _fake_npz(wrong, json.dumps({"format": "something else"}))
    with pytest.raises(GraphError, match=match(f"{wrong}: not a laotie graph file", "format")):
        load(wrong)

    not_a_dict = tmp_path / "list.npz"
    _fake_npz(not_a_dict, json.dumps([1, 2]))
    with pytest.raises(GraphError, match=match(f"{not_a_dict}: not a laotie graph file")):
        load(not_a_dict)

    newer = tmp_path / "newer.npz"
    _fake_npz(newer, json.dumps({"format": "laotie.TrustGraph", "format_version": 99}))
    with pytest.raises(GraphError, match=match(f"{newer}: written by a newer laotie")):
        load(newer)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("format_version", "9", "an integer"),
        ("format_version", None, "an integer"),
        ("region_names", 5, "a list of names"),
        ("region_names", None, "a list of names"),
        ("labels", 5, "a list of labels or null"),
        ("meta", [1], "an object (a dict) or null"),
        ("meta", "x", "an object (a dict) or null"),
    ],
)
def test_npz_load_names_a_header_field_of_the_wrong_kind(tmp_path, field, value, expected):
    path = tmp_path / "g.npz"
    _fake_npz(path, json.dumps({"format": "laotie.TrustGraph", field: value}))
    with pytest.raises(GraphError) as raised:
        load(path)
    assert str(raised.value) == (
        f"{path}: not a laotie graph file (its header's {field!r} is {value!r}; "
        f"expected {expected})"
    )


def test_npz_load_names_a_header_nested_too_deeply(tmp_path):
    path = tmp_path / "g.npz"
    _fake_npz(
        path, '{"format": "laotie.TrustGraph", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    with pytest.raises(GraphError, match=match(f"{path}: not a laotie graph file")):
        load(path)


def test_npz_load_names_a_damaged_npy_header(labelled, tmp_path):
    """A flipped bit can leave a header numpy's literal parser chokes on (an unclosed
    bracket: tokenize.TokenError, not a ValueError)."""
    path = tmp_path / "g.npz"
    labelled.save(path)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"'shape': (") + len(b"'shape': (")
    at = raw.index(b")", at)
    raw[at] = ord("-")
    path.write_bytes(bytes(raw))
    with pytest.raises(GraphError, match="^" + match(f"{path}: not a laotie graph file")):
        load(path)


def test_npz_load_validates(labelled, tmp_path):
    path = tmp_path / "g.npz"
    labelled.save(path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["trust"] = arrays["trust"].copy()
    arrays["trust"][0] = 1.5
    np.savez(path, **arrays)
    with pytest.raises(
        GraphError, match="^" + match(f"{path}: 1 edge(s) have trust weight > 1, e.g. 'ann'→'bo'")
    ):
        load(path)


def test_hometown_without_region_is_refused() -> None:
    g = nx.DiGraph()
    g.add_node("a", hometown="north")
    g.add_node("b", hometown="south")
    with pytest.raises(GraphError, match="'hometown' but no 'region'"):
        TrustGraph.from_networkx(g)
