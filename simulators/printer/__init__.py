"""A stand-in ESC/POS thermal printer: ``python -m simulators.printer.escpos`` or in-process.

:mod:`simulators.printer.escpos` parses what a receipt printer receives (raster images,
native QR, cuts, real-time status) and turns each cut page into an image, so the demo can
show the last printed ticket and the tests can decode it.
"""
