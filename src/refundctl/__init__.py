"""refundctl: a buyer's own ledger of refund disputes, with every marketplace deadline."""

__version__ = "0.1.0"
