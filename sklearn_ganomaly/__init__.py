"""sklearn-ganomaly: GANomaly anomaly detection with a scikit-learn interface."""

from ._detector import GANomalyDetector

__version__ = "0.1.0"

__all__ = ["GANomalyDetector", "__version__"]
