# MUTANT: bptt
# WHY: never clips the gradients.
# %%
# GRADED: bptt
import torch
import torch.nn.functional as F


def train_tbptt(model, data, seq_len, batch_size, steps, lr, clip, generator=None):
    device = next(model.parameters()).device
    n = data.numel() // batch_size
    streams = data[: n * batch_size].view(batch_size, n).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    params = list(model.parameters())  # noqa: F841 (the clipping that would use it is missing)
    losses, state, pos = [], None, None
    for _ in range(steps):
        if pos is None or pos + seq_len + 1 > n:
            state = None
            pos = 0 if generator is None else int(torch.randint(seq_len, (1,), generator=generator))
        inputs = streams[:, pos : pos + seq_len]
        targets = streams[:, pos + 1 : pos + seq_len + 1]
        logits, state = model(inputs, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        pass
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
        pos += seq_len
    return losses
