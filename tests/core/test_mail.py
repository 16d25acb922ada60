"""E-mail addresses are masked wherever they could reach a log; the stand-in sender logs, masked."""

from __future__ import annotations

import logging

import pytest

from core.mail import LogMailer, Mail, mask_email, mask_emails, valid_mailbox
from core.setting_values import SettingsError
from core.settings import Settings
from web.logs import JsonFormatter
from web.runtime import mailer


@pytest.mark.parametrize(("address", "masked"), [
    ("an.nguyen@example.vn", "a***@e***.vn"), ("b@mail.gov.vn", "b***@m***.gov.vn"),
    ("x+tag@sub.example.com", "x***@s***.example.com")])
def test_an_address_keeps_its_first_letters_only(address, masked):
    assert mask_email(address) == masked
    assert mask_emails(f"550 <{address}> refused") == f"550 <{masked}> refused"


def test_valid_mailboxes():
    assert valid_mailbox("ten@example.vn")
    assert not any(valid_mailbox(v) for v in ("", "ten", "ten@", "@example.vn", "a b@example.vn", "ten@localhost"))


def test_the_json_log_masks_an_address_that_slipped_through():
    record = logging.LogRecord("x", logging.INFO, "", 0, "sent to %s", ("an.nguyen@example.vn",), None)
    assert "an.nguyen@example.vn" not in JsonFormatter().format(record)


def test_without_a_relay_the_message_goes_to_the_log_masked(caplog):
    with caplog.at_level(logging.INFO, logger="core.mail"):
        LogMailer("no-reply@pay.test").send(Mail(to="an.nguyen@example.vn", subject="Biên lai", body="Số tiền"))
    [record] = caplog.records
    assert record.getMessage() == "mail not sent: no SMTP configured"
    assert record.mail_to == "a***@e***.vn"


def _settings(tmp_path, **values):
    return Settings.from_env({}, env="test", instance_path=str(tmp_path), secret_key="t" * 40, **values)


def test_smtp_settings_and_which_sender_they_give(tmp_path):
    assert type(mailer(_settings(tmp_path))).__name__ == "LogMailer"
    configured = _settings(tmp_path, smtp_host="smtp.example.gov.vn", smtp_port="465", smtp_password="pw",
                           smtp_from="Cổng <no-reply@pay.example.gov.vn>", reminder_days="1,7,7")
    assert (configured.smtp_port, configured.reminder_days) == (465, (7, 1))
    assert "pw" in configured.secret_values()
    assert type(mailer(configured)).__name__ == "SmtpMailer"
    for bad in ({"smtp_host": "smtp://x"}, {"smtp_from": "nobody"}, {"reminder_days": "0"}, {"reminder_days": "x"}):
        with pytest.raises(SettingsError):
            _settings(tmp_path, **bad)
