from django.http import HttpResponse
from django.urls import re_path


def app(request):
    return HttpResponse(b"app", content_type="text/plain")


urlpatterns = [re_path(r"", app)]
