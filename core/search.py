"""Search over subjects, message text, customer names, emails, phone numbers and order numbers, for
Chinese as well as Latin text, with one tokenizer on SQLite and PostgreSQL.

Why a term table and not pg_trgm or FTS5: pg_trgm builds trigrams only from alphanumeric runs as the
database's locale classifies them and its similarity is tuned to Latin words; PostgreSQL's built-in
text search has no Chinese parser; SQLite's FTS5 needs its own tokenizer for CJK. A table of terms
(words, whole emails, phone digits, and CJK *bigrams*, the standard technique for unsegmented
scripts) is portable SQL, is indexed by a plain B-tree on (term, ticket) and answers with
equality lookups intersected per query term, which keeps search time flat as tickets grow.

On PostgreSQL the same terms are kept per ticket instead, one row per ticket holding a text[] of its
terms under a GIN index (search_docs, migration core_0010): GIN stores each term once with a
compressed list of the rows that have it, a few bytes per (term, ticket) where the B-tree table
took over a hundred, and intersects the lists of all the query's terms itself, in one index scan.
GIN has no prefix lookup, so the CJK terms are also listed once each in search_vocab (a few
thousand rows): a one-character query becomes "any of the bigrams that start with it".
SQLite, the embedded desk's database, keeps the term table.

The index is derived from the database: `catch_up` reads messages and tickets beyond a stored
watermark, so every process (web, worker, embedded) can bring it up to date and nothing is lost if
a process dies; concurrent runs are harmless (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

from core import db, search_stats

MAX_TERM = 64
BATCH = 2000
_INSERT_ROWS = 400  # 800 parameters per statement: under SQLite's variable limit

# An e-mail address is found in two linear steps, never by one pattern that a long word makes
# backtrack (a "[\w.+-]+@..." search retries from every letter of the word: quadratic): first the
# runs of address characters, then, in a run with an "@", the domain that follows each "@".
_ADDRESS_RUN = re.compile(r"[\w.+@-]+")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")  # "." is not in [\w-]: no ambiguity, no backtracking
MAX_ADDRESS = 254  # RFC 5321's limit: a longer run holds no address
MAX_QUERY = 500  # characters of a search query; the inbox answers 400 beyond
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_TERM = re.compile(rf"[{_CJK}]{{1,2}}$")
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def emails(text: str) -> list[str]:
    """The e-mail addresses in a (normalized) text, in time linear in its length."""
    found: list[str] = []
    for run in _ADDRESS_RUN.findall(text):
        if "@" not in run or len(run) > MAX_ADDRESS:
            continue
        parts = run.split("@")
        for local, rest in zip(parts, parts[1:]):
            domain = _DOMAIN.match(rest)
            if local and domain:
                found.append(f"{local}@{domain.group()}")
    return found


def terms(text: str) -> set[str]:
    """The index terms of a text: words (2+ characters, or any number), whole emails, the digits of
    phone numbers, and the bigrams of every CJK run (a run of one character is kept whole)."""
    text = _normalize(text)
    out: set[str] = set()
    for email in emails(text):
        out.add(email[:MAX_TERM])
    for phone in _PHONE.findall(text):
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 6:
            out.add(digits[:MAX_TERM])
            out.add(_phone_key(digits))
    for cjk, word in _RUN.findall(text):
        if cjk:
            if len(cjk) == 1:
                out.add(cjk)
            out.update(cjk[i:i + 2] for i in range(len(cjk) - 1))
        elif len(word) >= 2 or word.isdigit():
            out.add(word[:MAX_TERM])
    return out


def _phone_key(digits: str) -> str:
    """The last ten digits: the same number with or without its country code."""
    return digits[-10:]


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(exact terms, prefixes) a query must all match. A lone CJK character matches as a prefix of
    the bigrams that start with it; a phone number matches by its digits."""
    text = _normalize(query[:MAX_QUERY]).strip()
    exact: set[str] = set()
    prefixes: list[str] = []
    for email in emails(text):
        exact.add(email[:MAX_TERM])
        text = text.replace(email, " ")
    for phone in _PHONE.findall(text):
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 6:
            exact.add(_phone_key(digits))
            text = text.replace(phone, " ")
    for cjk, word in _RUN.findall(text):
        if cjk:
            if len(cjk) == 1:
                prefixes.append(cjk)
            else:
                exact.update(cjk[i:i + 2] for i in range(len(cjk) - 1))
        elif len(word) >= 2 or word.isdigit():  # the same rule as terms()
            exact.add(word[:MAX_TERM])
    return sorted(exact), prefixes


