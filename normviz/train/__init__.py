"""Training a small CNN in numpy with any normalization: layers, the model, the data, the loop.

Pure numpy; knows nothing of the page. ``normviz.ui.training_tab`` draws it.
"""

from .data import TASKS, Dataset, make_dataset
from .loop import Cancelled, PlannedRun, RunResult, TrainSettings, plan, train_run
from .model import SGD, Model, NormChoice, init_weights
from .shared import TrainingService

__all__ = [
    "SGD",
    "TASKS",
    "Cancelled",
    "Dataset",
    "Model",
    "NormChoice",
    "PlannedRun",
    "RunResult",
    "TrainSettings",
    "TrainingService",
    "init_weights",
    "make_dataset",
    "plan",
    "train_run",
]
