"""Accounts and API keys in the single table.

| item               | pk                       | sk              |
|--------------------|--------------------------|-----------------|
| account            | ACCOUNT#<id>             | META            |
| email (unique)     | EMAIL#<lowercased email> | META            |
| key lookup         | APIKEY#<sha256 of key>   | META            |
| key in its account | ACCOUNT#<id>             | APIKEY#<key id> |

Both key items carry the same attributes and change together in one transaction. The confirmation
code's attributes are named code_*, the live-activation code's live_code_* (never `expires_at`, the
table's TTL attribute). Every guess at a code first takes one of its attempts, a conditional ADD
that fails once they are used up, so concurrent guesses cannot try more codes than the limit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sello.adapters.dynamo import PK, SK, ConditionFailed, DynamoStore, account_pk, parse_dt
from sello.ids import iso
from sello.models.accounts import Account, ApiKey, Confirmation, email_key
from sello.i18n import DEFAULT_LANGUAGE
from sello.plans import DEFAULT_PLAN

META = "META"
CodeKind = Literal["confirmation", "live"]
_PREFIX: dict[str, str] = {"confirmation": "code_", "live": "live_code_"}


def email_pk(email: str) -> str:
    return f"EMAIL#{email_key(email)}"


def key_lookup_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def _account_item(account: Account) -> dict:
    item = {PK: account_pk(account.id), SK: META, "type": "account", "id": account.id,
            "company_name": account.company_name, "email": account.email, "status": account.status,
            "created_at": iso(account.created_at), "plan": account.plan, "language": account.language}
    if account.confirmed_at:
        item["confirmed_at"] = iso(account.confirmed_at)
    if account.live_enabled_at:
        item["live_enabled_at"] = iso(account.live_enabled_at)
    if account.signup_notice_at:
        item["signup_notice_at"] = iso(account.signup_notice_at)
    if account.confirmation:
        item.update(_code_attributes(account.confirmation))
    if account.live_activation:
        item.update(_code_attributes(account.live_activation, "live"))
    return item


def _code_attributes(c: Confirmation, kind: CodeKind = "confirmation") -> dict:
    p = _PREFIX[kind]
    return {f"{p}hash": c.code_hash, f"{p}expires_at": iso(c.expires_at), f"{p}sent_at": iso(c.sent_at),
            f"{p}attempts": c.attempts}


def _code(item: dict, kind: CodeKind) -> Confirmation | None:
    p = _PREFIX[kind]
    if not item.get(f"{p}hash"):
        return None
    return Confirmation(code_hash=item[f"{p}hash"], expires_at=parse_dt(item[f"{p}expires_at"]),
                        sent_at=parse_dt(item[f"{p}sent_at"]), attempts=int(item.get(f"{p}attempts", 0)))


def _account(item: dict) -> Account:
    return Account(id=item["id"], company_name=item["company_name"], email=item["email"],
                   status=item["status"], created_at=parse_dt(item["created_at"]),
                   confirmed_at=parse_dt(item.get("confirmed_at")), confirmation=_code(item, "confirmation"),
                   live_enabled_at=parse_dt(item.get("live_enabled_at")), live_activation=_code(item, "live"),
                   signup_notice_at=parse_dt(item.get("signup_notice_at")),
                   plan=item.get("plan", DEFAULT_PLAN), language=item.get("language", DEFAULT_LANGUAGE))


def _key_items(key: ApiKey) -> list[dict]:
    attributes = {"type": "api_key", "id": key.id, "account_id": key.account_id,
                  "environment": key.environment, "key_hash": key.key_hash, "hint": key.hint,
                  "status": key.status, "created_at": iso(key.created_at)}
    if key.name is not None:
        attributes["name"] = key.name
    if key.revoked_at:
        attributes["revoked_at"] = iso(key.revoked_at)
    return [{PK: key_lookup_pk(key.key_hash), SK: META, **attributes},
            {PK: account_pk(key.account_id), SK: key_sk(key.id), **attributes}]


def _key(item: dict) -> ApiKey:
    return ApiKey(id=item["id"], account_id=item["account_id"], name=item.get("name"),
                  environment=item["environment"], key_hash=item["key_hash"], hint=item["hint"],
                  status=item["status"], created_at=parse_dt(item["created_at"]),
                  revoked_at=parse_dt(item.get("revoked_at")))


def _revocations(key: ApiKey, at: datetime) -> list[dict]:
    """Updates that revoke both items of an active key."""
    return [{
        "Key": {PK: pk, SK: sk},
        "UpdateExpression": "SET #status = :revoked, #revoked_at = :at",
        "ConditionExpression": "#status = :active",
        "ExpressionAttributeNames": {"#status": "status", "#revoked_at": "revoked_at"},
        "ExpressionAttributeValues": {":revoked": "revoked", ":active": "active", ":at": iso(at)},
    } for pk, sk in ((key_lookup_pk(key.key_hash), META), (account_pk(key.account_id), key_sk(key.id)))]


class DynamoAccountsRepo:
    def __init__(self, store: DynamoStore):
        self.store = store

    def create_account(self, account: Account, key: ApiKey | None = None) -> bool:
        """The account, its unique email item (and optionally a first key), all or nothing.
        False when the email is taken."""
        email_item = {PK: email_pk(account.email), SK: META, "type": "account_email",
                      "account_id": account.id}
        items = [_account_item(account), email_item, *(_key_items(key) if key else ())]
        try:
            self.store.transact(unique_puts=items)
        except ConditionFailed:
            return False
        return True

    def find_account_id(self, email: str) -> str | None:
        item = self.store.get(email_pk(email), META)
        return item["account_id"] if item else None

    def get_account(self, account_id: str) -> Account | None:
        item = self.store.get(account_pk(account_id), META)
        return _account(item) if item else None

    def claim_attempt(self, account_id: str, kind: CodeKind, code_hash: str, max_attempts: int) -> bool:
        """Takes one attempt at the account's `kind` code, if that code is still `code_hash` and has
        attempts left. False otherwise: the caller must not look at the guess."""
        p = _PREFIX[kind]
        try:
            self.store.update(account_pk(account_id), META, add={f"{p}attempts": 1},
                              condition=f"#{p}hash = :hash AND #{p}attempts < :max",
                              values={":hash": code_hash, ":max": max_attempts})
        except ConditionFailed:
            return False
        return True

    def replace_code(self, account_id: str, confirmation: Confirmation, current: Confirmation,
                     company_name: str | None = None, language: str | None = None) -> bool:
        """Puts `confirmation` (and the `company_name` and `language`, when given) in place of
        `current`, if the account is still pending with that code."""
        changes = (_code_attributes(confirmation) | ({"company_name": company_name} if company_name else {})
                   | ({"language": language} if language else {}))
        try:
            self.store.update(account_pk(account_id), META, set_=changes,
                              condition="#status = :pending AND #code_hash = :hash AND #code_sent_at = :sent",
                              values={":pending": "pending_confirmation", ":hash": current.code_hash,
                                      ":sent": iso(current.sent_at)})
        except ConditionFailed:
            return False
        return True

    def claim_signup_notice(self, account_id: str, at: datetime | None, current: datetime | None) -> bool:
        """Sets the time of the last sign-up notice to `at` (None: removes it) if it is still `current`."""
        condition = ("attribute_not_exists(#signup_notice_at)" if current is None
                     else "#signup_notice_at = :current")
        values = {":current": iso(current)} if current is not None else None
        try:
            if at is None:
                self.store.update(account_pk(account_id), META, remove=["signup_notice_at"],
                                  condition=condition, values=values)
            else:
                self.store.update(account_pk(account_id), META, set_={"signup_notice_at": iso(at)},
                                  condition=f"attribute_exists(#{PK}) AND {condition}",
                                  values=values)
        except ConditionFailed:
            return False
        return True

    def discard_pending(self, account: Account) -> bool:
        """Deletes an account and its email item, in one transaction, if the account is still pending
        with the code it was created with. False when it changed meanwhile."""
        account_delete = {
            "Key": {PK: account_pk(account.id), SK: META},
            "ConditionExpression": "#status = :pending AND #code_hash = :hash",
            "ExpressionAttributeNames": {"#status": "status", "#code_hash": "code_hash"},
            "ExpressionAttributeValues": {":pending": "pending_confirmation",
                                          ":hash": account.confirmation.code_hash},
        }
        email_delete = {
            "Key": {PK: email_pk(account.email), SK: META},
            "ConditionExpression": "#account_id = :id",
            "ExpressionAttributeNames": {"#account_id": "account_id"},
            "ExpressionAttributeValues": {":id": account.id},
        }
        try:
            self.store.transact(deletes=[account_delete, email_delete])
        except ConditionFailed:
            return False
        return True

    def set_language(self, account_id: str, language: str) -> bool:
        """The language of an existing account; False when there is no such account."""
        try:
            self.store.update(account_pk(account_id), META, set_={"language": language},
                              condition=f"attribute_exists(#{PK})")
        except ConditionFailed:
            return False
        return True

    def activate(self, account_id: str, code_hash: str, max_attempts: int, confirmed_at: datetime,
                 key: ApiKey) -> bool:
        """Activates a pending account whose code is still `code_hash` (the guess that matched took one
        of its at most `max_attempts` attempts), and adds its first key, in one transaction."""
        update = {
            "Key": {PK: account_pk(account_id), SK: META},
            "UpdateExpression": "SET #status = :active, #confirmed_at = :at",
            "ConditionExpression": "#status = :pending AND #code_hash = :hash AND #code_attempts <= :max",
            "ExpressionAttributeNames": {"#status": "status", "#confirmed_at": "confirmed_at",
                                         "#code_hash": "code_hash", "#code_attempts": "code_attempts"},
            "ExpressionAttributeValues": {":active": "active", ":pending": "pending_confirmation",
                                          ":at": iso(confirmed_at), ":hash": code_hash, ":max": max_attempts},
        }
        try:
            self.store.transact(unique_puts=_key_items(key), updates=[update])
        except ConditionFailed:
            return False
        return True

    def replace_live_code(self, account_id: str, new: Confirmation | None,
                          current: Confirmation | None) -> bool:
        """Puts the live-activation code `new` (None: removes it) in place of `current` (None: no code
        yet), if the account is active, not live yet, and still holds `current`."""
        names = ("hash", "expires_at", "sent_at", "attempts")
        condition = "#status = :active AND attribute_not_exists(#live_enabled_at) AND "
        values = {":active": "active"}
        if current is None:
            condition += "attribute_not_exists(#live_code_hash)"
        else:
            condition += "#live_code_hash = :hash AND #live_code_sent_at = :sent"
            values.update({":hash": current.code_hash, ":sent": iso(current.sent_at)})
        try:
            if new is None:
                self.store.update(account_pk(account_id), META, remove=[f"live_code_{n}" for n in names],
                                  condition=condition, values=values)
            else:
                self.store.update(account_pk(account_id), META, set_=_code_attributes(new, "live"),
                                  condition=condition, values=values)
        except ConditionFailed:
            return False
        return True

    def enable_live(self, account_id: str, code_hash: str, max_attempts: int, at: datetime,
                    key: ApiKey) -> bool:
        """Marks the account live and adds its first live key, in one transaction, if its live-activation
        code is still `code_hash` (within its attempts) and it is not live yet. The code is removed."""
        update = {
            "Key": {PK: account_pk(account_id), SK: META},
            "UpdateExpression": "SET #live_enabled_at = :at REMOVE #hash, #expires, #sent, #attempts",
            "ConditionExpression": "#status = :active AND attribute_not_exists(#live_enabled_at) AND "
                                   "#hash = :hash AND #attempts <= :max",
            "ExpressionAttributeNames": {"#status": "status", "#live_enabled_at": "live_enabled_at",
                                         "#hash": "live_code_hash", "#expires": "live_code_expires_at",
                                         "#sent": "live_code_sent_at", "#attempts": "live_code_attempts"},
            "ExpressionAttributeValues": {":active": "active", ":at": iso(at), ":hash": code_hash,
                                          ":max": max_attempts},
        }
        try:
            self.store.transact(unique_puts=_key_items(key), updates=[update])
        except ConditionFailed:
            return False
        return True

    def add_key(self, key: ApiKey) -> None:
        self.store.transact(unique_puts=_key_items(key))

    def get_key(self, account_id: str, key_id: str) -> ApiKey | None:
        item = self.store.get(account_pk(account_id), key_sk(key_id))
        return _key(item) if item else None

    def list_keys(self, account_id: str) -> list[ApiKey]:
        return [_key(i) for i in self.store.query_all(account_pk(account_id), key_sk(""))]

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        item = self.store.get(key_lookup_pk(key_hash), META)
        return _key(item) if item else None

    def revoke_key(self, key: ApiKey, at: datetime, spare: ApiKey) -> bool:
        """Revokes an active key while `spare`, another key of the account, is still active."""
        spare_active = {
            "Key": {PK: account_pk(spare.account_id), SK: key_sk(spare.id)},
            "ConditionExpression": "#status = :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":active": "active"},
        }
        try:
            self.store.transact(updates=_revocations(key, at), checks=[spare_active])
        except ConditionFailed:
            return False
        return True

    def rotate_key(self, old: ApiKey, new: ApiKey, at: datetime) -> bool:
        try:
            self.store.transact(unique_puts=_key_items(new), updates=_revocations(old, at))
        except ConditionFailed:
            return False
        return True
