"""Reading the forms of a page, for tests that walk the gateway over HTTP as a browser would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

#: The heading of a logged-in citizen's bills: where a finished login lands.
MY_BILLS = "Khoản phải nộp của tôi"


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)

    def submit_with(self, text: str) -> dict[str, str]:
        """The fields sent when the button whose text contains ``text`` is pressed."""
        for name, value, label in self.buttons:
            if text in label:
                return {**self.fields, **({name: value} if name else {})}
        raise AssertionError(f"no button {text!r} in the form to {self.action}")


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(Form(attrs.get("action") or ""))
        elif tag == "input" and self.forms and attrs.get("name") and _sent(attrs):
            self.forms[-1].fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "button" and self.forms:
            self._button = [attrs.get("name") or "", attrs.get("value") or "", ""]

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[-1].buttons.append((self._button[0], self._button[1], self._button[2].strip()))
            self._button = None


def _sent(attrs: dict) -> bool:
    """A browser sends a radio button or a checkbox only when it is checked (the bill page's payment methods)."""
    return attrs.get("type") not in ("radio", "checkbox") or "checked" in attrs


def forms(page: str) -> list[Form]:
    """Every form of ``page`` with its inputs and buttons."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def form_with_button(page: str, text: str) -> tuple[Form, dict[str, str]]:
    """The form holding the button labelled ``text``, and what pressing it sends."""
    for form in forms(page):
        if any(text in label for _, _, label in form.buttons):
            return form, form.submit_with(text)
    raise AssertionError(f"no button {text!r} on the page")


def log_in_at_stand_in(send: Callable, base: str, name: str) -> bool:
    """One login of citizen ``name`` at the bundled e-ID stand-in, as a browser does it: open "my bills", choose
    the citizen, consent when asked. ``send(method, url, **options)`` returns a ``requests`` response (and
    follows redirects). True when the login ended on the citizen's bills."""
    page = send("GET", base + "/bills/")
    if page.status_code == 200 and MY_BILLS in page.text:
        return True
    try:
        form, sent = form_with_button(page.text, name)
    except AssertionError:
        return False
    page = send("POST", urljoin(page.url, form.action), data=sent)
    consent = [f for f in forms(page.text) if "consent" in f.action]
    if consent:
        page = send("POST", urljoin(page.url, consent[0].action), data=consent[0].submit_with("Tôi đồng ý"))
    return page.status_code == 200 and MY_BILLS in page.text
