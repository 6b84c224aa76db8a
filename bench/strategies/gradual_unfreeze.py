"""Gradual unfreezing (Howard & Ruder, ULMFiT 2018).

The head trains alone first; every ``epochs_per_stage`` epochs one more backbone stage,
from the top down, joins. Stages never reached within the epoch budget stay frozen
(and cached).
"""

from bench.strategies.base import Param, Strategy, log_uniform, register
from bench.strategies.partial import BACKBONE_LR_MULT


@register
class GradualUnfreeze(Strategy):
    name = "gradual_unfreeze"
    label = "Gradual unfreezing"
    colour = "#009E73"
    order = 50
    settings = {
        "epochs_per_stage": Param(1, "epochs between unfreezing one more stage, last stage "
                                     "first", minimum=1),
        "backbone_lr_mult": Param(0.1, BACKBONE_LR_MULT, exclusive_minimum=0,
                                  search=log_uniform(0.01, 1.0)),
    }

    def frozen_stages(self, epoch: int) -> int:
        unfrozen = epoch // int(self.params["epochs_per_stage"])
        return max(0, self.num_stages - unfrozen)