def _per_ticket() -> bool:
    """PostgreSQL keeps one GIN-indexed row of terms per ticket; SQLite the (term, ticket) table."""
    return not db.is_sqlite()


async def _insert(pairs: Iterable[tuple[str, int]]) -> None:
    rows = list(pairs)
    if _per_ticket():
        return await _merge_docs(rows)
    for start in range(0, len(rows), _INSERT_ROWS):
        chunk = rows[start:start + _INSERT_ROWS]
        values = ", ".join("({}, {})" for _ in chunk)
        args: list[Any] = [v for pair in chunk for v in pair]
        await db.fetch(f"INSERT INTO search_terms (term, ticket) VALUES {values} "
                       "ON CONFLICT (term, ticket) DO NOTHING", *args)


async def indexed_pairs() -> int:
    """How many (term, ticket) pairs the index holds, on either database."""
    if _per_ticket():
        rows = await db.fetch("SELECT COALESCE(SUM(cardinality(terms)), 0) AS n FROM search_docs")
    else:
        rows = await db.fetch("SELECT COUNT(*) AS n FROM search_terms")
    return int(rows[0]["n"])


async def _merge_docs(pairs: list[tuple[str, int]]) -> None:
    """Add terms to their tickets' rows in one statement; a row that has them all is not rewritten
    (a rewrite re-enters every term in the GIN index). A ticket deleted meanwhile is skipped."""
    if not pairs:
        return
    cjk = sorted({term for term, _ in pairs if _CJK_TERM.match(term)})
    if cjk:
        await db.fetch("INSERT INTO search_vocab (term) SELECT unnest({}::text[]) ON CONFLICT (term) DO NOTHING", cjk)
    await db.fetch(
        "INSERT INTO search_docs (ticket, terms) SELECT p.ticket, array_agg(DISTINCT p.term) "
        "FROM unnest({}::int[], {}::text[]) AS p(ticket, term) JOIN tickets t ON t.id = p.ticket GROUP BY p.ticket "
        # in ticket order: two processes catching up on the same messages lock rows in one order
        "ORDER BY p.ticket "
        "ON CONFLICT (ticket) DO UPDATE SET terms = ARRAY(SELECT DISTINCT unnest(search_docs.terms || EXCLUDED.terms)) "
        "WHERE NOT search_docs.terms @> EXCLUDED.terms",
        [ticket for _, ticket in pairs], [term for term, _ in pairs])


async def _watermark(name: str) -> int:
    rows = await db.fetch("SELECT last_id FROM search_state WHERE name = {}", name)
    if rows:
        return rows[0]["last_id"]
    await db.fetch("INSERT INTO search_state (name, last_id) VALUES ({}, 0) ON CONFLICT (name) DO NOTHING", name)
    return 0


async def _advance(name: str, last_id: int) -> None:
    await db.fetch("UPDATE search_state SET last_id = {} WHERE name = {} AND last_id < {}", last_id, name, last_id)


async def _customer_terms(customer_ids: set[int]) -> dict[int, set[str]]:
    if not customer_ids:
        return {}
    ids = sorted(customer_ids)
    marks = ", ".join("{}" for _ in ids)
    out: dict[int, set[str]] = {i: set() for i in ids}
    for row in await db.fetch(f"SELECT id, name, email, phone FROM customers WHERE id IN ({marks})", *ids):
        out[row["id"]] |= terms(" ".join(str(v) for v in (row["name"], row["email"], row["phone"]) if v))
    for row in await db.fetch(f"SELECT customer, handle, display_name, email, phone FROM customer_identities "
                              f"WHERE customer IN ({marks})", *ids):
        values = (row["handle"], row["display_name"], row["email"], row["phone"])
        out[row["customer"]] |= terms(" ".join(str(v) for v in values if v))
    return out


