"""Graph makers and trusted stand-ins shared by the gnn hidden tests (not a test file: the grader collects
only test_*.py). Each test file loads this file with ``load_helpers(__file__)``, which registers it as
trusted without making it importable by name.

- ``random_adj``: a dense adjacency (N, N) without self-loops, symmetric or directed, with chosen
  isolated nodes (no edge at all) and optional positive weights.
- ``edges_of``: the (2, E) edge_index of a dense adjacency, in a shuffled order (no function may rely
  on sorted edges).
- ``loop_propagate``: message passing as a per-node Python loop (the oracle of ``propagate``).
- ``trusted_propagate``: the same by a dense product, fast, to stand in for ``propagate`` in other
  questions' tests.
- ``permutation``: a random permutation and its inverse.
"""

import torch

F64 = torch.float64


def random_adj(gen, n, p=0.3, symmetric=True, isolated=(), weighted=False, dtype=F64):
    """adj[i, j] > 0 for an edge j -> i; no self-loops; the nodes in ``isolated`` have no edge."""
    adj = (torch.rand(n, n, generator=gen) < p).to(F64)
    if symmetric:
        adj = torch.triu(adj, diagonal=1)
        adj = adj + adj.T
    adj = adj * (1 - torch.eye(n, dtype=F64))
    for i in isolated:
        adj[i, :] = 0.0
        adj[:, i] = 0.0
    if weighted:
        w = torch.empty(n, n, dtype=F64).uniform_(0.2, 3.0, generator=gen)
        if symmetric:
            w = torch.triu(w, diagonal=1) + torch.triu(w, diagonal=1).T
        adj = adj * w
    return adj.to(dtype)


def edges_of(adj, gen=None):
    """(2, E) long: row 0 the source j, row 1 the target i of every nonzero adj[i, j]; shuffled when gen."""
    edges = adj.nonzero().T.flip(0).contiguous()
    if gen is not None and edges.shape[1] > 1:
        edges = edges[:, torch.randperm(edges.shape[1], generator=gen)]
    return edges


def loop_propagate(x, edge_index, edge_weight=None, reduce="sum"):
    """out[i] = reduce over edges (j -> i) of w_e x[j], node by node, in float64; zeros where nothing arrives."""
    x = x.detach().cpu().to(F64)
    src, dst = edge_index.cpu().tolist()
    w = [1.0] * len(src) if edge_weight is None else edge_weight.detach().cpu().to(F64).tolist()
    incoming = {}
    for e, i in enumerate(dst):
        incoming.setdefault(i, []).append(w[e] * x[src[e]])
    out = torch.zeros_like(x)
    for i, msgs in incoming.items():
        stacked = torch.stack(msgs)
        out[i] = {"sum": stacked.sum(0), "mean": stacked.mean(0), "max": stacked.max(0).values}[reduce]
    return out


def trusted_propagate(x, edge_index, edge_weight=None, reduce="sum"):
    """Stands in for the student's propagate (sum and mean) by a dense (N, N) product: same values, another route."""
    n = x.shape[0]
    w = torch.ones(edge_index.shape[1], dtype=x.dtype, device=x.device) if edge_weight is None else edge_weight
    dense = torch.zeros(n, n, dtype=x.dtype, device=x.device).index_put((edge_index[1], edge_index[0]), w,
                                                                          accumulate=True)
    out = dense @ x
    if reduce == "mean":
        count = torch.zeros(n, dtype=x.dtype, device=x.device).index_put((edge_index[1],), torch.ones_like(w),
                                                                          accumulate=True)
        out = out / count.clamp(min=1).unsqueeze(-1)
    elif reduce != "sum":
        raise AssertionError(f"the tests' stand-in for propagate does not do reduce={reduce!r}")
    return out


def permutation(gen, n):
    """(perm, inverse): new node k is old node perm[k]; old node i is new node inverse[i]."""
    perm = torch.randperm(n, generator=gen)
    return perm, torch.argsort(perm)


def describe(t):
    return tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
