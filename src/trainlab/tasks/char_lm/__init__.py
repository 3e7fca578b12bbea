"""The character language-model task (registered as `char_lm`)."""

from trainlab.tasks.char_lm.task import CharLMTask

__all__ = ["CharLMTask"]
