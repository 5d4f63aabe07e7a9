"""Graphs as tensors, offline: Zachary's karate club, stochastic block models, a small
graph-classification set, and a drawing helper (the gnn assignment's data).

Conventions (the gnn notebook's): a graph of N nodes is an ``edge_index`` (2, E) long tensor,
row 0 the source and row 1 the target of each edge j -> i; an undirected graph lists every edge in
both directions; no self-loops and no duplicate edges. Labels are (N,) long tensors. Everything is
deterministic in its ``seed`` (an int, or a ``torch.Generator`` to draw from). Nothing here is an
answer to a question: normalising, propagating and pooling are the students' to write.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = [
    "community_features",
    "draw_graph",
    "hub_graphs",
    "karate_club",
    "labelled_split",
    "stochastic_block_model",
    "undirected",
]


def _generator(seed: int | torch.Generator) -> torch.Generator:
    return seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))


def undirected(pairs: torch.Tensor) -> torch.Tensor:
    """The (2, 2P) edge_index of P undirected pairs (2, P), each in both directions, sorted by target
    then source (a canonical order, so equal graphs give equal tensors)."""
    both = torch.cat([pairs, pairs.flip(0)], dim=1)  # (2, 2P)
    n = int(both.max()) + 1 if both.numel() else 1
    order = torch.argsort(both[1] * n + both[0])
    return both[:, order].contiguous()


def karate_club() -> tuple[torch.Tensor, torch.Tensor]:
    """Zachary's karate club (networkx ships it): 34 members, 78 friendships.

    Returns ``edge_index`` (2, 156), both directions, and ``labels`` (34,): 0 for the members who
    followed the instructor (Mr. Hi, node 0) after the club split, 1 for the officer's (node 33).
    """
    import networkx as nx

    g = nx.karate_club_graph()
    pairs = torch.tensor([(u, v) for u, v in g.edges() if u != v], dtype=torch.long).T  # (2, 78)
    labels = torch.tensor([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(g.number_of_nodes())])
    return undirected(pairs), labels


def stochastic_block_model(sizes: Sequence[int], p_in: float, p_out: float,
                           seed: int | torch.Generator = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A stochastic block model: blocks of ``sizes`` nodes, an edge between two nodes of the same block
    with probability ``p_in`` and between blocks with ``p_out``, each pair drawn once.

    Returns ``edge_index`` (2, E) (both directions) and ``labels`` (N,) (the block of each node).
    """
    gen = _generator(seed)
    labels = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(list(sizes)))  # (N,)
    n = labels.numel()
    i, j = torch.triu_indices(n, n, offset=1)  # every unordered pair once
    p = torch.where(labels[i] == labels[j], p_in, p_out)
    keep = torch.rand(i.numel(), generator=gen, dtype=torch.float64) < p
    return undirected(torch.stack([i[keep], j[keep]])), labels


def community_features(labels: torch.Tensor, num_features: int, signal: float,
                       seed: int | torch.Generator = 0) -> torch.Tensor:
    """Noisy node features (N, F) float32: ``signal`` times a random unit vector per class, plus N(0, 1)
    noise per entry. With a small ``signal`` one node's features say little about its class; averaging
    over same-class neighbours (what a GCN does) removes the noise."""
    gen = _generator(seed)
    means = torch.randn(int(labels.max()) + 1, num_features, generator=gen)
    means = means / means.norm(dim=1, keepdim=True)  # (C, F) unit vectors
    return signal * means[labels] + torch.randn(labels.numel(), num_features, generator=gen)


def labelled_split(labels: torch.Tensor, per_class: int,
                   seed: int | torch.Generator = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Semi-supervised split: ``per_class`` labelled nodes of each class (``train_mask``), every other
    node held out (``test_mask``). Both are (N,) bool."""
    gen = _generator(seed)
    train = torch.zeros(labels.numel(), dtype=torch.bool)
    for c in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == c).flatten()
        train[members[torch.randperm(members.numel(), generator=gen)[:per_class]]] = True
    return train, ~train


def hub_graphs(n_graphs: int, min_nodes: int = 12, max_nodes: int = 40, hub_degree: int = 8,
               mean_degree: float = 3.0, seed: int | torch.Generator = 0) -> list[dict]:
    """A graph-classification set: does the graph have a hub?

    Every graph is a random (Erdos-Renyi) graph of ``min_nodes`` to ``max_nodes`` nodes with the given
    mean degree. Half of them (label 1) also get a hub: one node joined to ``hub_degree`` others. The
    others (label 0) get the same number of extra edges spread at random, so both classes have the same
    number of edges on average and only *where* the edges sit differs. Each item is a dict with
    ``edge_index`` (2, E), ``num_nodes`` and ``y`` (0 or 1).
    """
    gen = _generator(seed)
    graphs = []
    for k in range(n_graphs):
        n = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=gen))
        label = k % 2
        adj = torch.rand(n, n, generator=gen) < mean_degree / (n - 1)
        adj = torch.triu(adj, diagonal=1)
        if label:
            hub = int(torch.randint(n, (1,), generator=gen))
            others = torch.randperm(n, generator=gen)
            others = others[others != hub][:hub_degree]
            lo, hi = torch.minimum(others, torch.tensor(hub)), torch.maximum(others, torch.tensor(hub))
            adj[lo, hi] = True
        else:
            for _ in range(hub_degree):
                a, b = torch.randperm(n, generator=gen)[:2].sort().values.tolist()
                adj[a, b] = True
        pairs = torch.nonzero(adj).T  # (2, P), each pair once
        graphs.append({"edge_index": undirected(pairs), "num_nodes": n, "y": label})
    return graphs


def draw_graph(edge_index: torch.Tensor, num_nodes: int, ax=None, pos: dict | None = None, node_color=None,
               edge_width=None, cmap: str = "coolwarm", node_size: float = 120.0, labels: bool = False,
               seed: int = 0) -> dict:
    """Draw a graph with networkx on ``ax``; returns the layout ``pos`` (node -> (x, y)) to reuse.

    ``node_color``: one number per node (a class or a score); ``edge_width``: one number per entry of
    ``edge_index`` (e.g. attention weights), drawn as the mean over both directions of an edge.
    """
    import matplotlib.pyplot as plt
    import networkx as nx

    ax = ax if ax is not None else plt.subplots(figsize=(5, 4))[1]
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    src, dst = edge_index.tolist()
    widths: dict[tuple[int, int], list[float]] = {}
    w = None if edge_width is None else torch.as_tensor(edge_width).detach().cpu().flatten().tolist()
    for e, (u, v) in enumerate(zip(src, dst)):
        if u == v:
            continue
        key = (min(u, v), max(u, v))
        widths.setdefault(key, []).append(1.0 if w is None else w[e])
    g.add_edges_from(widths)
    if pos is None:
        pos = nx.spring_layout(g, seed=seed)
    edge_w = [sum(widths[(min(u, v), max(u, v))]) / len(widths[(min(u, v), max(u, v))]) for u, v in g.edges()]
    if edge_width is not None and edge_w:
        top = max(edge_w)
        edge_w = [0.3 + 5.0 * x / top for x in edge_w]
    else:
        edge_w = 0.8
    colors = None if node_color is None else torch.as_tensor(node_color).detach().cpu().tolist()
    nx.draw_networkx_edges(g, pos, ax=ax, width=edge_w, alpha=0.6)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colors if colors is not None else "C0", cmap=cmap,
                           node_size=node_size, edgecolors="black", linewidths=0.5)
    if labels:
        nx.draw_networkx_labels(g, pos, ax=ax, font_size=7)
    ax.set_axis_off()
    return pos
