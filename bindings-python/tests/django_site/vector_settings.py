"""The Django project for the shared endpoint vectors: every path is answered by the app
(with `app`), the middleware's settings from `VECTOR_SETTINGS` (JSON)."""

import json
import os

from django_site.settings import *  # noqa: F401,F403

ROOT_URLCONF = "django_site.vector_urls"
GDS_METRICS = json.loads(os.environ["VECTOR_SETTINGS"])
