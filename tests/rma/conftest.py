"""Unboxing photos uploaded by this package's tests go to a temporary directory, not var/uploads."""

import os
import tempfile

os.environ.setdefault("SHOUHOU_UPLOAD_DIR", tempfile.mkdtemp(prefix="shouhou-uploads-"))