async def index_tickets(ticket_ids: list[int]) -> None:
    """(Re)index tickets' subjects and customers now (after a merge or an edit)."""
    if not ticket_ids:
        return
    marks = ", ".join("{}" for _ in ticket_ids)
    rows = await db.fetch(f"SELECT id, subject, customer FROM tickets WHERE id IN ({marks})", *ticket_ids)
    people = await _customer_terms({r["customer"] for r in rows if r["customer"]})
    pairs = set()
    for row in rows:
        for term in terms(row["subject"] or "") | people.get(row["customer"], set()):
            pairs.add((term, row["id"]))
    await _insert(sorted(pairs))


async def catch_up(max_rounds: int = 50) -> int:
    """Index tickets and messages created since the last run; returns how many rows were read."""
    read = 0
    for _ in range(max_rounds):
        last = await _watermark("tickets")
        rows = await db.fetch("SELECT id FROM tickets WHERE id > {} ORDER BY id LIMIT {}", last, BATCH)
        if not rows:
            break
        await index_tickets([r["id"] for r in rows])
        await _advance("tickets", rows[-1]["id"])
        read += len(rows)
        if len(rows) < BATCH:  # that was the last of them: no empty read to find out
            break
    for _ in range(max_rounds):
        last = await _watermark("messages")
        rows = await db.fetch("SELECT id, ticket, subject, text, metadata FROM messages WHERE id > {} "
                              "ORDER BY id LIMIT {}", last, BATCH)
        if not rows:
            break
        pairs = set()
        for row in rows:
            found = terms(f"{row['subject'] or ''} {row['text'] or ''}")
            found |= terms(" ".join(_order_ids(row["metadata"])))
            pairs.update((t, row["ticket"]) for t in found)
        await _insert(sorted(pairs))
        await _advance("messages", rows[-1]["id"])
        read += len(rows)
        if len(rows) < BATCH:
            break
    return read


async def behind() -> bool:
    """Whether a ticket or a message is newer than the index's watermarks (one statement, two
    primary-key lookups): a search catches up only then."""
    rows = await db.fetch(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM tickets) > "
        "COALESCE((SELECT last_id FROM search_state WHERE name = 'tickets'), 0) "
        "OR (SELECT COALESCE(MAX(id), 0) FROM messages) > "
        "COALESCE((SELECT last_id FROM search_state WHERE name = 'messages'), 0) AS behind")
    return bool(rows[0]["behind"])


def _order_ids(metadata: Any) -> list[str]:
    import json

    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata or "{}")
        except ValueError:
            return []
    ids = (metadata or {}).get("order_ids") or []
    return [str(i) for i in ids if i]


CANDIDATE_CAP = 3000  # a term matching fewer tickets than this drives the search
FIRST_CHUNK = 200  # newest tickets read in the first step when every term is common; doubles per step
MAX_CHUNK = 1600
MAX_STEPS = 12


def _condition(term: str, prefix: bool) -> tuple[str, list[Any]]:
    if prefix:  # a range on the B-tree: the terms that start with this character
        return "term >= {} AND term < {}", [term, term + "\uffff"]
    return "term = {}", [term]


async def _capped_count(term: str, prefix: bool) -> int:
    where, args = _condition(term, prefix)
    rows = await db.fetch(f"SELECT COUNT(*) AS n FROM (SELECT ticket FROM search_terms WHERE {where} "
                          f"LIMIT {CANDIDATE_CAP}) s", *args)
    return int(rows[0]["n"])


async def _capped_counts(terms: list[tuple[str, bool]]) -> list[int]:
    """Each term's count (up to CANDIDATE_CAP), exact terms in one statement however many a long
    query has; a prefix (a lone CJK character, rare in a query) alone."""
    exact = [t for t, prefix in terms if not prefix]
    found: dict[str, int] = {}
    for start in range(0, len(exact), 200):
        chunk = exact[start:start + 200]
        values = ", ".join("({})" for _ in chunk)
        rows = await db.fetch(f"SELECT v.column1 AS term, (SELECT COUNT(*) FROM (SELECT 1 FROM search_terms s "
                              f"WHERE s.term = v.column1 LIMIT {CANDIDATE_CAP}) AS c) AS n FROM (VALUES {values}) AS v",
                              *chunk)
        found.update((r["term"], int(r["n"])) for r in rows)
    return [await _capped_count(t, True) if prefix else found[t] for t, prefix in terms]


