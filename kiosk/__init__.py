"""cccd-kiosk core: ICAO 9303 reading stack, access keys, eligibility, check-in pipeline, CLI."""

__version__ = "0.1.0"
