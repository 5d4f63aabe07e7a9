"""Hidden tests of `prepend_prompt(embeds, attention_mask, labels, prompt)`.

embeds (B, L, D), attention_mask and labels (B, L), prompt (n, D) -> the prompt in front of every
sequence, n ones in front of the mask, n entries -100 in front of the labels; inputs unchanged;
gradients reach the prompt.
"""

import pytest
import torch

pytestmark = pytest.mark.question("prompt_tuning")

F64 = torch.float64


def inputs(gen, B, L, D, n, mask_dtype=torch.long):
    embeds = torch.randn(B, L, D, generator=gen, dtype=F64)
    mask = (torch.rand(B, L, generator=gen) < 0.8).to(mask_dtype)
    mask[:, 0] = 1
    labels = torch.randint(0, 50, (B, L), generator=gen)
    labels[mask == 0] = -100
    prompt = torch.randn(n, D, generator=gen, dtype=F64)
    return embeds, mask, labels, prompt


def run(sub, device, embeds, mask, labels, prompt):
    args = [t.to(device) for t in (embeds, mask, labels, prompt)]
    kept = [t.clone() for t in args]
    out = sub.prepend_prompt(*args)
    assert isinstance(out, tuple) and len(out) == 3, "prepend_prompt must return (embeds, attention_mask, labels)"
    for name, before, after in zip(["embeds", "attention_mask", "labels", "prompt"], kept, args):
        assert torch.equal(before, after), f"prepend_prompt modified its input {name}: build new tensors"
    B, L, D = embeds.shape
    n = prompt.shape[0]
    e, m, lab = out
    assert tuple(e.shape) == (B, n + L, D), f"embeds must become (B, n + L, D) = {(B, n + L, D)}, got {tuple(e.shape)}"
    assert tuple(m.shape) == (B, n + L) and tuple(lab.shape) == (B, n + L), (
        f"attention_mask and labels must become (B, n + L) = {(B, n + L)}"
    )
    assert m.dtype == mask.dtype and lab.dtype == labels.dtype, (
        "keep the dtypes of attention_mask and labels (build the new entries with new_ones / new_full)"
    )
    return e, m, lab


@pytest.mark.parametrize("shape", [(2, 5, 4, 3), (3, 1, 6, 1), (1, 7, 2, 4)], ids=["B2", "L1", "B1"])
def test_values(sub, observe, device, gen, shape):
    """the prompt, ones and -100 come first, the original sequence follows unchanged"""
    B, L, D, n = shape
    embeds, mask, labels, prompt = inputs(gen, B, L, D, n)
    e, m, lab = run(sub, device, embeds, mask, labels, prompt)
    assert torch.equal(e[:, n:].cpu(), embeds) and torch.equal(m[:, n:].cpu(), mask) and torch.equal(
        lab[:, n:].cpu(), labels), "the original embeds, mask and labels must follow the n prompt positions unchanged"
    observe("embeds", e)
    observe("attention_mask", m)
    observe("labels", lab)


def test_prompt_positions(sub, observe, device, gen):
    """every sequence starts with the same n prompt vectors, mask 1, label -100"""
    embeds, mask, labels, prompt = inputs(gen, 4, 3, 5, 2)
    e, m, lab = run(sub, device, embeds, mask, labels, prompt)
    same_prompt = bool(torch.equal(e[:, :2].cpu(), prompt.expand(4, 2, 5)))
    assert same_prompt, "positions 0..n-1 of every sequence must hold the prompt (prepended, not appended)"
    assert bool((m[:, :2] == 1).all()), "the prompt positions are real inputs: their attention_mask entries are 1"
    assert bool((lab[:, :2] == -100).all()), (
        "the prompt positions have nothing to predict: their labels are -100 (cross-entropy's ignore_index)"
    )
    observe("prompt in front of every sequence", same_prompt)


def test_bool_mask(sub, observe, device, gen):
    """works with a boolean attention mask"""
    embeds, mask, labels, prompt = inputs(gen, 2, 4, 3, 2, mask_dtype=torch.bool)
    _, m, _ = run(sub, device, embeds, mask, labels, prompt)
    observe("attention_mask", m)


def test_gradient_reaches_prompt(sub, observe, device, gen):
    """the prompt receives the summed gradient of its copies; the embeds theirs"""
    embeds, mask, labels, prompt = inputs(gen, 3, 4, 5, 2)
    embeds, prompt = embeds.to(device).requires_grad_(), prompt.to(device).requires_grad_()
    e, _, _ = sub.prepend_prompt(embeds, mask.to(device), labels.to(device), prompt)
    upstream = torch.randn(e.shape, generator=gen, dtype=F64).to(device)
    (e * upstream).sum().backward()
    assert prompt.grad is not None, "no gradient reached the prompt: do not detach it (it is what we train)"
    observe("prompt.grad", prompt.grad)
    observe("embeds.grad", embeds.grad)


def test_with_tinygpt(sub, observe, device, gen):
    """a CharGPT fed the prompted batch: loss over the original labels only"""
    import torch.nn.functional as F

    from shared.tinygpt import CharGPT, TinyGPTConfig

    model = CharGPT(TinyGPTConfig(block_size=16, d_model=8, n_heads=2, n_layers=1)).to(device).double()
    x = torch.randint(0, 97, (2, 6), generator=gen).to(device)
    labels = torch.randint(0, 97, (2, 6), generator=gen).to(device)
    prompt = (0.1 * torch.randn(3, 8, generator=gen, dtype=F64)).to(device).requires_grad_()
    e, m, lab = sub.prepend_prompt(model.embed(x), torch.ones_like(x), labels, prompt)
    logits = model(embeds=e, attention_mask=m)
    loss = F.cross_entropy(logits.flatten(0, 1), lab.flatten(), ignore_index=-100)
    loss.backward()
    observe("loss", loss)
    observe("prompt.grad", prompt.grad)


# One contract: this test runs the checks above on one input each (the values, the prompt positions, a boolean mask,
# the gradient reaching the prompt, a model trained through it) and carries two thirds of the question's points, so
# that code wrong in any one part keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("prompt_tuning", weight=16)
def test_whole_contract(sub, observe, device, gen):
    """the values, the prompt in front with mask 1 and label -100, a bool mask, the gradient reaching the prompt"""
    test_values(sub, observe, device, gen, (2, 5, 4, 3))
    test_prompt_positions(sub, observe, device, gen)
    test_bool_mask(sub, observe, device, gen)
    test_gradient_reaches_prompt(sub, observe, device, gen)
    test_with_tinygpt(sub, observe, device, gen)
