"""The Mathematics question-answering task (registered as `seq2seq`)."""

from trainlab.tasks.seq2seq.task import Seq2SeqTask, teacher_forcing_ratio

__all__ = ["Seq2SeqTask", "teacher_forcing_ratio"]