async def _having(term: str, prefix: bool, ticket_ids: list[int]) -> set[int]:
    where, args = _condition(term, prefix)
    found: set[int] = set()
    for start in range(0, len(ticket_ids), 900):
        chunk = ticket_ids[start:start + 900]
        marks = ", ".join("{}" for _ in chunk)
        rows = await db.fetch(f"SELECT ticket FROM search_terms WHERE {where} AND ticket IN ({marks})", *args, *chunk)
        found.update(r["ticket"] for r in rows)
    return found


async def _having_all(terms: list[tuple[str, bool]], ticket_ids: list[int]) -> set[int]:
    """The tickets among ticket_ids that have every term: exact terms in one grouped query."""
    exact = [t for t, prefix in terms if not prefix]
    candidates = set(ticket_ids)
    if exact:
        found: set[int] = set()
        term_marks = ", ".join("{}" for _ in exact)
        for start in range(0, len(ticket_ids), 900):
            chunk = ticket_ids[start:start + 900]
            marks = ", ".join("{}" for _ in chunk)
            rows = await db.fetch(f"SELECT ticket FROM search_terms WHERE term IN ({term_marks}) AND ticket IN ({marks}) "
                                  f"GROUP BY ticket HAVING COUNT(*) = {len(exact)}", *exact, *chunk)
            found.update(r["ticket"] for r in rows)
        candidates &= found
    for term, prefix in terms:
        if prefix and candidates:
            candidates &= await _having(term, prefix, sorted(candidates))
    return candidates


async def _newest(ticket_ids: set[int], limit: int, narrow: _Narrow) -> list[int]:
    if not ticket_ids:
        return []
    ids = sorted(ticket_ids)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        marks = ", ".join("{}" for _ in chunk)
        rows += await db.fetch(f"SELECT id, last_message_at FROM tickets WHERE id IN ({marks}){narrow.sql}",
                               *chunk, *narrow.args)
    rows.sort(key=lambda r: (r["last_message_at"], r["id"]), reverse=True)
    return [r["id"] for r in rows[:limit]]


_AFTER = " AND (tickets.last_message_at < {} OR (tickets.last_message_at = {} AND tickets.id < {}))"


class _Narrow:
    """What narrows a search besides its terms, as " AND ..." SQL on `tickets` and its arguments:
    the caller's filter (core.ticket_filter.where) and the keyset of the page before (`after`)."""

    def __init__(self, where: Any = None, after: tuple[Any, int] | None = None, open_only: bool = False) -> None:
        self.sql, self.args = "", []
        if open_only:
            self.sql += f" AND tickets.{_OPEN}"
        if where is not None:
            self.sql += f" AND ({where.sql})"
            self.args += list(where.args)
        if after is not None:
            self.sql += _AFTER
            self.args += [after[0], after[0], after[1]]

    def then(self, after: tuple[Any, int] | None) -> "_Narrow":
        """This narrowing, starting after `after` as well."""
        out = _Narrow(None, after)
        out.sql, out.args = self.sql + out.sql, self.args + out.args
        return out


