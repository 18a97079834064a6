"""The several-machines recipe of docs/install.md, started on loopback and used.

Two web machines (gunicorn, each with its own data directory), two delivery workers, one
PostgreSQL database of this test's own, the local S3-compatible store (moto) and a
Twilio-compatible SMS peer. A member of the public reports through web machine A; a
verifier is offered the incident by text and sends a finding with a photo through web
machine B; a broadcast goes to every member. Then: the report and the finding are in the one
database, the photo is in the shared store (sealed) and reads back, and every text went out
exactly once: 0 lost, 0 duplicates, and never faster than the provider's one rate that both
workers share.

PostgreSQL: the server of DATABASE_URL when the suite runs on PostgreSQL, else the local
one at 127.0.0.1:5432 (as `make test` and the `scaled` benchmark use).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest
from PIL import Image

from bench import ROOT
from bench._server import running_server, start_worker, stop_worker, twilio_env
from bench.broadcast import busiest_second
from bench.intake_idempotency import _open_form
from defensa.core.crypto.keys import generate_entry
from defensa.testing.peers import s3, twilio

MEMBERS = 60
# The provider's rate: the two workers share its one bucket in the database.
RATE = 20

SEED = f"""
import json, django
django.setup()
from defensa.core.testing import build_network, join, make_user
from defensa.accounts.models import Skill, SkillKind
net = build_network()
alma = make_user("alma", phone="+12135550177", home_zip="90033", on_duty=True,
                 notify_sms=True)
join(alma, net.boyle)
Skill.objects.create(user=alma, kind=SkillKind.VERIFIER)
for n in range({MEMBERS}):
    member = make_user(f"member{{n}}", phone=f"+1213556{{n:04d}}", notify_sms=True)
    join(member, net.boyle)
print(json.dumps({{}}))
"""

OFFER = """
import json, django
django.setup()
from defensa.dispatch import actions
from defensa.incidents.models import Incident
from defensa.accounts.models import User
incident = Incident.objects.get()
dani = User.objects.get(display_name__iexact="dani")
[offer] = actions.offer_to_nearest(incident, 1, actor=dani)
actions.accept_offer(offer)
actions.mark_arrived(offer)
print(json.dumps({"token": actions.offer_token(offer)}))
"""

BROADCAST = """
import json, django
django.setup()
from defensa.accounts.models import User
from defensa.broadcasts import actions
from defensa.broadcasts.tasks import enqueue_broadcast
from defensa.committees.models import Committee
boyle = Committee.objects.get(slug="boyle-heights")
ana = User.objects.get(display_name__iexact="ana")
texts = {"en": "Meeting Monday.", "es": "Reunion lunes."}
b = actions.create_broadcast(boyle, actor=ana, texts=texts)
actions.send_broadcast(b, actor=ana)
enqueue_broadcast.call(b.pk)
print(json.dumps({"broadcast": b.pk}))
"""

PENDING = """
import json, django
django.setup()
from defensa.notify.models import Delivery
rows = Delivery.objects.filter(channel="sms").values_list("idempotency_key", "status")
print(json.dumps({"sent": [k for k, s in rows if s == "sent"],
                  "open": sum(1 for _k, s in rows if s not in ("sent", "failed", "cancelled")),
                  "total": len(rows)}))
