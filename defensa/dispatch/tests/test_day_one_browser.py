"""A new network, from an empty database to an alert on a member's phone, in Chromium, using
only pages (docs/setup.md).

`bootstrap_network` makes the top committee and its administrator, as on a fresh install. The
administrator signs in with the printed password and authenticator code, adds the passkey
their role needs, creates a local committee below the network, gives it ZIP codes and a
dispatch policy, maps a phone number to it, makes themselves the top committee's dispatcher
(reports with no place go there), and makes founding links for the committee's first people:
a dispatcher, a verifier and a member. Each enrols through their link on a phone (password,
then the authenticator app's code) and sets their phone, area and duty on their own pages.
The readiness page turns green for the committee lines, the numbers and the channels. A
public report from one of the ZIP codes reaches the dispatcher's console; the dispatcher
asks for verification; the offer reaches the verifier's phone through the loopback Twilio
peer; she accepts, arrives and confirms on the offer page; the confirmation alerts the
member who asked for that neighbourhood, by text through the same peer, and the console
shows the verdict and her finding.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pyotp
import pytest
from django.core.management import call_command
from django.urls import reverse

from defensa.audit.models import AuditEntry
from defensa.committees.models import Committee, Kind, Membership
from defensa.core import geo
from defensa.core.crypto.digests import digest_key
from defensa.dispatch.models import DispatchPolicy, Offer
from defensa.incidents.models import Incident, State
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report
from defensa.voice.models import Hotline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
NUMBER = "+12135550150"  # the committee's hotline and texting number
PHONES = {"dani": "+12135550161", "vero": "+12135550162", "mo": "+12135550163"}
LINK = re.compile(r"(https?://\S+/r/[A-Za-z0-9_-]+/)")


def _founding_link(page, role: str, note: str) -> str:  # type: ignore[no-untyped-def]
    page.goto("/network/boyle-heights/founders/")
    page.get_by_label("Note for yourself").fill(note)
    page.get_by_label(role, exact=True).check()
    page.get_by_role("button", name="Create a founding link").click()
    page.locator("#new-link").wait_for()
    return page.input_value("#new-link")


def _enrol(browser, live_server, link: str, name: str):  # type: ignore[no-untyped-def]
    """A person opens their founding link on a phone, signs up with a password and an
    authenticator app, and sets their phone, texts, home ZIP and duty on their own pages."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    page.goto(link)
    assert "Boyle Heights" in page.inner_text("h1")
    page.fill("input[name=display_name]", name.title())
    page.fill("input[name=email]", f"{name}@example.org")
    page.fill("input[name=password]", f"{name}-marigold-bus-stop-1947")
    page.select_option("select[name=language]", "en")
    page.click("main button.btn.primary")
    page.wait_for_url("**/code/")
    secret = page.get_attribute("#totp-secret", "data-secret")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())  # type: ignore[arg-type]
    page.click("main button.btn.primary")
    page.wait_for_url("**/committees/boyle-heights/")
    assert "probation" not in page.inner_text("main")
    page.goto("/me/profile/")
    page.check("input[name=notify_sms]")
    page.uncheck("input[name=notify_email]")
    page.fill("input[name=phone]", PHONES[name])
    page.click("main button.btn.primary")
    page.wait_for_load_state()
    page.goto("/me/area/")
    page.check("input[name=mode][value=zip]")
    page.fill("input[name=zip_code]", "90033")
    page.click("main button.btn.primary")
    page.wait_for_load_state()
    return context, page


