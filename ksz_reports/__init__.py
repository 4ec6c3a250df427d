"""ksz_reports — per-municipality social-policy reports from KSZ DWH AM&SB and POD MI exports."""

__version__ = "0.1.0"
