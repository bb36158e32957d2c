"""A minimal Django project for the middleware's tests (Django's test client and gunicorn)."""

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_site.urls"
MIDDLEWARE = ["gds_metrics.django.GDSMetricsMiddleware"]
INSTALLED_APPS = []
DATABASES = {}
USE_TZ = True
