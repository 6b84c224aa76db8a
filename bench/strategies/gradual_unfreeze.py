"""Gradual unfreezing (Howard & Ruder, ULMFiT 2018).

The head trains alone first; every ``epochs_per_stage`` epochs one more backbone stage,
from the top down, joins. Stages never reached within the epoch budget stay frozen
(and cached).
"""

from bench.strategies.base import Strategy, register


@register
class GradualUnfreeze(Strategy):
    name = "gradual_unfreeze"
    defaults = {"epochs_per_stage": 1, "backbone_lr_mult": 0.1}

    def frozen_stages(self, epoch: int) -> int:
        unfrozen = epoch // int(self.params["epochs_per_stage"])
        return max(0, self.num_stages - unfrozen)
