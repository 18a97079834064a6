"""Members as a kind of import: one spreadsheet row -> one invitee of a committee.

Columns: name, phone, email, language, ZIP, skills, committee. A row needs a name and a
phone or an email. Phones are read as US numbers unless written with +country, and kept in
E.164 (+12135550100); languages are those the site speaks; ZIPs must exist. A row whose phone
or email is already a member's, or already on the committee's list, is "already here" and
left alone, so importing a file twice changes nothing.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Sequence
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defensa.accounts.models import SkillKind
from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee, Membership
from defensa.core import crypto
from defensa.core.bulk import insert_returning_ids
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.geo import is_real_zip
from defensa.imports.kinds import Column, Kind, RowInvalid
from defensa.imports.languages import language_names
from defensa.imports.models import ImportJob
from defensa.people.models import Invitee

KIND = "members"
DIGEST = "people.contact"
PHONE_REGION = "US"
MAX_NAME = 80


def _words(*values: str) -> tuple[str, ...]:
    return tuple(v.lower() for v in values)


COLUMNS = (
    Column("name", gettext_lazy("Name"), _words("nombre", "full name", "nombre completo")),
    Column(
        "phone",
        gettext_lazy("Phone"),
        _words("teléfono", "telefono", "mobile", "cell", "celular", "móvil"),
    ),
    Column(
        "email", gettext_lazy("Email"), _words("e-mail", "correo", "correo electrónico", "mail")
    ),
    Column("language", gettext_lazy("Language"), _words("idioma", "lang", "lengua")),
    Column(
        "zip",
        gettext_lazy("ZIP code"),
        _words("zip", "código postal", "codigo postal", "cp", "postal code"),
    ),
    Column("skills", gettext_lazy("Skills"), _words("habilidades", "skill")),
    Column("committee", gettext_lazy("Committee"), _words("comité", "comite")),
)


_NOT_DIGIT = re.compile(r"[^0-9]")
_LETTER = re.compile(r"[^\W\d_]")


@functools.cache
def _region_patterns() -> tuple[tuple[frozenset[int], re.Pattern[str]], ...]:
    """The region's number descriptions, compiled once: the general one first, then every
    type the parser knows (a number of none of these types is not valid)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(PHONE_REGION)
    descs = (
        meta.general_desc,
        meta.premium_rate,
        meta.toll_free,
        meta.shared_cost,
        meta.voip,
        meta.personal_number,
        meta.pager,
        meta.uan,
        meta.voicemail,
        meta.fixed_line,
        meta.mobile,
    )
    return tuple(
        (frozenset(d.possible_length or ()), re.compile(d.national_number_pattern or "(?!)"))
        for d in descs
        if d is not None
    )


def _valid_in_region(national: str) -> bool:
    """`phonenumbers.is_valid_number_for_region` for a national number of digits, with the
    patterns compiled once instead of looked up per desc and per call."""
    general, *types = _region_patterns()
    size = len(national)

    def matches(desc: tuple[frozenset[int], re.Pattern[str]]) -> bool:
        return (not desc[0] or size in desc[0]) and desc[1].fullmatch(national) is not None

    return matches(general) and any(matches(desc) for desc in types)


def normal_phone(value: str) -> str:
    """The number in E.164, or "" when it is not a number we could text."""
    # Most rows hold a plain US number ("(213) 555-0100", "+1 213 555 0100"): check it as
    # one without the parser's general work, which is most of an import's time. The answer
    # is the parser's own (US comes first of the +1 regions it tries).
    text = value.strip()
    if not _LETTER.search(text) and (not text.startswith("+") or text.startswith("+1")):
        digits = _NOT_DIGIT.sub("", text)
        national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        if len(national) == 10 and national[0] != "0" and _valid_in_region(national):
            return "+1" + national
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _skill_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for value, label in SkillKind.choices:
        names[value] = value
        for lang, _label in settings.LANGUAGES:
            with translation.override(lang):
                names[str(translation.gettext(label)).lower()] = value
    return names


