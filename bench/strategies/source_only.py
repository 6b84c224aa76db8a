"""Source only: DAN without its MK-MMD term, the ablation that credits DAN's gain.

DAN's exact network (bottleneck included), frozen and trainable stages, learning-rate
multipliers and batches — the other domain's batch still goes through the network with
the labelled one, so BatchNorm sees the same pooled batches — trained on the
classification loss alone (``mmd_weight`` = 0): DomainBed's ERM row and TLlib's "source
only" for the DAN architecture. DAN − source only, paired by seed, is then the gain of
the MMD term alone (tables/dan_gain). The MMD between the domains is still measured and
recorded, so the two strategies' domain discrepancy compares too.
"""

from bench.strategies.base import register
from bench.strategies.dan import DAN


@register
class SourceOnly(DAN):
    name = "source_only"
    label = "Source only"
    colour = "#000000"  # Okabe-Ito's black: scratch has the grey
    order = 35  # beside DAN, which it ablates
    needs_shared_labels = False  # no MK-MMD term: the same thing on every pair
    settings = {key: param for key, param in DAN.settings.items() if key != "mmd_weight"}

    def loss(self, x, y, other, applied):
        ce, mmd = self.losses(x, y, other, applied)
        return ce, {"mmd": mmd.detach()}  # not in the loss: no gradient flows through it
