"""What the export already knows about each sender: messages, endorsements, recommendations, address book, profile.

LinkedIn's export carries no shared-connection counts, but it does carry the
user's own history with people: conversations (``messages.csv``),
endorsements and recommendations either way, the imported address book,
existing connections, and the user's own employers and schools. ``History``
reads those files once (each is optional), keeps small per-person tallies
keyed by profile URL and by name, and ``History.evidence`` gives what is
known about one inviter. ``decide`` combines that evidence with the note's
own verdict into an action; the table in the README's triage section is the
same rule in words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from invitecls._cues import PITCH_CONCEPTS
from invitecls._export import (
    CONNECTIONS,
    CONTACTS,
    EDUCATION,
    ENDORSEMENTS_GIVEN,
    ENDORSEMENTS_RECEIVED,
    INVITATIONS,
    MESSAGES,
    POSITIONS,
    RECOMMENDATIONS_GIVEN,
    RECOMMENDATIONS_RECEIVED,
    Export,
    ExportError,
    normalize_name,
    normalize_url,
)

__all__ = ["EVIDENCE_COLUMNS", "Evidence", "History", "decide", "find_claims", "is_pitch", "load_history"]

#: Output columns added by the history, in order.
EVIDENCE_COLUMNS = (
    "messages_exchanged", "replied", "endorsement", "recommendation", "in_contacts", "already_connected",
    "profile_claim",
)  # fmt: skip

#: People kept from the history files together: each file is bounded in bytes already,
#: this bounds the tallies built from them (a few hundred bytes each).
MAX_PEOPLE = 1_000_000

# Legal forms left out when a profile's company is looked for in a note ("Heineken N.V." -> "heineken").
_LEGAL_FORMS = {
    "a s", "ab", "ag", "as", "aps", "b v", "bv", "co", "corp", "corporation", "gmbh", "inc", "limited", "llc",
    "ltd", "n v", "nv", "oy", "oyj", "plc", "s a", "sa", "sarl", "se", "spa",
}  # fmt: skip

# A claim of a shared employer or school, in English: a trigger, then a capitalised
# name ("we both worked at Heineken", "fellow TU Delft alumnus", "ex-colleague from
# Shell"). The name's words start with a capital or digit; "of", "and", "&" may join them.
_NAME = r"(?P<name>[A-Z0-9À-ÖØ-Þ][\w&.'’-]*(?:\s+(?:(?:of|for|and|de|&)\s+)?[A-Z0-9À-ÖØ-Þ][\w&.'’-]*)*)"
_CLAIM = re.compile(
    r"\b(?i:"
    r"we\s+(?:both\s+|all\s+)?(?:worked|work|studied|study)\s+(?:both\s+|together\s+)?(?:at|for|in)"
    r"|both\s+(?:worked|studied)\s+(?:together\s+)?(?:at|for|in)"
    r"|(?:worked|studied)\s+together\s+(?:at|for|in)"
    r"|(?:former|ex-?|old)\s*colleagues?\s+(?:at|from|of)"
    r"|(?:colleagues?|classmates?|teammates?)\s+(?:at|from)"
    r"|fellow"
    r")\s+(?:the\s+)?" + _NAME
)
# "<name> alumnus" / "alumni of <name>" also claim a school.
_ALUMNUS = re.compile(
    _NAME + r"\s+(?i:alumn(?:us|a|i|ae)|alum|graduate)\b|\b(?i:alumn(?:us|a|i|ae)|graduate)\s+(?i:of|from)\s+"
    r"(?:the\s+)?" + _NAME.replace("?P<name>", "?P<name2>")
)
_NOT_NAMES = {"i", "we", "you", "the", "linkedin", "my", "our"}


@dataclass(frozen=True)
class Evidence:
    """What the export knows about one inviter; None where the export lacks the file.

    Attributes
    ----------
    messages_exchanged : int or None
        Messages from the inviter to the user plus from the user to the inviter.
    replied : bool or None
        The user wrote to the inviter at least once.
    they_wrote : int
        Messages from the inviter.
    endorsement, recommendation : str
        ``""``, ``"received"`` (the inviter endorsed/recommended the user),
        ``"given"`` (the reverse) or ``"both"``.
    in_contacts : bool or None
        The inviter is in the imported address book.
    already_connected : bool or None
        The inviter is in ``Connections.csv``: a duplicate invitation.
    connected_on : datetime.date or None
    profile_claim : str
        ``"on profile: X"`` (the note names X, one of the user's employers or
        schools), ``"not on profile: X"`` (the note claims a shared X the
        profile does not list), or ``""``.
    claimed : bool
        The note claims a shared past at the X it names (not merely names it).
    """

    messages_exchanged: int | None = None
    replied: bool | None = None
    they_wrote: int = 0
    endorsement: str = ""
    recommendation: str = ""
    in_contacts: bool | None = None
    already_connected: bool | None = None
    connected_on: dt.date | None = None
    profile_claim: str = ""
    claimed: bool = False

    @property
    def two_way(self) -> bool:
        """Both wrote: a conversation, not a campaign."""
        return bool(self.replied) and self.they_wrote > 0

    @property
    def strong(self) -> bool:
        """Evidence of a real contact: a two-way conversation, a recommendation either way, a connection."""
        return self.two_way or bool(self.recommendation) or bool(self.already_connected)

    @property
    def weak(self) -> bool:
        """Evidence of some contact: an endorsement, the address book, a message from the user, a verified claim."""
        verified = self.claimed and self.profile_claim.startswith("on profile")
        return bool(self.endorsement) or bool(self.in_contacts) or bool(self.replied) or verified

    @property
    def false_claim(self) -> bool:
        """The note claims a shared employer or school that the user's profile does not list."""
        return self.profile_claim.startswith("not on profile")

    def as_record(self) -> dict[str, Any]:
        """The output columns (``EVIDENCE_COLUMNS``)."""
        return {
            "messages_exchanged": self.messages_exchanged,
            "replied": self.replied,
            "endorsement": self.endorsement,
            "recommendation": self.recommendation,
            "in_contacts": self.in_contacts,
            "already_connected": self.already_connected,
            "profile_claim": self.profile_claim,
        }

    def reasons(self, sender: str) -> tuple[str, ...]:
        """Each relation found, in words."""
        out = []
        if self.already_connected:
            since = f" since {self.connected_on.isoformat()}" if self.connected_on else ""
            out.append(f"already connected{since}: a duplicate invitation")
        if self.messages_exchanged:
            if self.two_way:
                word = "message" if self.messages_exchanged == 1 else "messages"
                out.append(f"you exchanged {self.messages_exchanged} {word} with {sender}")
            elif self.replied:
                out.append(f"you wrote to {sender} ({self.messages_exchanged}), with no answer")
            else:
                word = "message" if self.they_wrote == 1 else "messages"
                out.append(f"{sender} sent you {self.they_wrote} {word}; you never replied")
        for kind, verb in ((self.recommendation, "recommended"), (self.endorsement, "endorsed")):
            if kind == "both":
                out.append(f"you and {sender} {verb} each other")
            elif kind == "received":
                out.append(f"{sender} {verb} you")
            elif kind == "given":
                out.append(f"you {verb} {sender}")
        if self.in_contacts:
            out.append(f"{sender} is in your address book")
        if self.profile_claim.startswith("on profile: "):
            what = self.profile_claim.removeprefix("on profile: ")
            out.append(f"{'claims' if self.claimed else 'names'} {what}, which is on your profile")
        elif self.false_claim:
            what = self.profile_claim.removeprefix("not on profile: ")
            out.append(f"claims a shared past at {what}, which is not on your profile")
        return tuple(out)