"""

RESULT = """
import hashlib, json, django
django.setup()
from defensa.core import media
from defensa.core.crypto.models import SealedFile
from defensa.dispatch.models import Offer
from defensa.evidence.models import Media
from defensa.reports.models import Report
[item] = Media.objects.all()
data = media.read(item.file)
print(json.dumps({
    "reports": Report.objects.count(),
    "finding": Offer.objects.get().outcome,
    "file": item.file,
    "sealed": SealedFile.objects.filter(name=item.file).exists(),
    "intact": data is not None and hashlib.sha256(data).hexdigest() == item.sha256,
}))
"""


def python(env: dict[str, str], code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def pg_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    return "postgres://postgres@127.0.0.1:5432"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def post_multipart(url: str, cookie: str, fields: dict[str, str], photo: bytes) -> int:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    body = "".join(parts).encode()
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
        f'filename="b.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    body += photo + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=body,
        headers={"Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.own_databases
def test_a_report_a_verification_and_a_broadcast_across_two_web_and_two_worker_machines(
    tmp_path,
):  # type: ignore[no-untyped-def]
    import psycopg

    server = pg_server()
    name = f"defensa_topology_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    peer = twilio.TwilioPeer()
    try:
        with ExitStack() as stack:
            store = stack.enter_context(s3.S3Peer().running())
            stack.enter_context(peer.running())
            shared = {
                "DATABASE_URL": f"{server}/{name}",
                # The same keys on every machine (docs/install.md, "Several machines").
                "SECRET_KEY": "topology-" + uuid.uuid4().hex * 2,
                "DEFENSA_MASTER_KEYS": generate_entry("k1"),
                "DEFENSA_S3_BUCKET": s3.BUCKET,
                "DEFENSA_S3_ENDPOINT_URL": store.base_url,
                "DEFENSA_S3_ACCESS_KEY_ID": s3.ACCESS_KEY,
                "DEFENSA_S3_SECRET_ACCESS_KEY": s3.SECRET_KEY,
                "DEFENSA_S3_REGION": s3.REGION,
                "BROADCAST_APPROVAL_THRESHOLD": "1000000",
                **twilio_env(peer, f"{RATE}/s"),
            }
            web_a = stack.enter_context(running_server(workers=1, threads=4, extra_env=shared))
            web_b = stack.enter_context(running_server(workers=1, threads=4, extra_env=shared))
            assert web_a.data_dir != web_b.data_dir
            env = web_a.env
            python(env, SEED)
            workers = [start_worker(env), start_worker(web_b.env)]
            try:
                # A report through machine A.
                cookie, csrf, token = _open_form(web_a.url)
                body = urllib.parse.urlencode(
                    {
                        "csrfmiddlewaretoken": csrf,
                        "token": token,
                        "category": "workplace_raid",
                        "zip_code": "90033",
                    }
                ).encode()
                request = urllib.request.Request(  # noqa: S310
                    web_a.url + "/report/new/",
                    data=body,
                    headers={
                        "Cookie": cookie,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
                with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
                    assert resp.status == 200
                # The verifier is offered it (a text), and sends a finding through machine B.
                link = python(env, OFFER)["token"]
                page = f"{web_b.url}/r/{link}/"
                with urllib.request.urlopen(page, timeout=30) as resp:  # noqa: S310
                    html = resp.read().decode()
                    cookies = [h.split(";")[0] for h in resp.headers.get_all("Set-Cookie") or []]
                form_csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
                assert form_csrf is not None
                status = post_multipart(
                    page,
                    "; ".join(cookies),
                    {"csrfmiddlewaretoken": form_csrf.group(1), "step": "confirmed"},
                    jpeg(),
                )
                assert status == 200
                # A broadcast to every member.
                python(env, BROADCAST)
                deadline = time.monotonic() + 120
                while True:
                    state = python(env, PENDING)
                    if state["open"] == 0 or time.monotonic() > deadline:
                        break
                    time.sleep(1)
            finally:
                for worker in workers:
                    stop_worker(worker)
            state = python(env, PENDING)
            found = python(env, RESULT)
            stored = store.objects()
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert found["reports"] == 1 and found["finding"] == "confirmed"
    # The photo is in the shared store, sealed, and reads back intact from another process.
    assert list(stored) == [found["file"]] and found["sealed"] and found["intact"]
    # Every text exactly once: the verifier's offer and the broadcast to every member.
    at_peer = set(peer.requests_by_key)
    in_db = set(state["sent"])
    assert state["open"] == 0 and state["total"] >= MEMBERS + 1
    assert in_db == at_peer, "lost"
    assert sum(n - 1 for n in peer.requests_by_key.values()) == 0, "duplicates"
    # Two workers together never sent faster than the one provider rate.
    assert busiest_second([m.at for m in peer.messages]) <= RATE
