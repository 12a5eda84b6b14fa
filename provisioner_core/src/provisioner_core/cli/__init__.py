"""The ``provision`` command line (click)."""