def is_pitch(note: str) -> bool:
    """Whether the note holds a concept of ``PITCH_CONCEPTS`` (an offer, a call to action, a scam story...)."""
    from invitecls._cues import CUE_NAMES, cue_counts
    from invitecls._normalize import normalize_one

    counts = cue_counts([normalize_one(note)[0]])[0]
    return any(counts[CUE_NAMES.index(name)] > 0 for name in PITCH_CONCEPTS)


def find_claims(note: str) -> list[str]:
    """Names a note claims a shared past at ("we both worked at X", "fellow X alumnus"), in order.

    Deliberately simple and English only: a trigger phrase, then a run of
    capitalised words. A claim it misses is only a reason not given.
    """
    found = []
    for pattern in (_CLAIM, _ALUMNUS):
        for match in pattern.finditer(note):
            name = match.groupdict().get("name") or match.groupdict().get("name2") or ""
            # "Fellow TU Delft alumnus": the alumnus pattern also takes the capitalised trigger word.
            name = re.sub(r"^(?:(?:Fellow|The|A|An|Proud|Former|Ex)\s+)+", "", name.rstrip(".'’-"))
            if name and name.casefold() not in _NOT_NAMES and name not in found:
                found.append(name)
    return found


def _org_key(name: str) -> str:
    """An employer or school name for matching: folded like a person's name, legal form dropped."""
    words = normalize_name(name).split()
    while len(words) > 1:
        for size in (2, 1):
            if len(words) > size and " ".join(words[-size:]) in _LEGAL_FORMS:
                words = words[:-size]
                break
        else:
            break
    return " ".join(words)


