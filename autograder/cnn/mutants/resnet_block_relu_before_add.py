# MUTANT: resnet_block
# WHY: applies the second ReLU to the residual branch before adding the shortcut instead of after.
# %%
# GRADED: resnet_block
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), H_out = (H - 1) // stride + 1.
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:  # the shape changes: project the shortcut
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))  # (N, C_out, H_out, W_out)
        out = F.relu(self.bn2(self.conv2(out)))
        return out + self.shortcut(x)
