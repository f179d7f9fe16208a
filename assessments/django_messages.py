"""Messages of Django's own that users of this application meet, and that Django's Vietnamese
catalogue leaves in English or words unclearly. They are listed here only so that
`makemessages` copies them into the project's catalogue (locale/), which Django reads before
its own; nothing imports this module.

- the short-password message (MinimumLengthValidator), left in English (Django 5.2 writes it
  with %d, its catalogue has the older %(min_length)d);
- a wrong e-mail address (EmailValidator), which Django's catalogue calls "Nhập địa chỉ email.",
  as if the field were empty;
- the username hint (AbstractUser.username), which starts with a bare "Yêu cầu.".
"""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        12,
    ),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
]