@dataclass
class _Tally:
    they_wrote: int = 0
    replied: int = 0
    endorsement: set[str] = field(default_factory=set)
    recommendation: set[str] = field(default_factory=set)
    in_contacts: bool = False
    connected_on: dt.date | None = None
    connected: bool = False

    def add(self, other: _Tally) -> None:
        self.they_wrote += other.they_wrote
        self.replied += other.replied
        self.endorsement |= other.endorsement
        self.recommendation |= other.recommendation
        self.in_contacts = self.in_contacts or other.in_contacts
        self.connected = self.connected or other.connected
        self.connected_on = self.connected_on or other.connected_on


class _People:
    """Tallies by profile URL, by name for rows without one, and by name for every row.

    An inviter with a URL is matched by it, plus the rows that had no URL to
    match (recommendations have none); an inviter without a URL, by name.
    """

    def __init__(self) -> None:
        self.by_url: dict[str, _Tally] = {}
        self.by_name_only: dict[str, _Tally] = {}
        self.by_name: dict[str, _Tally] = {}

    def check(self, where: str) -> None:
        """Stop at ``MAX_PEOPLE`` people (counted by name and by URL)."""
        if len(self.by_name) + len(self.by_url) > 2 * MAX_PEOPLE:
            raise ExportError(f"{where}: more than {MAX_PEOPLE:,} people in the history; stopped reading")

    def tallies(self, url: str, name: str, where: str) -> Iterator[_Tally]:
        """The tallies one row updates (URL and name as written)."""
        self.check(where)
        key_url = normalize_url(url) if url else ""
        key_name = normalize_name(name)
        if key_url:
            yield self.by_url.setdefault(key_url, _Tally())
        elif key_name:
            yield self.by_name_only.setdefault(key_name, _Tally())
        if key_name:
            yield self.by_name.setdefault(key_name, _Tally())

    def find(self, url: str, name: str) -> _Tally:
        out = _Tally()
        key_name = normalize_name(name)
        if url:
            for tally in (self.by_url.get(normalize_url(url)), self.by_name_only.get(key_name)):
                if tally is not None:
                    out.add(tally)
        elif key_name in self.by_name:
            out.add(self.by_name[key_name])
        return out


def _update(people: _People, url: str, name: str, where: str, **changes: Any) -> None:
    """Apply one row's ``changes`` to the person's tallies (each tally once)."""
    seen: set[int] = set()
    for tally in people.tallies(url, name, where):
        if id(tally) in seen:
            continue
        seen.add(id(tally))
        for attribute, value in changes.items():
            current = getattr(tally, attribute)
            if isinstance(current, set):
                current.add(value)
            elif isinstance(current, bool):
                setattr(tally, attribute, current or bool(value))
            elif isinstance(current, int):
                setattr(tally, attribute, current + value)
            else:
                setattr(tally, attribute, value)


