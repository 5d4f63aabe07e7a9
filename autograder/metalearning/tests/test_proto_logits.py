"""Hidden tests of `proto_logits(support_emb, support_labels, query_emb, n_way) -> (Q, n_way)`.

logits[q, c] = -||query_emb[q] - p_c||^2, p_c = mean of the support embeddings labelled c.
Oracles: torch.cdist to prototypes built by a loop; gradients of that oracle with a random upstream.
Invariants: a common translation of all embeddings, a shuffled support set, relabelled classes.
"""

import pytest
import torch

from autograder.testing import expect_close

pytestmark = pytest.mark.question("proto_logits")
F64 = torch.float64


def episode(gen, n_way, shots, Q, D, dtype=F64):
    """Support embeddings with unequal shots per class (labels shuffled), and queries."""
    labels = torch.cat([torch.full((s,), c) for c, s in enumerate(shots)])
    labels = labels[torch.randperm(len(labels), generator=gen)]
    support = torch.randn(len(labels), D, generator=gen, dtype=F64).to(dtype)
    query = torch.randn(Q, D, generator=gen, dtype=F64).to(dtype)
    return support, labels, query


def oracle(support, labels, query, n_way):
    protos = torch.stack([support[labels == c].mean(dim=0) for c in range(n_way)])  # (N, D)
    return -torch.cdist(query, protos) ** 2


def call(sub, support, labels, query, n_way):
    logits = sub.proto_logits(support, labels, query, n_way)
    ok = bool(isinstance(logits, torch.Tensor) and logits.shape == (query.shape[0], n_way))
    assert ok, f"proto_logits returns (Q, n_way) = {(query.shape[0], n_way)}"
    return logits


@pytest.mark.parametrize("n_way,shots,Q,D",
                         [(3, (2, 4, 1), 6, 5), (5, (1, 1, 1, 1, 1), 1, 3), (4, (3, 3, 2, 5), 10, 16)],
                         ids=["unequal shots", "1-shot, 1 query", "wider"])
def test_matches_distances_to_class_means(sub, observe, device, gen, n_way, shots, Q, D):
    """minus the SQUARED Euclidean distance from each query to each class's mean support embedding"""
    support, labels, query = episode(gen, n_way, shots, Q, D)
    logits = call(sub, support.to(device), labels.to(device), query.to(device), n_way)
    expect_close(logits.cpu(), oracle(support, labels, query, n_way), "logits[q, c] = -||query_q - mean of the support "
                 "embeddings of class c||^2 (prototypes from the SUPPORT set, squared distance, minus sign)",
                 rtol=1e-8, atol=1e-9)
    observe("logits", logits)


def test_gradients(sub, observe, device, gen):
    """gradients reach both embeddings (random upstream), as the oracle's do"""
    support, labels, query = episode(gen, 4, (2, 3, 1, 2), 7, 6)
    upstream = torch.randn(7, 4, generator=gen, dtype=F64)
    s, q = support.to(device).requires_grad_(), query.to(device).requires_grad_()
    logits = call(sub, s, labels.to(device), q, 4)
    gs, gq = torch.autograd.grad((logits * upstream.to(device)).sum(), [s, q])
    s0, q0 = support.clone().requires_grad_(), query.clone().requires_grad_()
    ws, wq = torch.autograd.grad((oracle(s0, labels, q0, 4) * upstream).sum(), [s0, q0])
    expect_close(gs.cpu(), ws, "the gradient with respect to the support embeddings", rtol=1e-8, atol=1e-9)
    expect_close(gq.cpu(), wq, "the gradient with respect to the query embeddings", rtol=1e-8, atol=1e-9)
    observe("d/d support", gs)
    observe("d/d query", gq)


def test_invariances(sub, observe, device, gen):
    """unchanged by a common (even large) translation and by shuffling the support set; relabelling permutes columns"""
    support, labels, query = episode(gen, 4, (3, 2, 2, 4), 5, 8)
    base = call(sub, support.to(device), labels.to(device), query.to(device), 4)
    shift = 100.0 * torch.randn(8, generator=gen, dtype=F64)
    moved = call(sub, (support + shift).to(device), labels.to(device), (query + shift).to(device), 4)
    expect_close(moved, base, "distances do not change when every embedding is translated by the same vector",
                 rtol=1e-6, atol=1e-6)
    perm = torch.randperm(len(labels), generator=gen)
    shuffled = call(sub, support[perm].to(device), labels[perm].to(device), query.to(device), 4)
    expect_close(shuffled, base, "the order of the support examples does not matter", rtol=1e-10, atol=1e-10)
    relabel = torch.randperm(4, generator=gen)
    relabelled = call(sub, support.to(device), relabel[labels].to(device), query.to(device), 4)
    expect_close(relabelled[:, relabel], base, "renaming class c to relabel[c] moves its column to relabel[c]",
                 rtol=1e-10, atol=1e-10)
    observe("logits", base)


def test_float32(sub, observe, device, gen):
    """float32 embeddings give float32 logits"""
    support, labels, query = episode(gen, 3, (2, 2, 2), 4, 5, dtype=torch.float32)
    logits = call(sub, support.to(device), labels.to(device), query.to(device), 3)
    ok = bool(logits.dtype == torch.float32)
    assert ok, f"float32 embeddings must give float32 logits, got {logits.dtype}"
    expect_close(logits.cpu(), oracle(support, labels, query, 3),
                 "minus squared distances to the class means (float32)",
                 rtol=1e-5, atol=1e-5)
    observe("logits", logits)
