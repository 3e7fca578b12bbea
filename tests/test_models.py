import pytest
import torch

from trainlab.config import load_config
from trainlab.errors import ConfigError
from trainlab.models import build_model, count_params


@pytest.mark.parametrize("overrides", [
    ["model.name=linear"], ["model.name=mlp", "model.activation=gelu", "model.batch_norm=true", "model.dropout=0.1"],
    ["model.name=convnet"], ["model.name=pyramid_cnn"], ["model.name=pyramid_cnn", "model.downsample=stride"],
    ["model.name=resnet", "model.depth=20"],
])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_models_map_inputs_to_class_logits(overrides, shape):
    model = build_model(load_config(None, overrides).model, shape, 7)
    out = model(torch.randn(4, *shape))
    assert out.shape == (4, 7)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(("depth", "params"), [(20, 0.27e6), (56, 0.85e6)])
def test_cifar_resnet_sizes_match_the_paper(depth, params):
    model = build_model(load_config(None, ["model.name=resnet", f"model.depth={depth}"]).model, (3, 32, 32), 10)
    assert abs(count_params(model) - params) / params < 0.05
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == depth  # 6n+2: the 3x3 convs plus the classifier


def test_resnet18_has_eleven_million_parameters():
    model = build_model(load_config(None, ["model.name=resnet", "model.depth=18"]).model, (3, 32, 32), 10)
    assert 11.0e6 < count_params(model) < 11.3e6


def test_pyramid_widths_double_per_block():
    cfg = load_config(None, ["model.name=pyramid_cnn", "model.conv_blocks=3", "model.initial_channels=8"]).model
    model = build_model(cfg, (1, 28, 28), 10)
    widths = sorted({m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)})
    assert widths == [8, 16, 32]


def test_conv_models_refuse_flat_input():
    with pytest.raises(ConfigError, match="image input"):
        build_model(load_config(None, ["model.name=convnet"]).model, (2,), 2)
