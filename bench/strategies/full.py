"""Full fine-tuning: every weight from pretrained; the backbone at ``backbone_lr_mult`` x lr."""

from bench.strategies.base import Strategy, register


@register
class Full(Strategy):
    name = "full"
    defaults = {"backbone_lr_mult": 0.1}
