"""Who may see a committee's imports, invitees and exports: its coordinators only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, memberships_for
from defensa.committees.models import Committee
from defensa.core.access import one_from_url, pk_from_url
from defensa.imports.models import ImportJob
from defensa.people.models import Invitee, MemberExport
from defensa.people.rows import KIND


def _coordinates(user: AnyUser | None, committee: Committee) -> bool:
    return memberships_for(user, "coordinator").filter(committee=committee).exists()


def import_jobs_for(user: AnyUser | None, committee: Committee) -> QuerySet[ImportJob]:
    """The committee's member imports, for its coordinators."""
    if not _coordinates(user, committee):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(kind=KIND, scope_id=committee.pk)


def get_import_job_for(user: AnyUser | None, committee: Committee, pk: Any) -> ImportJob:
    found = import_jobs_for(user, committee).select_related("data_key").filter(pk=pk_from_url(pk))
    job = found.first()
    if job is None:
        raise Http404
    return job


def invitees_for(user: AnyUser | None, committee: Committee) -> QuerySet[Invitee]:
    """People on the committee's list who have no account yet (and those who joined)."""
    if not _coordinates(user, committee):
        return Invitee.objects.none()
    return Invitee.objects.filter(committee=committee).select_related("invitation", "data_key")


def get_invitee_for(user: AnyUser | None, committee: Committee, pk: Any) -> Invitee:
    return one_from_url(invitees_for(user, committee), pk)


def exports_for(user: AnyUser | None, committee: Committee) -> QuerySet[MemberExport]:
    if not _coordinates(user, committee):
        return MemberExport.objects.none()
    return MemberExport.objects.filter(committee=committee).select_related(
        "requested_by", "decided_by"
    )


def get_export_for(user: AnyUser | None, committee: Committee, pk: Any) -> MemberExport:
    return one_from_url(exports_for(user, committee), pk)
