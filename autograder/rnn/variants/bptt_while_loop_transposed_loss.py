# VARIANT: bptt
# WHY: a while loop with an explicit pass counter, the streams built with reshape, the loss as
# F.cross_entropy on (N, V, L) logits (the same mean), zero_grad(set_to_none=False) before the forward,
# and the state detached with map.
# %%
# GRADED: bptt
import torch
import torch.nn.functional as F


def train_tbptt(model, data, seq_len, batch_size, steps, lr, clip, generator=None):
    device = next(iter(model.parameters())).device
    per_row = len(data) // batch_size
    streams = data[: batch_size * per_row].reshape(batch_size, per_row).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    pos = per_row  # forces a new pass at the first step
    state = None
    while len(history) < steps:
        if pos + seq_len + 1 > per_row:
            state = None
            pos = int(torch.randint(seq_len, (1,), generator=generator)) if generator is not None else 0
        opt.zero_grad(set_to_none=False)
        chunk = streams[:, pos : pos + seq_len + 1]
        logits, state = model(chunk[:, :-1], state)
        loss = F.cross_entropy(logits.transpose(1, 2), chunk[:, 1:])
        loss.backward()
        if clip is not None:
            clip_grad_norm([p for p in model.parameters()], clip)  # noqa: F821 (defined in its cell)
        opt.step()
        state = tuple(map(torch.Tensor.detach, state))
        history.append(float(loss.item()))
        pos += seq_len
    return history
