"""Full fine-tuning: every weight from pretrained; the backbone at ``backbone_lr_mult`` x lr."""

from bench.strategies.base import Param, Strategy, log_uniform, register
from bench.strategies.partial import BACKBONE_LR_MULT


@register
class Full(Strategy):
    name = "full"
    label = "Full FT"
    colour = "#0072B2"
    order = 30
    settings = {"backbone_lr_mult": Param(0.1, BACKBONE_LR_MULT, exclusive_minimum=0,
                                          search=log_uniform(0.01, 1.0))}
