"""A loopback stand-in for Twilio Voice, speaking the subset of its webhooks Defensa uses.

It places a simulated inbound call by POSTing signed webhooks to our app (CallSid, From, To,
Digits, DialCallStatus, RecordingSid...), reads the TwiML we answer with and acts on it the
way Twilio would: speaks <Say>, fetches and plays <Play> (a GET of its URL, as Twilio's
media fetch), collects <Gather> digits from a script, rings the <Number>s
of a <Dial> (running each answerer's screening `url`), records a <Record> message and sends
the recording-status callback. It also serves the recording media and accepts its DELETE on
the REST API, like api.twilio.com.
"""

from __future__ import annotations

import base64
import itertools
import threading
import xml.etree.ElementTree as ET  # noqa: S405 (our own TwiML, in tests)
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from defensa.notify.transports.twilio import signature
from defensa.testing.peers import LoopbackPeer, QuietHandler
from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN

BASE = "https://defensa.example.org"
INCOMING = f"{BASE}/voice/incoming/"
# A few bytes that start like an MP3 frame; enough for storing, hashing and serving.
AUDIO = b"\xff\xfb\x90\x64" + bytes(range(256)) * 8

Post = Callable[[str, dict[str, str]], tuple[int, str]]
Fetch = Callable[[str], tuple[int, str, bytes]]  # url -> (status, content type, body)
_counter = itertools.count(1)


@dataclass
class Dialled:
    numbers: list[str]
    caller_id: str
    timeout: int
    screened: bool
    status: str = ""


@dataclass
class Played:
    url: str
    status: int
    content_type: str
    data: bytes


@dataclass
class Call:
    """What one simulated call heard and did."""

    sid: str
    caller: str
    to: str
    said: list[tuple[str, str]] = field(default_factory=list)  # (language, text)
    played: list[Played] = field(default_factory=list)  # every <Play>, fetched, in order
    # What the caller heard, in order: ("say", language, text) or ("play", url, "").
    heard_in_order: list[tuple[str, str, str]] = field(default_factory=list)
    gathers: list[dict[str, str]] = field(default_factory=list)
    dials: list[Dialled] = field(default_factory=list)
    records: list[dict[str, str]] = field(default_factory=list)
    screens: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)  # (url, HTTP status)
    connected_to: str = ""
    recording_sid: str = ""
    hung_up: bool = False

    def heard(self, language: str = "") -> str:
        return " ".join(text for lang, text in self.said if not language or lang == language)


@dataclass
class Recording:
    sid: str
    data: bytes
    fetched: int = 0
    deleted: bool = False


