import warnings

import numpy as np
import pytest

warnings.filterwarnings("ignore", module="pymatgen")
warnings.filterwarnings("ignore", module="pyxtal")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
