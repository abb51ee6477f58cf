"""python -m wasmtime.bindgen COMPONENT.wasm --out-dir DIR [--name PKG]"""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