def _direction(kinds: set[str]) -> str:
    if {"received", "given"} <= kinds:
        return "both"
    return next(iter(kinds), "")


class History:
    """The user's history from an export, per person, and the user's profile.

    Attributes
    ----------
    present : set of str
        Which kinds of history the export has (``"messages"``, ``"endorsements"``,
        ``"recommendations"``, ``"contacts"``, ``"connections"``, ``"profile"``).
    owner : str
        The user's name as found in ``messages.csv`` (its most frequent participant).
    """

    def __init__(self) -> None:
        self.people = _People()
        self.present: set[str] = set()
        self.owner = ""
        self.profile: dict[str, str] = {}  # org key -> name as on the profile
        self._profile_pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.present)

    def evidence(self, note: str, sender: str, url: str) -> Evidence:
        """What is known about the inviter ``sender`` (profile ``url``, may be empty) who wrote ``note``."""
        if not self.present:
            return Evidence()
        tally = self.people.find(url, sender)
        has = self.present.__contains__
        claim, claimed = self._claim(note) if has("profile") else ("", False)
        return Evidence(
            messages_exchanged=tally.they_wrote + tally.replied if has("messages") else None,
            replied=tally.replied > 0 if has("messages") else None,
            they_wrote=tally.they_wrote,
            endorsement=_direction(tally.endorsement),
            recommendation=_direction(tally.recommendation),
            in_contacts=tally.in_contacts if has("contacts") else None,
            already_connected=tally.connected if has("connections") else None,
            connected_on=tally.connected_on,
            profile_claim=claim,
            claimed=claimed,
        )

    def _claim(self, note: str) -> tuple[str, bool]:
        """``("on profile: X" | "not on profile: X" | "", whether the note claims a shared past)``."""
        claims = find_claims(note)
        claimed_keys = {_org_key(c) for c in claims}
        if self._profile_pattern is not None:
            folded = f" {normalize_name(note)} "
            match = self._profile_pattern.search(folded)
            if match:
                key = match.group(1)
                claimed = any(key in c or (c and c in key) for c in claimed_keys)
                return f"on profile: {self.profile[key]}", claimed
        for claim in claims:
            return f"not on profile: {claim}", True
        return "", False

    def set_profile(self, names: Iterable[str]) -> None:
        """The user's employers and schools, to check a note's claims against."""
        for name in names:
            key = _org_key(name)
            if len(key) >= 2 and key not in self.profile:  # "A" would match everywhere
                self.profile[key] = name
        if self.profile:
            # Longest first: "novo nordisk foundation" before "novo nordisk".
            keys = sorted(self.profile, key=len, reverse=True)
            self._profile_pattern = re.compile(" (" + "|".join(re.escape(k) for k in keys) + ") ")


def _owner(export: Export, where: str) -> str:
    """The export's owner: the recipient of its received invitations, else the most frequent correspondent.

    A received invitation names its recipient, the owner; the first thousand
    suffice. Without one, the owner takes part in every conversation of their
    own export: the most frequent participant of ``messages.csv`` (ties go to
    the first name in sorted order, so the answer never depends on the run).
    """
    seen: Counter[str] = Counter()
    if export.has(INVITATIONS):
        for invitation in export.invitations():
            if invitation.direction.upper() == "INCOMING" and invitation.recipient:
                seen[normalize_name(invitation.recipient)] += 1
                if sum(seen.values()) >= 1000:
                    break
    if not seen:
        for message in export.messages():
            for name in {normalize_name(n) for n in (message.sender, *message.recipients)}:
                if name:
                    seen[name] += 1
            if len(seen) > MAX_PEOPLE:
                raise ExportError(f"{where}: more than {MAX_PEOPLE:,} people in the history; stopped reading")
    if not seen:
        return ""
    most = max(seen.values())
    return min(name for name, n in seen.items() if n == most)


