# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o]."""
    h, c = state
    gates = x.matmul(W_ih.t()) + h.matmul(W_hh.t()) + (b_ih + b_hh)
    in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, dim=1)
    c = forget_gate.sigmoid() * c + in_gate.sigmoid() * cell_gate.tanh()
    h = out_gate.sigmoid() * c.tanh()
    return h, c
