import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits_images():
    """scikit-learn's 8x8 digits as (n, 8, 8) images with 0-16 pixel values."""
    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8), y


@pytest.fixture(scope="session")
def blobs():
    rng = np.random.RandomState(0)
    return rng.normal(size=(120, 5))
