"""Tests of shared.graphs: the gnn assignment's offline graphs, their conventions and determinism."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import networkx as nx  # noqa: E402
import torch  # noqa: E402

from shared.graphs import (  # noqa: E402
    community_features,
    draw_graph,
    hub_graphs,
    karate_club,
    labelled_split,
    stochastic_block_model,
    undirected,
)


def _is_simple_undirected(edge_index: torch.Tensor, n: int) -> bool:
    adj = torch.zeros(n, n)
    adj[edge_index[1], edge_index[0]] += 1
    return bool(torch.equal(adj, adj.T) and adj.max() <= 1 and adj.diagonal().sum() == 0)


def test_undirected_lists_both_directions_in_canonical_order() -> None:
    pairs = torch.tensor([[2, 0], [1, 1]])  # edges 2-1 and 0-1
    ei = undirected(pairs)
    assert ei.tolist() == [[1, 0, 2, 1], [0, 1, 1, 2]]  # sorted by target, then source
    assert torch.equal(undirected(pairs.flip(1)), ei)


def test_karate_club_is_zacharys_graph() -> None:
    edges, labels = karate_club()
    assert edges.shape == (2, 156) and edges.dtype == torch.long
    assert _is_simple_undirected(edges, 34)
    g = nx.Graph(edges.T.tolist())
    assert nx.is_isomorphic(g, nx.karate_club_graph())
    assert labels.shape == (34,) and labels[0] == 0 and labels[33] == 1 and int(labels.sum()) == 17


def test_stochastic_block_model_densities_and_determinism() -> None:
    edges, labels = stochastic_block_model((100, 100), 0.2, 0.02, seed=3)
    assert _is_simple_undirected(edges, 200)
    assert labels.tolist() == [0] * 100 + [1] * 100
    same = labels[edges[0]] == labels[edges[1]]
    p_in = same.sum().item() / (2 * 100 * 99)  # both directions of 2 * C(100, 2) pairs
    p_out = (~same).sum().item() / (2 * 100 * 100)
    assert 0.17 < p_in < 0.23 and 0.01 < p_out < 0.03
    again, _ = stochastic_block_model((100, 100), 0.2, 0.02, seed=torch.Generator().manual_seed(3))
    assert torch.equal(edges, again)
    other, _ = stochastic_block_model((100, 100), 0.2, 0.02, seed=4)
    assert not torch.equal(edges, other)


def test_community_features_and_split() -> None:
    labels = torch.arange(3).repeat_interleave(50)
    x = community_features(labels, 8, 5.0, seed=0)
    assert x.shape == (150, 8) and x.dtype == torch.float32
    means = torch.stack([x[labels == c].mean(0) for c in range(3)])
    assert torch.allclose(means.norm(dim=1), torch.full((3,), 5.0), atol=1.2)  # signal * unit vector + noise
    train, test = labelled_split(labels, 4, seed=1)
    assert train.dtype == torch.bool and torch.equal(train, ~test)
    assert torch.bincount(labels[train]).tolist() == [4, 4, 4]
    assert torch.equal(labelled_split(labels, 4, seed=1)[0], train)


def test_hub_graphs_balance_and_hub() -> None:
    graphs = hub_graphs(40, hub_degree=10, seed=0)
    assert [g["y"] for g in graphs] == [0, 1] * 20
    for g in graphs:
        assert 12 <= g["num_nodes"] <= 40 and _is_simple_undirected(g["edge_index"], g["num_nodes"])
    max_deg = {y: [int(torch.bincount(g["edge_index"][1], minlength=g["num_nodes"]).max()) for g in graphs
                   if g["y"] == y] for y in (0, 1)}
    assert min(max_deg[1]) >= 10 and sum(max_deg[0]) / 20 < sum(max_deg[1]) / 20 - 3
    edges = {y: sum(g["edge_index"].shape[1] for g in graphs if g["y"] == y) for y in (0, 1)}
    assert abs(edges[0] - edges[1]) / edges[1] < 0.2  # about the same number of edges in both classes
    assert all(torch.equal(a["edge_index"], b["edge_index"]) for a, b in zip(graphs, hub_graphs(40, hub_degree=10,
                                                                                               seed=0)))


def test_draw_graph_returns_a_reusable_layout() -> None:
    import matplotlib.pyplot as plt

    edges, labels = karate_club()
    fig, ax = plt.subplots()
    pos = draw_graph(edges, 34, ax=ax, node_color=labels, edge_width=torch.rand(156), labels=True)
    assert set(pos) == set(range(34))
    assert draw_graph(edges, 34, ax=ax, pos=pos) is pos
    plt.close(fig)
