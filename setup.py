"""Build declaration for the compiled decay-rate core; all metadata lives in pyproject.toml."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# -O3 but never -ffast-math: the fits rely on exact IEEE subtraction (Sterbenz) and on NaN tests.
if sys.platform == "win32":
    COMPILE_ARGS = ["/O2"]
else:
    COMPILE_ARGS = ["-O3", "-fno-fast-math"]

EXTENSIONS = [
    Extension(f"rig.{name}", [f"ext/{name}.pyx"], include_dirs=["ext"], extra_compile_args=COMPILE_ARGS)
    for name in ("_linfit", "_sliding", "_stream")
]

setup(
    ext_modules=cythonize(
        EXTENSIONS,
        include_path=["ext"],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "nonecheck": False,
            "embedsignature": True,
        },
    ),
)