def load_history(export: Export) -> History:
    """Read every history file the export has; a missing file is simply not used.

    Raises
    ------
    ExportError
        A file that is present but malformed or beyond the bounds of
        ``invitecls._limits``: one line naming the file, line and field.
    """
    history = History()
    people = history.people
    if export.has(MESSAGES):
        history.present.add("messages")
        where = export.where(MESSAGES)
        owner = _owner(export, where)
        history.owner = owner
        for message in export.messages():
            if normalize_name(message.sender) == owner:
                urls = message.recipient_urls
                for url in urls:
                    _update(people, url, "", where, replied=1)
                # Recipient names and URLs are separate lists that need not line up: a name counts by
                # name (and, without URLs, for inviters matched by URL too: see _People).
                for name in message.recipients:
                    people.check(where)
                    key = normalize_name(name)
                    people.by_name.setdefault(key, _Tally()).replied += 1
                    if not urls:
                        people.by_name_only.setdefault(key, _Tally()).replied += 1
            elif message.sender:
                _update(people, message.sender_url, message.sender, where, they_wrote=1)
    for received, name in ((True, ENDORSEMENTS_RECEIVED), (False, ENDORSEMENTS_GIVEN)):
        if export.has(name):
            history.present.add("endorsements")
            for person in export.endorsements(received=received):
                kind = "received" if received else "given"
                _update(people, person.url, person.name, export.where(name), endorsement=kind)
    for received, name in ((True, RECOMMENDATIONS_RECEIVED), (False, RECOMMENDATIONS_GIVEN)):
        if export.has(name):
            history.present.add("recommendations")
            for person in export.recommendations(received=received):
                kind = "received" if received else "given"
                _update(people, person.url, person.name, export.where(name), recommendation=kind)
    if any(export.has(name) for name in CONTACTS):
        history.present.add("contacts")
        where = export.where(next(name for name in CONTACTS if export.has(name)))
        for person in export.contacts():
            _update(people, person.url, person.name, where, in_contacts=True)
    if export.has(CONNECTIONS):
        history.present.add("connections")
        for connection in export.connections():
            if connection.url or connection.name:
                _update(
                    people, connection.url, connection.name, export.where(CONNECTIONS),
                    connected=True, connected_on=connection.connected_on,
                )  # fmt: skip
    if export.has(POSITIONS) or export.has(EDUCATION):
        history.present.add("profile")
        history.set_profile([*export.employers()] if export.has(POSITIONS) else [])
        history.set_profile([*export.schools()] if export.has(EDUCATION) else [])
    return history


def decide(action: str | None, note: str, evidence: Evidence) -> str | None:
    """The action once the evidence is weighed with the note's own ``action``.

    ====================================  ===============================================
    evidence                              effect on the note's action
    ====================================  ===============================================
    strong: a two-way conversation, a     ``ask``/``decline`` -> ``accept``; for a pitch or
    recommendation either way, already    scam only ``decline`` -> ``ask``
    connected
    weak: an endorsement either way, the  ``decline`` -> ``ask``; a pitch or scam: none
    address book, a message from you,
    a claimed employer/school that is on
    your profile
    a claimed employer/school that is     ``accept`` -> ``ask``, unless the evidence is
    not on your profile                   strong
    messages only from them; a note that  none (a reason only)
    merely names your employer
    ====================================  ===============================================

    A pitch or scam is a note with a concept of ``PITCH_CONCEPTS``: evidence
    never turns it into ``accept``. None (a model of another task) stays None.
    """
    if action is None or not (evidence.strong or evidence.weak or evidence.false_claim):
        return action
    pitch = is_pitch(note)
    if evidence.strong:
        if not pitch:
            return "accept"
        return "ask" if action == "decline" else action
    if evidence.weak and not pitch and action == "decline":
        return "ask"
    if evidence.false_claim and action == "accept":
        return "ask"
    return action