async def search(query: str, *, limit: int = 50, open_only: bool = False, where: Any = None,
                 after: tuple[Any, int] | None = None) -> list[int]:
    """Ticket ids matching every term of the query, most recently active first.

    `where` (a core.ticket_filter.Where on `tickets`) narrows the matches to a filter's; `after`
    (last_message_at, id) of the previous page's last ticket starts after it (keyset paging): the
    walk below starts there too, so page 3 costs what page 1 does.

    The plan is chosen here rather than left to the database, whose statistics cannot tell a rare
    bigram from a common one: the rarest term (counted up to CANDIDATE_CAP) yields the candidates
    and the other terms filter them; when every term is common, the newest tickets are read in
    chunks and filtered the same way. Every step is an index lookup with a bound."""
    exact, prefixes = query_terms(query)
    terms = [(t, False) for t in exact] + [(p, True) for p in prefixes]
    if not terms:
        return []
    if await behind():
        await catch_up()
    narrow = _Narrow(where, None, open_only)
    if _per_ticket():
        return await _search_docs(exact, prefixes, limit, narrow, after)
    counted = sorted([(n, t, p) for (t, p), n in zip(terms, await _capped_counts(terms))])
    if counted[0][0] == 0:
        return []
    if counted[0][0] < CANDIDATE_CAP:
        _, term, prefix = counted[0]
        condition, values = _condition(term, prefix)
        rows = await db.fetch(f"SELECT ticket FROM search_terms WHERE {condition}", *values)
        candidates = {r["ticket"] for r in rows}
        if len(counted) > 1 and candidates:  # the other terms, exact ones in one grouped query
            candidates = await _having_all([(t, p) for _, t, p in counted[1:]], sorted(candidates))
        return await _newest(candidates, limit, narrow.then(after))
    found: list[int] = []
    cursor: tuple[Any, int] | None = None
    size = FIRST_CHUNK
    for _ in range(MAX_STEPS):
        step = narrow.then(cursor or after)
        rows = await db.fetch(f"SELECT id, last_message_at FROM tickets WHERE 1 = 1{step.sql} "
                              f"ORDER BY last_message_at DESC, id DESC LIMIT {size}", *step.args)
        if not rows:
            break
        cursor = (rows[-1]["last_message_at"], rows[-1]["id"])
        candidates = await _having_all([(t, p) for _, t, p in counted], [r["id"] for r in rows])
        found += [r["id"] for r in rows if r["id"] in candidates]
        if len(found) >= limit:
            break
        size = min(size * 2, MAX_CHUNK)
    return found[:limit]


_OPEN = "status IN ('new', 'open', 'pending', 'on-hold')"
GIN_TERMS = 24  # at most this many of a long query's terms drive the index scan (core/search_stats.py)


async def _search_docs(exact: list[str], prefixes: list[str], limit: int, narrow: _Narrow,
                       after: tuple[Any, int] | None) -> list[int]:
    """PostgreSQL: the tickets whose terms contain every exact term and, per prefix, one of the
    bigrams that start with it; newest first.

    Two plans, each bounded, with the same answer: the newest tickets `limit` must come from.
    First the newest FIRST_CHUNK tickets are checked by primary key (a fraction of a millisecond
    each step). A query most tickets match (a common word, a phrase of common bigrams) is answered
    there, and a query that matches a fair share of them keeps reading the newest tickets in
    growing chunks: its GIN scan would have to intersect posting lists as long as the desk only
    to sort them by activity after. Otherwise one GIN scan intersects the terms' lists and up to
    CANDIDATE_CAP matches are sorted by activity through the primary key; more matches than that
    and the walk resumes where the probe stopped."""
    where: list[str] = []
    args: list[Any] = []
    if exact:
        where.append("terms @> {}::text[]")
        args.append(exact)
    for prefix in prefixes:
        rows = await db.fetch("SELECT term FROM search_vocab WHERE term >= {} AND term < {}", prefix, prefix + "\uffff")
        if not rows:
            return []
        where.append("terms && {}::text[]")
        args.append([r["term"] for r in rows])
    match = " AND ".join(where)
    walk = _Walk(match, args, narrow, limit, after)
    await walk.step()
    if not walk.done and walk.promising():
        await walk.run(FIRST_CHUNK + WALK_BUDGET)
    if walk.done:
        return walk.found[:limit]
    few = await search_stats.driving_terms(exact, GIN_TERMS) if len(exact) > 1 else exact
    if len(few) < len(exact):
        # A pasted paragraph: the index scans the lists of a few terms (the rarest, from the
        # database's statistics) and each row it yields is checked for all of them, instead of
        # walking dozens of lists, some of them most of the desk long. OFFSET 0 keeps the check
        # out of the scan.
        rows = await db.fetch(f"SELECT ticket FROM (SELECT ticket, terms FROM search_docs WHERE terms @> {{}}::text[] "
                              f"OFFSET 0) AS d WHERE {match} LIMIT {CANDIDATE_CAP}", few, *args)
    else:
        rows = await db.fetch(f"SELECT ticket FROM search_docs WHERE {match} LIMIT {CANDIDATE_CAP}", *args)
    if len(rows) < CANDIDATE_CAP:
        if not rows:
            return []
        page = narrow.then(after)
        found = await db.fetch(f"SELECT id FROM tickets WHERE id = ANY({{}}::int[]){page.sql} "
                               f"ORDER BY last_message_at DESC, id DESC LIMIT {int(limit)}",
                               [r["ticket"] for r in rows], *page.args)
        return [r["id"] for r in found]
    await walk.run()  # more matches than CANDIDATE_CAP: the newest of them, as far as MAX_STEPS reads
    return walk.found[:limit]


