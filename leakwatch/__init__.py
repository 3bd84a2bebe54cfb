"""leakwatch: where a sales department loses money, live."""

__version__ = "0.1.0"
