"""Autoencoder: images reconstructed through a conv encoder (the classifier's) and a mirrored decoder."""

from trainlab.tasks.autoencoder.task import AutoencoderTask

__all__ = ["AutoencoderTask"]
