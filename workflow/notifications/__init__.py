"""Notifications: telling people when work reaches them, in the app and by e-mail.

- ``messages``: what a notification says, in Traditional Chinese or English (a stored ``message``
  is its kind and parameters, rendered in the reader's language wherever it is shown or sent);
- ``handoffs``: when a transition hands a case to someone (submitted to them, returned, approved
  onward, filed, sent back by the city, a publication failed), who is told (delegates too, for the
  person they act for), once, from the transition's outbox message;
- ``mail``: the e-mail copies, each as it comes or as a daily digest, in each person's language;
- ``preferences``: each person's choice (immediate e-mail, a daily digest or none; the language).

Deadline reminders (``workflow.calendar.reminders``) are notifications too, and go out the same way.
Floor: above ``cases`` (reads its outbox topic), below nothing but ``calendar`` and ``views``.
"""
