"""Secrets hidden in every encoding: in log records of any library, and in recorded traffic
where a secret travels inside base64 (PowerShell's -EncodedCommand, WinRM output streams)."""

from __future__ import annotations

import base64
import logging

import pytest
from vcr.request import Request

from pytest_imagebuild.communicators.winrm import powershell_command
from pytest_imagebuild.recording.base64_blobs import scrub_base64
from pytest_imagebuild.recording.match import body_difference
from pytest_imagebuild.recording.placeholders import SecretBook
from pytest_imagebuild.secrets import SENSITIVE_MARK, encoded_forms, hide_in_logs, mask

SECRET = "Corr3ct-Horse-Battery"
PLACEHOLDER = "scrubbed-app_secret"


def _logged(caplog: pytest.LogCaptureFixture, *args: object) -> str:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="vcr.cassette"):
        logging.getLogger("vcr.cassette").info(*args)
    return caplog.text


@pytest.mark.parametrize("prefix", ["", "a", "ab"])  # the three base64 alignments
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_a_log_record_never_shows_a_secret_base64_encoded(
    caplog: pytest.LogCaptureFixture, prefix: str, encoding: str
) -> None:
    hide_in_logs(SECRET)
    blob = base64.b64encode(f"{prefix}$env:X='{SECRET}'; done".encode(encoding)).decode()
    text = _logged(caplog, "Appending request %s and response %s", {"body": blob}, "ok")
    assert "Appending request" in text
    assert SENSITIVE_MARK in text
    assert not [form for form in encoded_forms(SECRET) if form in text], text


def test_a_log_record_masks_raw_and_url_encoded_secrets_in_its_args(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hide_in_logs("p@ss word/with+signs")
    text = _logged(caplog, "GET %s?%s", "https://h/x", "secret=p%40ss+word%2Fwith%2Bsigns")
    assert "p%40ss" not in text and SENSITIVE_MARK in text
    text = _logged(caplog, "plain %s", "p@ss word/with+signs")
    assert "p@ss" not in text


def test_the_powershell_command_of_a_secret_is_masked_on_the_terminal() -> None:
    command = powershell_command(f"$env:X='{SECRET}'")
    masked = mask(command, {SECRET})
    assert SENSITIVE_MARK in masked
    assert not [form for form in encoded_forms(SECRET) if form in masked]


def test_an_encoded_command_is_recorded_with_the_placeholder_and_still_decodes() -> None:
    book = SecretBook(named={"app_secret": SECRET})
    script = f"$env:APP_SECRET='{SECRET}'\nWrite-Output $env:APP_SECRET"
    body = (
        '<s:Envelope><s:Body><rsp:CommandLine><rsp:Command>cmd</rsp:Command><rsp:Arguments>'
        f"/c {powershell_command(script)}</rsp:Arguments></rsp:CommandLine></s:Body></s:Envelope>"
    )
    scrubbed = book.scrub(body)
    assert not [form for form in encoded_forms(SECRET) if form in scrubbed]
    # What a replay sends (the template rendered with the placeholder) is what was recorded.
    assert scrubbed == body.replace(
        powershell_command(script), powershell_command(script.replace(SECRET, PLACEHOLDER))
    )


def test_command_output_streams_are_recorded_with_the_placeholder() -> None:
    book = SecretBook(named={"app_secret": SECRET})
    stream = base64.b64encode(f"secret is {SECRET}\r\n".encode()).decode()
    body = f'<rsp:Stream Name="stdout" CommandId="1">{stream}</rsp:Stream>'
    scrubbed = book.scrub(body)
    decoded = scrubbed.split(">")[1].split("<")[0]
    assert base64.b64decode(decoded) == f"secret is {PLACEHOLDER}\r\n".encode()


def test_a_blob_after_an_equals_sign_is_scrubbed_too() -> None:
    blob = base64.b64encode(f"user:{SECRET}".encode()).decode()
    scrubbed = scrub_base64(f"data={blob}&next=1", {SECRET: PLACEHOLDER})
    value = scrubbed.split("=", 1)[1].split("&")[0]
    assert base64.b64decode(value) == f"user:{PLACEHOLDER}".encode()


def test_blobs_without_a_secret_are_left_as_they_were() -> None:
    text = "id=QUJDREVGR0g= path=/a/b/c tokenish=abcdefghijklmnop"
    assert scrub_base64(text, {SECRET: PLACEHOLDER}) == text


def test_vcrpy_bodies_are_not_logged_at_info_unless_asked_for(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import logging

        def test_level():
            logging.getLogger("vcr.cassette").info("Appending request BODY-DUMP")
            logging.getLogger("vcr.cassette").warning("vcr warning shown")
        """
    )
    quiet = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--log-cli-level=INFO")
    quiet.assert_outcomes(passed=1)
    assert "BODY-DUMP" not in quiet.stdout.str()
    assert "vcr warning shown" in quiet.stdout.str()
    loud = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--log-cli-level=INFO", "-o", "image_vcr_log_level=INFO"
    )
    loud.assert_outcomes(passed=1)
    assert "BODY-DUMP" in loud.stdout.str()


def test_a_bad_vcr_log_level_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-o", "image_vcr_log_level=LOUD")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "image_vcr_log_level = 'LOUD' is not a log level" in result.stderr.str()


def test_a_changed_powershell_command_is_shown_decoded_when_it_is_not_in_the_cassette() -> None:
    def winrm(script: str) -> Request:
        body = (
            "<s:Envelope><s:Body><rsp:CommandLine><rsp:Command>powershell</rsp:Command>"
            f"<rsp:Arguments>{powershell_command(script)}</rsp:Arguments></rsp:CommandLine>"
            "</s:Body></s:Envelope>"
        )
        return Request("POST", "https://h:5986/wsman", body, {})

    recorded = winrm("$env:X='scrubbed-app_secret'; Write-Output 1")
    assert body_difference(winrm("$env:X='scrubbed-app_secret'; Write-Output 1"), recorded) is None
    difference = body_difference(winrm("Write-Output 2"), recorded)
    assert difference is not None
    assert "'Write-Output 2'" in difference
    assert "Write-Output 1" in difference
