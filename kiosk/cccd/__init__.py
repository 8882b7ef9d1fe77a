"""The Vietnamese card rules: CCCD QR, ID number → CAN, expiry candidates from the renewal
rule, the CCCD MRZ, the holder record from DG13/DG1, and the BHYT (health-insurance) card QR.

Built on :mod:`kiosk.emrtd` (the ICAO 9303 library), which knows nothing of Viet Nam.
"""
