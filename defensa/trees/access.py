"""Who may see which tree, cascade and group (need to know).

- A tree and its cascades belong to the committee's full-member coordinators
  (`get_tree_for`, `get_cascade_for`); everyone else gets 404.
- A captain sees their own group in a cascade (`get_duty_for`): names and the people's
  confirmations, and calls them from their own phone; never the rest of the tree.
- A person confirms with the one-tap link of their text (`actions.find_reach`): the token is
  the credential, and the page shows nobody else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.committees.models import Committee
from defensa.core.access import active_user, one_from_url, pk_from_url
from defensa.trees.models import Branch, Cascade, Duty, Leaf, Reach, Tree


def tree_committees_for(user: AnyUser | None) -> QuerySet[Committee]:
    return committees_for(user, "coordinator")


def get_tree_committee_for(user: AnyUser | None, slug: str) -> Committee:
    found = tree_committees_for(user).filter(slug=slug).first()
    if found is None:
        raise Http404
    return found


def trees_for(user: AnyUser | None) -> QuerySet[Tree]:
    return Tree.objects.filter(committee__in=tree_committees_for(user)).select_related("committee")


def get_tree_for(user: AnyUser | None, pk: Any) -> Tree:
    return one_from_url(trees_for(user), pk)


def branches_for(user: AnyUser | None, tree: Tree) -> QuerySet[Branch]:
    """The captains' groups of a tree the user coordinates (empty for anyone else)."""
    return Branch.objects.filter(tree__in=trees_for(user), tree=tree)


def get_leaf_for(user: AnyUser | None, tree: Tree, pk: Any) -> Leaf:
    found = Leaf.objects.filter(tree__in=trees_for(user), tree=tree, pk=pk_from_url(pk)).first()
    if found is None:
        raise Http404
    return found


def cascades_for(user: AnyUser | None) -> QuerySet[Cascade]:
    return Cascade.objects.filter(tree__in=trees_for(user)).select_related("tree__committee")


def get_cascade_for(user: AnyUser | None, pk: Any) -> Cascade:
    return one_from_url(cascades_for(user), pk)


def duties_for(user: AnyUser | None) -> QuerySet[Duty]:
    """The user's own captain duties (full members only: a captain sees others' names)."""
    person = active_user(user)
    if person is None:
        return Duty.objects.none()
    return Duty.objects.filter(
        captain=person, cascade__tree__committee__in=committees_for(person, "full")
    ).select_related("cascade__tree__committee", "captain")


def get_duty_for(user: AnyUser | None, cascade_pk: Any) -> Duty:
    found = duties_for(user).filter(cascade_id=pk_from_url(cascade_pk)).first()
    if found is None:
        raise Http404
    return found


def get_reach_for(user: AnyUser | None, cascade_pk: Any, pk: Any) -> Reach:
    """A person in the user's group in that cascade (as captain), or one handed to the
    coordinators when the user coordinates the tree; 404 otherwise."""
    cascade_id, reach_id = pk_from_url(cascade_pk), pk_from_url(pk)
    found = (
        Reach.objects.filter(pk=reach_id, cascade_id=cascade_id, duty__in=duties_for(user)).first()
        or Reach.objects.filter(
            pk=reach_id,
            cascade_id=cascade_id,
            cascade__in=cascades_for(user),
            handed_to_coordinators=True,
        ).first()
    )
    if found is None:
        raise Http404
    return found
