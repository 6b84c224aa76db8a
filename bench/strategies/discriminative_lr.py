"""Discriminative learning rates (Howard & Ruder, ULMFiT 2018).

Everything trains; the learning rate decays by ``stage_decay`` per stage from the head
down to the stem: stage i of n gets ``lr * stage_decay ** (n - i)``.
"""

from bench.strategies.base import Param, Strategy, log_uniform, register


@register
class DiscriminativeLR(Strategy):
    name = "discriminative_lr"
    label = "Discriminative LR"
    colour = "#CC79A7"
    order = 60
    settings = {"stage_decay": Param(0.6, "each earlier stage's learning rate = the next "
                                          "stage's x this", exclusive_minimum=0, maximum=1,
                                     search=log_uniform(0.3, 1.0))}

    def stage_lr_multiplier(self, stage: int) -> float:
        return float(self.params["stage_decay"]) ** (self.num_stages - stage)