@dataclass
class VoicePeer(LoopbackPeer):
    post: Post | None = None
    fetch: Fetch | None = None
    recordings: dict[str, Recording] = field(default_factory=dict)
    fail_fetches: int = 0  # answer this many media requests with a 500 first
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(QuietHandler):
            def _answer(self, method: str) -> None:
                status, kind, body = peer.media(
                    method, self.path, self.headers.get("Authorization", "")
                )
                self.reply(status, body, content_type=kind)

            def do_GET(self) -> None:  # noqa: N802
                self._answer("GET")

            def do_DELETE(self) -> None:  # noqa: N802
                self._answer("DELETE")

        return Handler

    # The call -------------------------------------------------------------------------

    def call(
        self,
        caller: str,
        to: str,
        *,
        presses: list[str | None] | None = None,
        answerers: dict[str, str | None] | None = None,
        message: bytes | None = None,
        duration: int = 12,
        status_callback_first: bool = False,
    ) -> Call:
        """Call `to` from `caller`.

        presses: the caller's key at each menu (None: presses nothing).
        answerers: numbers that pick up when rung, in the order they would pick up, and the
            key each presses at the screening prompt (None: a voicemail box, presses nothing).
        message: the voicemail the caller leaves (None: hangs up without a word).
        """
        call = Call(sid=f"CA{next(_counter):032x}", caller=caller, to=to)
        script = _Script(list(presses or []), dict(answerers or {}), message, duration)
        self._run(call, script, INCOMING, {}, status_callback_first)
        return call

    def _params(self, call: Call, extra: dict[str, str]) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call.sid,
            "From": call.caller,
            "To": call.to,
            "Caller": call.caller,
            "Called": call.to,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            **extra,
        }

    def _send(self, call: Call, url: str, params: dict[str, str]) -> ET.Element | None:
        assert self.post is not None, "the peer needs a way to reach the app"
        status, body = self.post(url, params)
        call.statuses.append((url, status))
        if status != 200:
            call.hung_up = True  # Twilio: "an application error has occurred", then hangs up
            return None
        return ET.fromstring(body)  # noqa: S314 (our own TwiML)

    def _run(
        self, call: Call, script: _Script, url: str, extra: dict[str, str], callback_first: bool
    ) -> None:
        for _hop in range(20):  # a loop in our TwiML would be a bug; Twilio would go on forever
            root = self._send(call, url, self._params(call, extra))
            if root is None:
                return
            assert root.tag == "Response", root.tag
            nxt = self._verbs(call, script, list(root), callback_first)
            if nxt is None:
                return
            url, extra = nxt
        raise AssertionError("the call went round in circles")

    def _verbs(
        self, call: Call, script: _Script, verbs: list[ET.Element], callback_first: bool
    ) -> tuple[str, dict[str, str]] | None:
        for verb in verbs:
            if verb.tag in ("Say", "Play"):
                self._hear(call, verb)
            elif verb.tag == "Gather":
                call.gathers.append(dict(verb.attrib))
                for inner in verb:
                    if inner.tag not in ("Say", "Play"):
                        raise AssertionError(f"the peer does not speak <{inner.tag}> in <Gather>")
                    self._hear(call, inner)
                digit = script.presses.pop(0) if script.presses else None
                if digit is not None or verb.get("actionOnEmptyResult") == "true":
                    return verb.get("action", ""), {"Digits": digit or ""}
            elif verb.tag == "Redirect":
                return (verb.text or "").strip(), {}
            elif verb.tag == "Dial":
                return verb.get("action", ""), self._dial(call, script, verb)
            elif verb.tag == "Record":
                self._record(call, script, verb, callback_first)
                return None
            elif verb.tag == "Hangup":
                call.hung_up = True
                return None
            else:
                raise AssertionError(f"the peer does not speak <{verb.tag}>")
        call.hung_up = True  # the end of a document ends the call
        return None

    def _hear(self, call: Call, verb: ET.Element) -> None:
        if verb.tag == "Say":
            call.said.append((verb.get("language", ""), verb.text or ""))
            call.heard_in_order.append(("say", verb.get("language", ""), verb.text or ""))
            return
        url = (verb.text or "").strip()
        assert self.fetch is not None, "the peer needs a way to fetch what it plays"
        status, kind, data = self.fetch(url)
        call.played.append(Played(url, status, kind, data))
        call.heard_in_order.append(("play", url, ""))

    def _dial(self, call: Call, script: _Script, verb: ET.Element) -> dict[str, str]:
        numbers = [(n.text or "").strip() for n in verb.findall("Number")]
        assert len(numbers) <= 10, "Twilio dials at most ten numbers at once"
        screen_urls = {(n.text or "").strip(): n.get("url", "") for n in verb.findall("Number")}
        dialled = Dialled(
            numbers=numbers,
            caller_id=verb.get("callerId", ""),
            timeout=int(verb.get("timeout", "30")),
            screened=all(screen_urls.values()),
        )
        call.dials.append(dialled)
        # The first answerer among the numbers rung picks up; the others stop ringing.
        first = next((n for n in script.answerers if n in numbers), None)
        if first is None:
            dialled.status = "no-answer"
            return {"DialCallStatus": "no-answer"}
        key = script.answerers.pop(first)
        accepted = True
        if screen_urls[first]:
            accepted = self._screen(call, first, screen_urls[first], dialled.caller_id, key)
        if not accepted:
            dialled.status = "no-answer"
            return {"DialCallStatus": "no-answer"}
        call.connected_to = first
        dialled.status = "completed"
        return {
            "DialCallStatus": "completed",
            "DialCallDuration": "42",
            "DialCallSid": "CA" + "f" * 32,
        }

    def _screen(self, call: Call, number: str, url: str, caller_id: str, key: str | None) -> bool:
        """The answerer's leg runs the screening TwiML; True when it lets the call through."""
        leg = Call(sid=f"CA{next(_counter):032x}", caller=caller_id, to=number)
        root = self._send(leg, url, {**self._params(leg, {}), "ParentCallSid": call.sid})
        if root is None:
            return False
        for verb in root:
            if verb.tag == "Gather":
                for say in verb.findall("Say"):
                    leg.said.append((say.get("language", ""), say.text or ""))
                call.screens.append((number, leg.said))
                if key is None:
                    continue  # a voicemail box: the gather times out
                answer = self._send(
                    leg, verb.get("action", ""), {**self._params(leg, {"Digits": key})}
                )
                return answer is not None and answer.find("Hangup") is None
            if verb.tag == "Hangup":
                return False
        return True  # no screening TwiML at all: the answer connects

    def _record(self, call: Call, script: _Script, verb: ET.Element, callback_first: bool) -> None:
        call.records.append(dict(verb.attrib))
        status_url = verb.get("recordingStatusCallback", "")
        if script.message is None:
            # The caller hung up without a word: no action (nobody is left to hear TwiML).
            if status_url:
                self._send(
                    call,
                    status_url,
                    {"CallSid": call.sid, "AccountSid": ACCOUNT_SID, "RecordingStatus": "absent"},
                )
            call.hung_up = True
            return
        sid = f"RE{next(_counter):032x}"
        call.recording_sid = sid
        with self._lock:
            self.recordings[sid] = Recording(sid, script.message)
        duration = str(min(script.duration, int(verb.get("maxLength", "3600"))))
        recording = {
            "RecordingSid": sid,
            "RecordingUrl": f"{self.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}",
            "RecordingDuration": duration,
        }
        status = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call.sid,
            "RecordingStatus": "completed",
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
            **recording,
        }
        if callback_first and status_url:
            self._send(call, status_url, status)
        action = verb.get("action", "")
        if action:
            root = self._send(call, action, self._params(call, {**recording, "Digits": "#"}))
            if root is not None:
                self._verbs(call, _Script([], {}, None, 0), list(root), False)
        if not callback_first and status_url:
            self._send(call, status_url, status)

    # The REST API: recording media and deletion ----------------------------------------

    def media(self, method: str, path: str, auth: str) -> tuple[int, str, bytes]:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, "application/json", b'{"code": 20003}'
        prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"
        if not path.startswith(prefix):
            return 404, "application/json", b"{}"
        name = path[len(prefix) :]
        sid, _dot, ext = name.partition(".")
        with self._lock:
            found = self.recordings.get(sid)
            if found is None or found.deleted:
                return 404, "application/json", b'{"code": 20404}'
            if method == "DELETE" and ext == "json":
                found.deleted = True
                return 204, "", b""
            if method == "GET" and ext in ("mp3", "wav", ""):
                if self.fail_fetches:
                    self.fail_fetches -= 1
                    return 500, "application/json", b"{}"
                found.fetched += 1
                return 200, "audio/mpeg", found.data
        return 405, "application/json", b"{}"


@dataclass
class _Script:
    presses: list[str | None]
    answerers: dict[str, str | None]
    message: bytes | None
    duration: int


def client_fetcher(client: Any) -> Fetch:
    """GET a <Play> URL through Django's test client, as Twilio fetches media: no cookies,
    no account, nothing but the URL."""

    def fetch(url: str) -> tuple[int, str, bytes]:
        assert url.startswith(BASE), url
        anonymous = type(client)()  # a fresh client: no session, no cookies
        response = anonymous.get(url[len(BASE) :])
        return response.status_code, response.get("Content-Type", ""), response.content

    return fetch


def client_poster(client: Any) -> Post:
    """POST signed webhooks through Django's test client, as Twilio would over HTTPS."""

    def post(url: str, params: dict[str, str]) -> tuple[int, str]:
        assert url.startswith(BASE), url
        response = client.post(
            url[len(BASE) :],
            params,
            HTTP_X_TWILIO_SIGNATURE=signature(AUTH_TOKEN, url, params),
        )
        return response.status_code, response.content.decode()

    return post
