# VARIANT: lstm_cell
# WHY: F.linear on the concatenated input and state, chunk(4) for the gates, and the new cell state
# written with torch.addcmul; same maths as the reference in another order of operations.
# %%
# GRADED: lstm_cell
import torch
import torch.nn.functional as F


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    gates = F.linear(torch.cat([x, h], dim=-1), torch.cat([W_ih, W_hh], dim=-1), b_ih + b_hh)  # (N, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_new = torch.addcmul(f.sigmoid() * c, i.sigmoid(), g.tanh())
    return o.sigmoid() * c_new.tanh(), c_new
