"""Train from scratch: the same architecture and budget, random initialisation.

The baseline that defines negative transfer: NTG = err(transfer) - err(scratch).
"""

from bench.strategies.base import Strategy, register


@register
class Scratch(Strategy):
    name = "scratch"
    label = "Scratch"
    colour = "#999999"
    order = 0
    pretrained = False
