"""The version of this distribution (wasmtime-native), read by the build too."""

__version__ = "0.1.0"
