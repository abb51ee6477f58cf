"""Build the C extension ``wasmtime._ext`` against the pinned Wasmtime.

tools/wasmtime_dist.py fills the cache with ``_libwasmtime.so`` and the C
headers; the extension links to the library by file name with rpath
``$ORIGIN``, and the library is copied next to it inside the package.

``WASMTIME_NATIVE_SANITIZE=1`` builds with AddressSanitizer and UBSan.
"""

import glob
import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tools"))
import wasmtime_dist  # noqa: E402

SANITIZE = os.environ.get("WASMTIME_NATIVE_SANITIZE", "") not in ("", "0")


class BuildExt(build_ext):
    def run(self):
        include, lib = wasmtime_dist.ensure()
        for ext in self.extensions:
            ext.include_dirs.append(include)
            ext.library_dirs.append(os.path.dirname(lib))
        super().run()
        # Ship the engine beside the extension (found through rpath $ORIGIN).
        for ext in self.extensions:
            target_dir = os.path.dirname(self.get_ext_fullpath(ext.name))
            os.makedirs(target_dir, exist_ok=True)
            shutil.copyfile(lib, os.path.join(target_dir, "_libwasmtime.so"))


cflags = [
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fvisibility=hidden",
    "-Wno-missing-field-initializers",
    "-Wno-cast-function-type",
]
ldflags = ["-Wl,-rpath,$ORIGIN"]
if SANITIZE:
    san = [
        "-fsanitize=address,undefined",
        "-fno-omit-frame-pointer",
        "-fno-sanitize-recover=undefined",
        "-g",
        "-O1",
    ]
    cflags += san
    ldflags += san
else:
    cflags += ["-O2"]

sources = sorted(glob.glob("src/ext/*.c") + glob.glob("src/ext/*/*.c"))

setup(
    ext_modules=[
        Extension(
            "wasmtime._ext",
            sources=sources,
            depends=glob.glob("src/ext/*.h") + glob.glob("src/ext/*/*.h"),
            include_dirs=["src/ext"],
            libraries=[":_libwasmtime.so"],
            extra_compile_args=cflags,
            extra_link_args=ldflags,
        )
    ],
    cmdclass={"build_ext": BuildExt},
    # Sanitizer objects live in their own tree so the two builds never mix.
    options={"build": {"build_base": "build/asan" if SANITIZE else "build/release"}},
)
