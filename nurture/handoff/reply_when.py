"""When the hand-raiser will hear from their rep, in the words of the auto-reply's language.

The sentence is written when the handoff is made (the auto-reply's snapshot), in the
lead's language through the app's gettext catalogue (docs/web.md#translations), and the day
by Babel, so a Polish auto-reply says "9 grudnia od 09:00", not "on Wednesday from 09:00".
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from nurture.platform.i18n import DEFAULT_LOCALE, best_locale, shipped_locales, translations


def when_text(now: datetime, opening: datetime | None, zone: str, locale: str | None) -> str:
    """``within the hour`` when the rep works now, ``today from 14:00 (Europe/Warsaw time)``
    later today, ``on Monday from 09:00 (…)`` on a later day, ``shortly`` when nobody knows
    (``opening`` None); in ``locale``'s language when it is shipped, English otherwise."""
    language = best_locale(locale, shipped_locales()) or DEFAULT_LOCALE
    catalogue = translations(language)
    if opening is None:
        return catalogue.gettext("shortly")
    if opening == now:
        return catalogue.gettext("within the hour")
    # How the day is written is the translator's choice too (a Babel date pattern): the
    # weekday reads well in English, the date in Polish ("9 grudnia").
    pattern = str(catalogue.pgettext("Babel date pattern: the day a rep calls back", "EEEE"))
    values = {
        "time": f"{opening:%H:%M}",
        "zone": zone,
        "day": format_date(opening, pattern, locale=language),
    }
    if opening.date() == now.astimezone(opening.tzinfo).date():
        return catalogue.gettext("today from %(time)s (%(zone)s time)") % values
    return catalogue.gettext("on %(day)s from %(time)s (%(zone)s time)") % values
