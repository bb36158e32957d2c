import time

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path


def index(request):
    return HttpResponse("hello")


def user(request, user_id):
    return HttpResponse(f"user {user_id}")


def boom(request):
    raise ZeroDivisionError("broken")


def chunks():
    for _ in range(3):
        time.sleep(0.1)
        yield b"chunk "


def stream(request):
    return StreamingHttpResponse(chunks())


urlpatterns = [
    path("", index),
    path("users/<int:user_id>", user),
    path("boom", boom),
    path("stream", stream),
]
