# MUTANT: lstm_layer
# WHY: starts every time step from the initial state instead of the previous step's state.
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
    for t in range(L):
        h, c = lstm_cell(x[t], state, W_ih, W_hh, b_ih, b_hh)  # noqa: F821
        outputs.append(h)
    return torch.stack(outputs), (h, c)
