"""placeholder"""

from django.http import HttpResponse


def index(request, **kwargs):
    return HttpResponse("")


register = registration = choices = appeal = bureau = allocate = figures = appeals = roster = index
