"""sklearn-ganomaly: GANomaly anomaly detection with a scikit-learn interface."""

from ._detector import PAPER_CONFIG, GANomalyDetector
from ._persistence import load

__version__ = "0.1.0"

__all__ = ["PAPER_CONFIG", "GANomalyDetector", "__version__", "load"]
