from typing import get_args

import pytest

from trainlab.config import describe_options, load_config
from trainlab.config.models import ModelOptions
from trainlab.config.schema import LossConfig, OptimConfig, SchedConfig
from trainlab.errors import ConfigError


def test_defaults_are_valid_and_overrides_are_typed():
    cfg = load_config(None, ["optim.lr=0.01", "model.hidden=[256,128]", "train.epochs=5", "data.augment.flip=true"])
    assert cfg.optim.lr == 0.01 and cfg.model.hidden == [256, 128]
    assert cfg.train.epochs == 5 and cfg.data.augment.flip is True
    assert load_config().data.name == "digits"


def test_yaml_file_then_overrides(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  name: convnet\n  filters: [8]\noptim:\n  lr: 0.5\n")
    cfg = load_config(f, ["optim.lr=0.1"])
    assert cfg.model.name == "convnet" and cfg.model.filters == [8] and cfg.optim.lr == 0.1


@pytest.mark.parametrize(("override", "needle"), [
    ("train.epoch=3", "did you mean 'train.epochs'"),
    ("model.hiden=[3]", "did you mean 'model.hidden'"),
    ("model.name=mpl", "did you mean 'mlp'"),
    ("data.augment.flp=true", "did you mean 'data.augment.flip'"),
    ("optim.lr=-1", "optim.lr"),
    ("train.device=gpu", "train.device"),
    ("optim.name=adamm", "optim.name"),
    ("nonsense", "key=value"),
])
def test_bad_keys_and_values_name_the_problem(override, needle):
    with pytest.raises(ConfigError) as e:
        load_config(None, [override])
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_changing_model_family_drops_the_old_family_options(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  name: mlp\n  hidden: [4]\n")
    assert load_config(f, ["model.name=linear"]).model.name == "linear"


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_every_option_is_described():
    rows = describe_options()
    keys = {k for k, _, _ in rows}
    assert {"optim.lr", "train.epochs", "data.augment.crop_padding", "model[mlp].hidden"} <= keys
    missing = [k for k, _, d in rows if not d]
    assert not missing, f"options without a description: {missing}"


def _literal(model, field):
    """The values of a Literal field (None among them for `Literal[...] | None`)."""
    args = get_args(model.model_fields[field].annotation)
    return {v for a in args for v in (get_args(a) or [None])} if type(None) in args else set(args)


def test_config_choices_match_the_registries():
    from trainlab.data import DATASETS
    from trainlab.engine.optim import LOSSES, OPTIMIZERS, SCHEDULES
    from trainlab.models import MODELS
    from trainlab.tasks import TASKS

    assert _literal(OptimConfig, "name") == set(OPTIMIZERS.names())
    assert _literal(SchedConfig, "name") == set(SCHEDULES.names())
    assert _literal(LossConfig, "name") == set(LOSSES.names()) | {None}  # None: the task's default
    from trainlab.config.tasks import TaskOptions

    task_tags = {cls.model_fields["name"].default for cls in get_args(get_args(TaskOptions)[0])}
    assert task_tags == set(TASKS.names())
    from trainlab.config.schema import DataConfig

    # math and text are read by the sequence tasks themselves, not by the classification registry
    assert _literal(DataConfig, "name") == set(DATASETS.names()) | {"math", "text"}
    tags = {cls.model_fields["name"].default for cls in get_args(get_args(ModelOptions)[0])}
    assert tags == set(MODELS.names())


def test_yes_no_on_off_stay_strings_and_only_true_false_are_booleans(tmp_path):
    """YAML 1.2 booleans in files and overrides: a CSV column named `yes` is a name, not True."""
    cfg = load_config(None, ["data.target=yes", "train.quiet=true", "diagnose.enabled=False"])
    assert cfg.data.target == "yes" and cfg.train.quiet is True and cfg.diagnose.enabled is False
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  target: [no, off, y]\n")
    assert load_config(path).data.target == ["no", "off", "y"]