def _on_duty(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/me/availability/")
    page.click("main form[action$='/duty/'] button")
    page.wait_for_load_state()
    assert page.locator(".badge.ok").first.is_visible()


def test_empty_database_to_an_alerted_member(  # type: ignore[no-untyped-def]
    browser, live_server, settings, twilio_peer, smtp_server
):
    settings.SITE_URL = live_server.url
    settings.WEBAUTHN_RP_ID = urlsplit(live_server.url).hostname
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    for name in ("notify.optout", "reports.sms_sender"):
        digest_key(name)  # made by migrations; a flushed test database lost them
    assert not Committee.objects.exists()
    out = io.StringIO()
    call_command(
        "bootstrap_network", network="Valle Network", email="admin@example.org", stdout=out
    )
    printed = out.getvalue()
    password = re.search(r"one-time password: (\S+)", printed).group(1)  # type: ignore[union-attr]
    secret = re.search(r"authenticator secret: (\S+)", printed).group(1)  # type: ignore[union-attr]

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )
        # 1. The first sign-in, with what the command printed; then the passkey.
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill("admin@example.org")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"/accounts/login/second-step/$"))
        page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(re.compile(r"/accounts/security/$"))
        page.get_by_label("Passkey name").fill("Admin laptop")
        page.get_by_role("button", name="Add a passkey").click()
        page.get_by_text("Passkey added.").wait_for()

        # 2. From My page to the network's committees; the network has no area yet.
        page.goto("/accounts/")
        page.get_by_role("link", name="Committees and areas").click()
        page.wait_for_url(re.compile(r"/network/$"))
        page.get_by_role("link", name="Valle Network").click()
        assert page.get_by_text("No area yet").is_visible()

        # 3. A local committee below it, with ZIP codes pasted as a list.
        page.locator("#id_new-name").fill("Boyle Heights")
        page.get_by_label("Kind").select_option(label="Local committee")
        page.get_by_role("button", name="Create the committee").click()
        page.wait_for_url(re.compile(r"/network/boyle-heights/area/$"))
        # A ZIP that does not exist is refused and nothing changes ...
        page.get_by_label("ZIP codes").first.fill("90033\n99999")
        page.get_by_label("Spanish").check()
        page.get_by_role("button", name="Save the area").click()
        page.get_by_text("These are not US ZIP codes: 99999").first.wait_for()
        assert Committee.objects.get(slug="boyle-heights").zip_codes == []
        # ... the corrected list is saved.
        page.get_by_label("ZIP codes").first.fill("90033, 90063")
        page.get_by_label("Spanish").check()
        page.get_by_role("button", name="Save the area").click()
        page.get_by_text("The committee's area is saved.").wait_for()
        boyle = Committee.objects.get(slug="boyle-heights")
        assert boyle.kind == Kind.LOCAL and boyle.parent.kind == Kind.NETWORK  # type: ignore[union-attr]
        assert boyle.zip_codes == ["90033", "90063"] and "es" in boyle.languages

        # 4. Its dispatch policy: zero verifiers is refused, then a real one is saved.
        page.get_by_role("link", name="Dispatch policy").click()
        page.get_by_label("Verifiers offered at first").fill("0")
        page.get_by_role("button", name="Save the policy").click()
        page.get_by_text("Offer it to at least one verifier.").first.wait_for()
        assert not DispatchPolicy.objects.exists()
        page.get_by_label("Verifiers offered at first").fill("2")
        page.get_by_label("Acceptances that are enough").fill("1")
        page.get_by_label("Minutes before widening").fill("3")
        page.get_by_label("Also the neighbouring committees' verifiers").check()
        page.get_by_role("button", name="Save the policy").click()
        page.get_by_text("The dispatch policy is saved.").wait_for()
        policy = DispatchPolicy.objects.get(committee=boyle)
        assert (policy.offer_size, policy.accept_target, policy.escalate_minutes) == (2, 1, 3)
        assert policy.reach == "neighbours"
        done = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"committee.created", "committee.area_set", "dispatch.policy_set"} <= done

        # 5. Phone numbers: the committee's number, so texts with no place reach it.
        page.goto(reverse("voice:numbers"))
        page.get_by_label("Phone number").fill(NUMBER)
        page.get_by_label("Committee").select_option(label="Boyle Heights")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_role("cell", name=NUMBER).wait_for()
        assert Hotline.objects.get(number=NUMBER).committee == boyle

        # 6. The admin dispatches for the top committee (where reports with no place go).
        admin_membership = Membership.objects.get(user__email="admin@example.org")
        page.goto(f"/committees/{admin_membership.committee.slug}/members/{admin_membership.pk}/")
        page.get_by_label("Dispatcher").check()
        page.get_by_role("button", name="Save roles").click()
        page.get_by_text("Roles saved.").wait_for()
        _on_duty(page)

        # 7. Founding links for Boyle Heights' first people, made on the setup pages.
        page.goto("/network/boyle-heights/")
        page.get_by_role("link", name="First people").click()
        page.wait_for_url(re.compile(r"/network/boyle-heights/founders/$"))
        links = {
            "dani": _founding_link(page, "a dispatcher", "Dani"),
            "vero": _founding_link(page, "a verifier", "Vero"),
            "mo": _founding_link(page, "a full member", "Mo"),
        }
        assert len(set(links.values())) == 3

        # 8. Before anyone joins, the readiness page says what is missing.
        page.goto(reverse("ops:readiness"))
        assert "todo" in (page.get_attribute("#ready-verifiers", "class") or "")
    except BaseException:
        context.close()
        raise

    # 9. Each enrols on a phone; the dispatcher and the verifier go on duty; Mo asks for
    # alerts about the neighbourhood around 90033.
    dani, dani_page = _enrol(browser, live_server, links["dani"], "dani")
    vero, vero_page = _enrol(browser, live_server, links["vero"], "vero")
    mo, mo_page = _enrol(browser, live_server, links["mo"], "mo")
    try:
        _on_duty(dani_page)
        _on_duty(vero_page)
        cell = geo.cell_for(*geo.zip_centroid("90033"))
        mo_page.goto("/alerts/")
        mo_page.locator(f'input[name="cell"][value="{cell}"]').check()
        mo_page.get_by_role("button", name="Save").click()
        mo_page.get_by_text("Saved.").wait_for()
        people = {m.user.email.split("@")[0]: m for m in Membership.objects.filter(committee=boyle)}
        assert people["dani"].is_dispatcher and people["dani"].status == "full"
        assert people["vero"].user.skills.filter(kind="verifier").exists()

        # 10. The readiness page is green for the lines that matter for a first report.
        page.goto(reverse("ops:readiness"))
        # (Backups and the master key are the server operator's settings, not pages.)
        ready = (
            "areas",
            "dispatchers",
            "verifiers",
            "channel-sms",
            "channel-email",
            "inbound",
            "numbers",
            "passkey",
        )
        for line in ready:
            assert "done" in (page.get_attribute(f"#ready-{line}", "class") or ""), (
                line,
                page.inner_text(f"#ready-{line}"),
            )

        # 11. A public report from one of the committee's ZIP codes.
        phone = browser.new_context(
            base_url=live_server.url, viewport=PHONE, extra_http_headers={"Accept-Language": "en"}
        )
        report_page = phone.new_page()
        report_page.goto("/report/new/")
        report_page.get_by_label("Agents seen", exact=True).check()
        report_page.get_by_label("ZIP code").fill("90033")
        report_page.get_by_role("button", name="Send report").click()
        report_page.get_by_text("Thank you. We got your report.").wait_for()
        phone.close()
        incident = Incident.objects.get()
        assert Report.objects.get().incident == incident and incident.committee == boyle

        # 12. Dani sees it on the console and asks for verification.
        dani_page.set_viewport_size({"width": 1280, "height": 900})
        dani_page.goto("/dispatch/boyle-heights/")
        row = dani_page.locator(f'li.incident[data-incident="{incident.pk}"]')
        row.get_by_role("button", name="Request verification").click()
        dani_page.get_by_text(f"{incident.reference}: Asked 1 verifier").wait_for()
        offer = Offer.objects.get(incident=incident)
        assert offer.responder.email == "vero@example.org"

        # 13. The offer reaches Vero's phone by text, through the loopback Twilio peer.
        run_worker()
        [offer_text] = [m for m in twilio_peer.messages if m.to == PHONES["vero"]]
        link = LINK.search(offer_text.body)
        assert link, offer_text.body
        assert not [m for m in twilio_peer.messages if m.to == PHONES["mo"]]  # not verified yet

        # 14. She accepts, arrives and confirms on the offer page.
        vero_page.goto(link.group(1))
        vero_page.get_by_role("button", name="Accept: I'm going").click()
        vero_page.get_by_role("button", name="I'm there").click()
        vero_page.get_by_label("What you saw (optional)").fill("Agents at the door, two vans")
        vero_page.get_by_role("button", name="Confirmed", exact=True).click()
        vero_page.wait_for_load_state()
        incident.refresh_from_db()
        assert incident.state == State.CONFIRMED

        # 15. The confirmation alerts Mo, by text through the peer.
        run_worker()
        alerts = [m for m in twilio_peer.messages if m.to == PHONES["mo"]]
        assert alerts, [m.to for m in twilio_peer.messages]
        assert "/rights/" in alerts[0].body

        # 16. Dani's console shows the verdict and Vero's finding.
        dani_page.goto(f"/dispatch/boyle-heights/?incident={incident.pk}")
        verifiers = dani_page.locator("main").inner_text()
        assert "Vero: " in verifiers and "Confirmed" in verifiers
    finally:
        for one in (dani, vero, mo):
            one.close()
        context.close()
