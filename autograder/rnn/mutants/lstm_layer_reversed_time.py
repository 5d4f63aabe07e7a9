# MUTANT: lstm_layer
# WHY: runs through the sequence backwards.
# %%
# GRADED: lstm_layer
import torch


def lstm_layer(x, state, W_ih, W_hh, b_ih, b_hh):
    L, N, _ = x.shape
    H = W_hh.shape[1]
    if state is None:
        state = (x.new_zeros(N, H), x.new_zeros(N, H))
    h, c = state
    outputs = []
    for t in reversed(range(L)):
        h, c = lstm_cell(x[t], (h, c), W_ih, W_hh, b_ih, b_hh)  # noqa: F821
        outputs.append(h)
    return torch.stack(outputs), (h, c)
