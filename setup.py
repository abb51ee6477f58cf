"""Build the C extension ``wasmtime._ext`` against the pinned Wasmtime.

tools/wasmtime_dist.py provides ``_libwasmtime.so`` (from the official,
hash-pinned wheel) and the C headers (shipped in an sdist, otherwise fetched
once into a cache); the extension links to the library by file name with
RUNPATH exactly ``$ORIGIN``, and the library is copied next to it inside the
package.  Each step prints what it does and how long it took (``pip install
-v`` shows it; pip hides a build's output otherwise).

``WASMTIME_NATIVE_SANITIZE=1`` builds with AddressSanitizer and UBSan.
"""

import glob
import os
import shutil
import sys
import time

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tools"))
import wasmtime_dist  # noqa: E402

SANITIZE = os.environ.get("WASMTIME_NATIVE_SANITIZE", "") not in ("", "0")


def _log(msg):
    print("wasmtime-native: " + msg, file=sys.stderr, flush=True)


class BuildExt(build_ext):
    def run(self):
        include, lib = wasmtime_dist.ensure()
        self._wasmtime_lib = lib
        for ext in self.extensions:
            ext.include_dirs.append(include)
            ext.library_dirs.append(os.path.dirname(lib))
        start = time.monotonic()
        super().run()
        _log("extension ready in %.1f s" % (time.monotonic() - start))
        # Ship the engine beside the extension (found through RUNPATH $ORIGIN).
        for ext in self.extensions:
            target_dir = os.path.dirname(self.get_ext_fullpath(ext.name))
            os.makedirs(target_dir, exist_ok=True)
            shutil.copyfile(lib, os.path.join(target_dir, "_libwasmtime.so"))

    def build_extensions(self):
        # The interpreter's own link line may carry -Wl,-rpath,<its lib dir>
        # (pyenv builds do); the only search path we want is $ORIGIN.
        self.compiler.linker_so = [
            arg
            for arg in self.compiler.linker_so
            if not arg.startswith(("-Wl,-rpath,", "-Wl,-R", "-Wl,--rpath"))
        ]
        for ext in self.extensions:
            _log(
                "building %s from %d C files with %s%s (skipped when up to date)"
                % (
                    ext.name,
                    len(ext.sources),
                    self.compiler.compiler_so[0],
                    ", ASan+UBSan" if SANITIZE else "",
                )
            )
        super().build_extensions()


class SDist(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        # The prepared headers (with the generated conf.h) travel in the sdist,
        # so that building from it needs neither cargo nor cmake.
        wasmtime_dist.vendor_headers(base_dir)


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
    cmdclass={"build_ext": BuildExt, "sdist": SDist},
    # Sanitizer objects live in their own tree so the two builds never mix.
    options={"build": {"build_base": "build/asan" if SANITIZE else "build/release"}},
)
