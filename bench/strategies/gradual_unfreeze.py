"""Gradual unfreezing (Howard & Ruder, ULMFiT 2018).

The head trains alone first; every ``evals_per_stage`` validation intervals
(``evals_per_stage * train.eval_every`` optimiser steps) one more backbone stage, from
the top down, joins: ULMFiT's one layer per epoch, with the validation interval as the
epoch, so every validation sees one more stage than the one before. Stages never
reached within ``train.max_steps`` stay frozen (and cached); early stopping waits until
the last stage has joined (``Strategy.settled_step``).
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
        "evals_per_stage": Param(1, "validation intervals (train.eval_every steps each) "
                                    "between unfreezing one more stage, last stage first",
                                 minimum=1),
        "backbone_lr_mult": Param(0.1, BACKBONE_LR_MULT, exclusive_minimum=0,
                                  search=log_uniform(0.01, 1.0)),
    }

    def frozen_stages(self, step: int) -> int:
        unfrozen = step // (int(self.params["evals_per_stage"]) * self.config.eval_every)
        return max(0, self.num_stages - unfrozen)
