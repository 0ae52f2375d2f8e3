"""Siaga: event-driven disaster-response logistics for Kemensos.

This package holds the process plumbing shared by the import packages
(`streams`, `api`, `geo`, `logistics`): settings, the event catalogue on the
wire, the embedded local services and the `siaga` command line.
"""

__version__ = "0.1.0"
