"""Discriminative learning rates (Howard & Ruder, ULMFiT 2018).

Everything trains; the learning rate decays by ``stage_decay`` per stage from the head
down to the stem: stage i of n gets ``lr * stage_decay ** (n - i)``.
"""

from bench.settings import ConfigError
from bench.strategies.base import Strategy, register


@register
class DiscriminativeLR(Strategy):
    name = "discriminative_lr"
    defaults = {"stage_decay": 0.6}

    @classmethod
    def check(cls, config):
        super().check(config)
        decay = config.params.get("stage_decay", cls.defaults["stage_decay"])
        if not 0 < decay <= 1:
            raise ConfigError(f"`strategy_params.{cls.name}.stage_decay` must be in (0, 1], "
                              f"got {decay!r}")

    def stage_lr_multiplier(self, stage: int) -> float:
        return float(self.params["stage_decay"]) ** (self.num_stages - stage)
