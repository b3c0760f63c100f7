"""Who may use which workflow and touch which batch, from ``[access]`` and each ``allow`` list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.chat.text.renderer import EN, Messages
from bot.config import Config
from engine.errors import CommandError


def _norm(identity: str) -> str:
    # "Telegram:123" in a hand-written config still means telegram:123; ids keep their case
    platform, sep, rest = identity.strip().partition(":")
    return f"{platform.lower()}{sep}{rest}"


def _platform(identity: str) -> str:
    return identity.partition(":")[0]


class Access:
    """Permission rules. Identities are ``<platform>:<id>`` (a person or a chat).

    An allow entry names a person, a chat, or ``<platform>:*`` (everyone on that platform).
    Admins may use every workflow and touch every batch. An empty allow list admits admins
    only, so a workflow is closed until someone opens it.
    """

    def __init__(self, admins: Iterable[str], allow: Mapping[str, Iterable[str]]) -> None:
        self._admins = frozenset(_norm(a) for a in admins)
        self._allow = {name: frozenset(_norm(e) for e in entries) for name, entries in allow.items()}

    @classmethod
    def from_config(cls, config: Config) -> Access:
        return cls(config.access.admins, {name: wf.allow for name, wf in config.workflows.items()})

    def is_admin(self, identity: str) -> bool:
        return _norm(identity) in self._admins

    def may_use(self, workflow: str, user_identity: str, chat_identity: str | None = None) -> bool:
        """True when the person, or the chat they write in, is allowed; unknown workflows never."""
        allowed = self._allow.get(workflow)
        if allowed is None:
            return False
        if self.is_admin(user_identity):
            return True
        for who in (user_identity, chat_identity):
            if who is None:
                continue
            who = _norm(who)
            if who in allowed or f"{_platform(who)}:*" in allowed:
                return True
        return False

    def may_touch(self, batch_owner: str, identity: str) -> bool:
        """Own batches only, unless an admin."""
        return _norm(batch_owner) == _norm(identity) or self.is_admin(identity)

    def workflows_for(self, user_identity: str, chat_identity: str | None = None) -> list[str]:
        """The workflows this person may use here, in the config's order."""
        return [name for name in self._allow if self.may_use(name, user_identity, chat_identity)]

    def check_use(
        self,
        workflow: str,
        user_identity: str,
        chat_identity: str | None = None,
        *,
        messages: Messages = EN,
    ) -> None:
        """Raise `CommandError` ("You may not use workflow X.") unless `may_use`."""
        if workflow not in self._allow:
            raise CommandError(messages.unknown_workflow_text(workflow))
        if not self.may_use(workflow, user_identity, chat_identity):
            raise CommandError(messages.may_not_use_text(workflow))

    def check_touch(
        self, batch_id: str, batch_owner: str, identity: str, *, messages: Messages = EN
    ) -> None:
        """Raise `CommandError` ("Batch 7f3a2c belongs to someone else.") unless `may_touch`."""
        if not self.may_touch(batch_owner, identity):
            raise CommandError(messages.not_yours_text(batch_id))
