"""fedcl-lint: finds senders and receivers that disagree on the messaging mechanism."""

__version__ = "0.1.0"
