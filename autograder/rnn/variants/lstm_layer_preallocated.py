# VARIANT: lstm_layer
# WHY: writes each step's h into a preallocated output tensor (differentiable index assignment) and
# builds the zero state with torch.zeros and explicit dtype/device, instead of a list and torch.stack.
# %%
# GRADED: lstm_layer
import torch


def lstm_layer(x, state, W_ih, W_hh, b_ih, b_hh):
    L, N, _ = x.shape
    H = W_hh.size(1)
    if state is None:
        state = (torch.zeros(N, H, dtype=x.dtype, device=x.device), torch.zeros(N, H, dtype=x.dtype, device=x.device))
    output = torch.empty(L, N, H, dtype=x.dtype, device=x.device)
    for t, x_t in enumerate(x.unbind(0)):
        state = lstm_cell(x_t, state, W_ih, W_hh, b_ih, b_hh)  # noqa: F821 (defined in the lstm_cell cell)
        output[t] = state[0]
    return output, tuple(state)
