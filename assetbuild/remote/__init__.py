"""Installs into object storage (S3 and S3-compatible stores) or a directory used like one."""
