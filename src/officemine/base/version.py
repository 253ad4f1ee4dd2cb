"""officemine's version, at the base so that any module can name it (provenance, footers,
the ledger) without importing the package's public face, which imports everything."""

__version__ = "0.1.0"
