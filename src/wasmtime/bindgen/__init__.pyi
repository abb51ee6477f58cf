import types
from typing import List, Optional

from ..component import Component
from ._runtime import Err as Err
from ._runtime import Ok as Ok
from ._runtime import Result as Result
from ._runtime import Some as Some

__all__ = ["Ok", "Err", "Some", "Result", "generate", "bind", "main"]

def generate(component: Component, title: str = ...) -> str: ...
def bind(component: Component, name: str = ...) -> types.ModuleType: ...
def main(argv: Optional[List[str]] = ...) -> int: ...