def contact_digests(
    committee_id: int, phone: str, email: str, key: bytes | None = None
) -> tuple[str, str]:
    """Keyed digests of a person's phone and email on one committee's list."""
    key = key or digest_key(DIGEST)
    return (
        keyed_digest(key, f"{committee_id}:phone:{phone}") if phone else "",
        keyed_digest(key, f"{committee_id}:email:{email}") if email else "",
    )


class MemberRows(Kind):
    name = KIND
    columns = COLUMNS

    def __init__(self) -> None:
        # Looked up once per job, not once per row; (id, created_at) names one job for good.
        self._committees: dict[tuple[int, Any], dict[str, int]] = {}
        self._key: tuple[tuple[int, Any], bytes] = ((0, None), b"")
        self._digests: dict[tuple[int, str, str], tuple[str, str]] = {}

    def _digest_key(self, job: ImportJob) -> bytes:
        if self._key[0] != (job.pk, job.created_at):
            self._key = ((job.pk, job.created_at), digest_key(DIGEST))
            self._digests = {}
        return self._key[1]

    def _contact_digests(
        self, job: ImportJob, rows: Sequence[dict[str, Any]]
    ) -> list[tuple[str, str]]:
        """Each row's contact digests. Those of the last batch matched are kept, so the batch
        written next (the same rows) does not compute them again."""
        key = self._digest_key(job)
        known = self._digests
        found: dict[tuple[int, str, str], tuple[str, str]] = {}
        digests = []
        for r in rows:
            who = (r["committee"], r["phone"], r["email"])
            pair = known.get(who) or found.get(who)
            if pair is None:
                pair = contact_digests(*who, key)
            found[who] = pair
            digests.append(pair)
        self._digests = found
        return digests

    def check_mapping(self, keys: set[str]) -> str | None:
        if "name" not in keys:
            return _("Choose the column that holds people’s names.")
        if not keys & {"phone", "email"}:
            return _("Choose the column that holds phones, or the one that holds emails.")
        return None

    def _reachable(self, job: ImportJob) -> dict[str, int]:
        """Committees a row may name: the job's own and those under it, by slug and name."""
        if (job.pk, job.created_at) not in self._committees:
            found: dict[str, int] = {}
            for pk, slug, name in Committee.objects.filter(
                pk__in=committee_and_below(Committee.objects.get(pk=job.scope_id))
            ).values_list("pk", "slug", "name"):
                found[slug.lower()] = pk
                found[name.lower()] = pk
            self._committees = {(job.pk, job.created_at): found}
        return self._committees[(job.pk, job.created_at)]

    def validate_row(self, job: ImportJob, values: dict[str, str]) -> dict[str, Any]:
        name = " ".join(values.get("name", "").split())
        if not name:
            raise RowInvalid(_("The name is missing."))
        if len(name) > MAX_NAME:
            raise RowInvalid(_("The name is longer than %(n)s characters.") % {"n": MAX_NAME})
        raw_phone, raw_email = values.get("phone", ""), values.get("email", "")
        phone = normal_phone(raw_phone) if raw_phone else ""
        if raw_phone and not phone:
            raise RowInvalid(_("The phone is not a number we can text."))
        email = raw_email.lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise RowInvalid(_("The email is not an email address.")) from None
        if not phone and not email:
            raise RowInvalid(_("A phone or an email is needed to invite them."))
        language = settings.LANGUAGE_CODE
        if values.get("language"):
            language = language_names().get(values["language"].lower(), "")
            if not language:
                raise RowInvalid(_("The language is not one the site speaks (English or Spanish)."))
        zip_code = values.get("zip", "")[:5] if values.get("zip") else ""
        if zip_code and not is_real_zip(zip_code):
            raise RowInvalid(_("The ZIP code does not exist."))
        skills: list[str] = []
        if values.get("skills"):
            known = _skill_names()
            for word in re.split(r"[,;/|]", values["skills"]):
                word = word.strip().lower()
                if not word:
                    continue
                if word not in known:
                    raise RowInvalid(
                        _("“%(skill)s” is not one of the skills.") % {"skill": word[:40]}
                    )
                if known[word] not in skills:
                    skills.append(known[word])
        committee = job.scope_id
        if values.get("committee"):
            found = self._reachable(job).get(values["committee"].lower())
            if found is None:
                raise RowInvalid(_("The committee is not this one or one under it."))
            committee = found
        return {
            "name": name,
            "phone": phone,
            "email": email,
            "language": language,
            "zip": zip_code,
            "skills": skills,
            "committee": committee,
        }

    def identities(self, cleaned: dict[str, Any]) -> list[str]:
        found = []
        if cleaned["phone"]:
            found.append(f"phone:{cleaned['phone']}")
        if cleaned["email"]:
            found.append(f"email:{cleaned['email']}")
        return found

    def match_existing(self, job: ImportJob, rows: Sequence[dict[str, Any]]) -> list[bool]:
        if not rows:
            return []
        digests = self._contact_digests(job, rows)
        listed = set(
            Invitee.objects.filter(
                Q(phone_digest__in=[d[0] for d in digests if d[0]])
                | Q(email_digest__in=[d[1] for d in digests if d[1]])
            ).values_list("committee_id", "phone_digest", "email_digest")
        )
        listed_digests = {(c, p) for c, p, _e in listed if p} | {(c, e) for c, _p, e in listed if e}
        phones = {r["phone"] for r in rows if r["phone"]}
        emails = {r["email"] for r in rows if r["email"]}
        members = set()
        for committee_id, phone, email in Membership.objects.filter(
            Q(user__phone__in=phones) | Q(user__email__in=emails),
            committee_id__in={r["committee"] for r in rows},
        ).values_list("committee_id", "user__phone", "user__email"):
            members.add((committee_id, "phone", phone))
            if email:  # an SMS-only member has none
                members.add((committee_id, "email", email.lower()))
        found = []
        for row, (phone_d, email_d) in zip(rows, digests, strict=True):
            c = row["committee"]
            found.append(
                (bool(phone_d) and (c, phone_d) in listed_digests)
                or (bool(email_d) and (c, email_d) in listed_digests)
                or (bool(row["phone"]) and (c, "phone", row["phone"]) in members)
                or (bool(row["email"]) and (c, "email", row["email"]) in members)
            )
        return found

    def apply_row(self, job: ImportJob, cleaned: dict[str, Any]) -> None:
        self.apply_rows(job, [cleaned])

    def apply_rows(self, job: ImportJob, rows: Sequence[dict[str, Any]]) -> None:
        """A batch in three statements: the people (for their ids, which bind the
        ciphertext), one data key each, then their sealed details."""
        if not rows:
            return
        now = timezone.now()
        own = []
        for r, (phone_d, email_d) in zip(rows, self._contact_digests(job, rows), strict=True):
            own.append(
                {
                    "committee": r["committee"],
                    "phone_digest": phone_d,
                    "email_digest": email_d,
                    "language": r["language"],
                    "skills": r["skills"],
                    "link_nonce": secrets.token_hex(16),
                }
            )
        ids = insert_returning_ids(
            Invitee,
            own,
            {"import_job": job.pk, "created_at": now, "times_invited": 0, "channel": ""},
        )
        # Each person under their own data key (shredding one forgets one person), sealed
        # with the raw keys just made: as crypto.seal_json would, without a model instance
        # or an unwrap per row.
        keys = crypto.new_raw_keys("people.invitee", len(ids))
        # One prepared UPDATE run over the batch: bulk_update's CASE per column and row is
        # quadratic on SQLite (a 500-row batch took longer than inserting it).
        meta = Invitee._meta
        connection = transaction.get_connection()
        details = meta.get_field("details")
        quote = connection.ops.quote_name
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {quote(meta.get_field('data_key').column)} = %s, "  # noqa: S608
            f"{quote(details.column)} = %s WHERE {quote(meta.pk.column)} = %s"
        )
        params = []
        for pk, (key_id, raw), cleaned in zip(ids, keys, rows, strict=True):
            sealed = crypto.encrypt_raw(
                raw,
                json.dumps({f: cleaned[f] for f in SEALED if cleaned[f]}, ensure_ascii=False),
                aad=crypto.aad_for_row(Invitee, "details", pk),
            )
            params.append([key_id, details.get_db_prep_save(sealed, connection), pk])
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


# What of a row is sealed.
SEALED = ("name", "phone", "email", "zip")
