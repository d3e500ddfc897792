# The licence texts elutq's figures calibrate on, shared by the scripts that make models: never
# GPL or LGPL, which are the evaluation texts. Source it; it sets `licenses` (their folder) and
# `calibration_licenses` (their names, Apache-2.0 and GFDL-1.3 first).
licenses=/usr/share/common-licenses
calibration_licenses=(Apache-2.0 GFDL-1.3 MPL-2.0 MPL-1.1 Artistic CC0-1.0 BSD)