WALK_BUDGET = MAX_CHUNK  # tickets the walk may still read after the probe when its hit rate says that will do


class _Walk:
    """The newest tickets, read in growing chunks and checked by primary key; `done` once `limit`
    have matched or every ticket has been read."""

    def __init__(self, match: str, args: list[Any], narrow: _Narrow, limit: int,
                 after: tuple[Any, int] | None = None) -> None:
        self.match, self.args, self.narrow, self.limit = match, args, narrow, limit
        self.found: list[int] = []
        self.cursor: tuple[Any, int] | None = after
        self.size = FIRST_CHUNK
        self.read = 0
        self.steps = 0
        self.done = False

    def promising(self) -> bool:
        """Whether the matches seen so far say the walk will find the rest within WALK_BUDGET."""
        missing = self.limit - len(self.found)
        return bool(self.found) and len(self.found) * WALK_BUDGET >= missing * self.read

    async def step(self) -> None:
        # the filter, and the keyset: the page's start, then where the previous step stopped
        narrow = self.narrow.then(self.cursor)
        # One statement per step: the chunk of newest tickets, each checked through the primary key
        # of search_docs (the LATERAL subquery with OFFSET 0 keeps the planner from turning the
        # check into a GIN scan of the whole desk).
        chunk = await db.fetch(
            f"SELECT t.id, t.last_message_at, COALESCE({self.match}, FALSE) AS hit FROM "
            f"(SELECT id, last_message_at FROM tickets WHERE 1 = 1{narrow.sql} "
            f"ORDER BY last_message_at DESC, id DESC LIMIT {self.size}) AS t "
            "LEFT JOIN LATERAL (SELECT terms FROM search_docs WHERE ticket = t.id OFFSET 0) AS d ON TRUE "
            "ORDER BY t.last_message_at DESC, t.id DESC",
            *self.args, *narrow.args)
        self.steps += 1
        if len(chunk) < self.size:
            self.done = True  # every ticket has been read
        if not chunk:
            return
        self.cursor = (chunk[-1]["last_message_at"], chunk[-1]["id"])
        self.read += len(chunk)
        self.found += [r["id"] for r in chunk if r["hit"]]
        if len(self.found) >= self.limit:
            self.done = True
        self.size = min(self.size * 2, MAX_CHUNK)

    async def run(self, max_read: int | None = None) -> None:
        """Step on until done, MAX_STEPS steps in all, or `max_read` tickets read."""
        while not self.done and self.steps < MAX_STEPS and (max_read is None or self.read < max_read):
            await self.step()


async def forget_tickets(ticket_ids: list[int]) -> None:
    """Drop everything the index holds for these tickets and index again what is left of them (their
    subject and customer): after their messages were anonymized, no removed word may still find them."""
    if not ticket_ids:
        return
    if _per_ticket():
        await db.fetch("DELETE FROM search_docs WHERE ticket = ANY({}::int[])", list(ticket_ids))
    else:
        marks = ", ".join("{}" for _ in ticket_ids)
        await db.fetch(f"DELETE FROM search_terms WHERE ticket IN ({marks})", *ticket_ids)
    await index_tickets(list(ticket_ids))


async def tickets_with_all(text: str, limit: int = 20) -> list[int]:
    """Up to `limit` tickets whose terms include every exact term of `text` (an order number, say):
    one lookup through the index, no ranking, no walk. For merge suggestions on the ticket view,
    where a full search per order would cost more than the page."""
    exact, _ = query_terms(text)
    if not exact:
        return []
    if _per_ticket():
        rows = await db.fetch(f"SELECT ticket FROM search_docs WHERE terms @> {{}}::text[] LIMIT {int(limit)}", exact)
    else:
        marks = ", ".join("{}" for _ in exact)
        rows = await db.fetch(f"SELECT ticket FROM search_terms WHERE term IN ({marks}) GROUP BY ticket "
                              f"HAVING COUNT(*) = {len(exact)} LIMIT {int(limit)}", *exact)
    return [r["ticket"] for r in rows]
