"""Vietnamese first: the interface is Vietnamese unless the user picks English."""

from __future__ import annotations


class VietnameseByDefaultMiddleware:
    """Ignore the browser's Accept-Language so that an English-language browser (common on
    donated office PCs) still shows Vietnamese; the language switcher's cookie still wins.
    Put it just before django.middleware.locale.LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
