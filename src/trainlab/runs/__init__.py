"""Run directories: layout, lock, text files. Pure Python, shared by both engines."""

from trainlab.runs.files import MetricsCSV, read_json, read_yaml, write_json, write_yaml
from trainlab.runs.layout import RunDir
from trainlab.runs.lock import RunLock

__all__ = ["MetricsCSV", "RunDir", "RunLock", "read_json", "read_yaml", "write_json", "write_yaml"]
