"""Diagnosis built into every run: gradient flow, activation statistics, filters, histograms, the doctor."""

from trainlab.diagnose.callback import Diagnosis
from trainlab.diagnose.doctor import Finding, examine

__all__ = ["Diagnosis", "Finding", "examine"]
