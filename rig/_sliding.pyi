"""Type stubs of the compiled sliding-window slopes (ext/_sliding.pyx)."""

import numpy as np
import numpy.typing as npt

_Array = npt.NDArray[np.float64]

def sliding_slopes(t: _Array, y: _Array, window: int, out: _Array | None = None) -> _Array: ...
def sliding_slopes_compensated(
    t: _Array, p: _Array, temperature: _Array, t_ref: float, window: int, out: _Array | None = None
) -> _Array: ...
