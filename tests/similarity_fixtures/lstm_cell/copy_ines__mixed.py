# GRADED: lstm_cell
import torch


def _affine(inp, weight, bias):
    out = torch.matmul(inp, weight.T)
    return out + bias


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """LSTM step (gate order i, f, g, o)."""
    prev_h, prev_c = state
    hid = prev_h.shape[1]
    pre = _affine(x, W_ih, b_ih) + _affine(prev_h, W_hh, b_hh)
    cand = torch.tanh(pre[:, 2 * hid:3 * hid])
    sig = torch.sigmoid(torch.cat((pre[:, :2 * hid], pre[:, 3 * hid:]), dim=1))
    out_gate = sig[:, 2 * hid:]
    forget_gate = sig[:, hid:2 * hid]
    in_gate = sig[:, :hid]
    cell = forget_gate * prev_c + in_gate * cand
    return out_gate * torch.tanh(cell), cell
