"""Writing a figure to an image file: the path checked before anything is drawn, one line if it fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rig.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def write_figure(path: str | Path, draw: Callable[[], Figure], *, dpi: int = 120) -> Path:
    """Draw (``draw``) and save the figure to ``path``, an image type matplotlib writes; return the path.

    A missing directory or an unknown image type is refused before drawing (a mistyped path fails at
    once, not after the work); every refusal is :class:`rig.errors.InputError`, one line.
    """
    out = Path(path)
    if not out.parent.is_dir():
        raise InputError(f"cannot write {out}: no directory {out.parent}")
    from matplotlib.figure import Figure

    suffix = out.suffix.lower().lstrip(".")
    if suffix and suffix not in Figure().canvas.get_supported_filetypes():
        raise InputError(f"cannot write {out}: unknown image type .{suffix} (use .png)")
    fig = draw()
    try:
        fig.savefig(out, dpi=dpi)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out
