"""HTTP API (Starlette) and the `tuco` operator command line."""
