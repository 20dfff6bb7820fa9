"""sklearn-ganomaly: GANomaly anomaly detection with a scikit-learn interface."""

from ._detector import GANomalyDetector
from ._persistence import load

__version__ = "0.1.0"

__all__ = ["GANomalyDetector", "__version__", "load"]
