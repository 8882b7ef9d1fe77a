"""BHXH eligibility gateway simulator: ``cccd-sim gateway`` (a real HTTP server process).

:mod:`simulators.gateway.server` has the endpoints, the faults and why the standard
library's server; :mod:`simulators.gateway.data` the insured people and result codes;
:mod:`simulators.gateway.fhir` the FHIR R4 request and response shapes.
"""
