"""Fast training and training states (the DTB table format)."""

from trainfree.training.fast import STATE_COLUMNS, TrainConfig, fast_train_steps, train_arch

__all__ = ["STATE_COLUMNS", "TrainConfig", "fast_train_steps", "train_arch"]
