"""Partial fine-tuning: the last ``trainable_stages`` backbone stages and a new head."""

from bench.settings import ConfigError
from bench.strategies.base import Strategy, register


@register
class Partial(Strategy):
    name = "partial"
    defaults = {"trainable_stages": 2, "backbone_lr_mult": 1.0}

    def __init__(self, config, backbone, num_classes):
        super().__init__(config, backbone, num_classes)
        k = self.params["trainable_stages"]
        if not isinstance(k, int) or not 0 <= k <= self.num_stages:
            raise ConfigError(
                f"`strategy_params.{self.name}.trainable_stages` must be an integer from 0 to "
                f"{self.num_stages} (the stages of {config.backbone}: "
                f"{', '.join(backbone.stage_names)}), got {k!r}")

    def frozen_stages(self, epoch: int) -> int:
        return self.num_stages - self.params["trainable_stages"]
