"""sklearn-ganomaly: GANomaly anomaly detection with a scikit-learn interface."""

from ._detector import PAPER_CONFIG, GANomalyDetector, load
from ._version import __version__

__all__ = ["PAPER_CONFIG", "GANomalyDetector", "__version__", "load"]
