"""Skills Hub: micro-credential catalogue with Open Badges 3.0 issuing and verification."""

__version__ = "0.1.0"
