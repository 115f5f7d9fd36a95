"""`Bot`: trained understanding + knowledge → a `Reply` for one message. No I/O.

The LINE webhook, the local web chat and the CLI all call `Bot.reply`. A `Bot` never changes
after `train`, so a reload builds a new one and swaps it in whole: an answer in flight is
always computed by one consistent version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pythainlp.corpus import thai_stopwords
from sklearn.pipeline import Pipeline

from bot import answer
from bot.domain import (
    OUT_OF_SCOPE,
    QUESTION_INTENTS,
    SMALLTALK_INTENTS,
    Context,
    Entry,
    Knowledge,
    Lang,
    Link,
    Reply,
    Status,
    Text,
    TrainingData,
)
from bot.normalise import DEFAULT_ENGINE, Tokenizer, is_english, normalise
from bot.thresholds import DEFAULT_THRESHOLDS, Thresholds
from bot.understand import (
    ENTITY_PLACEHOLDER,
    EntityLinker,
    Mention,
    alias_words,
    build_intent_pipeline,
    mask_mentions,
    rank_intents,
)

MIN_DETAIL_OVERLAP = 6
"""Score (see `shared_letters`) a detail needs before it is shown: one whole 3-letter word
("ไร่") is enough, a word found only inside a compound needs 6 letters."""
MAX_RELEVANT_DETAILS = 1
MIN_SHARED_WORD = 3
"""Shorter words ("ปี", "of") occur inside too many unrelated words to count as shared."""
RUNNER_UP_SHARE = 0.25
"""A question type the entry can answer replaces one it cannot when at least this fraction as
likely; below that the bot says honestly that it has no such information."""
FILLER_WORDS = frozenset(
    "ครับ คับ ค่ะ คะ ค่า คร้าบ จ้า จ้ะ นะ น้า หน่อย ด้วย อ่ะ อะ ล่ะ หล่ะ ละ ล่ะคะ ล่ะครับ "
    "? ! . , ... please pls na ka krub".split()
)
"""Words that carry no question: a message of a name plus these asks "what is it?"."""
FOLLOW_UP_WORDS = frozenset("แล้ว และ ส่วน กับ what about how and then".split())
"""Words that turn a bare name into "the same question about this one" ("แล้วภูเก็ตล่ะ")."""
MAX_ENTITIES_PER_ANSWER = 3
UNDERSTOOD_CACHE_SIZE = 20_000
"""Messages whose understanding is kept: citizens ask the same short questions again and
again, and understanding is most of the cost of a reply (a few MB at most)."""
ENGLISH_STOPWORDS = frozenset(
    "a an the is are was were be been of in on at to for from by with and or what which who "
    "whom when where why how does do did it its this that there their they much many".split()
)


@dataclass(frozen=True)
class Understanding:
    """What the bot made of a message, before wording an answer."""

    normalised: str
    lang: Lang
    mentions: tuple[Mention, ...]
    ranking: tuple[tuple[str, float], ...]
    residue: tuple[str, ...]
    """The message's words other than names and filler."""
    asked: frozenset[str]
    """The residue without stopwords: what the question is about, for finding details."""

    def best(self, intents: Sequence[str]) -> tuple[str, float]:
        return next(((i, p) for i, p in self.ranking if i in intents), (intents[0], 0.0))

    @property
    def names_only(self) -> bool:
        return not self.residue

    @property
    def follow_up_only(self) -> bool:
        return all(word in FOLLOW_UP_WORDS for word in self.residue)


class Bot:
    """Answers one message at a time; build it with `Bot.train`."""

    def __init__(
        self,
        *,
        knowledge: Knowledge,
        pipeline: Pipeline,
        linker: EntityLinker,
        tokenizer: Tokenizer,
        thresholds: Thresholds,
        training_version: str = "",
    ) -> None:
        self.knowledge = knowledge
        self.pipeline = pipeline
        self.linker = linker
        self.tokenizer = tokenizer
        self.thresholds = thresholds
        self.version = f"{knowledge.version}:{training_version}".strip(":")
        self.stopwords = frozenset(thai_stopwords()) | ENGLISH_STOPWORDS
        self.detail_texts = {
            entry.id: [
                (detail, searchable(tokenizer, f"{detail.th} {detail.en}"))
                for detail in (entry.summary, *entry.details)  # the summary may hold the fact
            ]
            for entry in knowledge.entries
        }
        self.member_names = {
            entry.id: [
                (member.ref, searchable(tokenizer, " ".join(knowledge.get(member.ref).names())))
                for member in entry.members
                if member.ref in knowledge
            ]
            for entry in knowledge.entries
        }
        self.generality = Counter(
            target
            for entry in knowledge.entries
            for target in {*entry.related, *(m.ref for m in entry.members if m.ref)}
        )
        self.understand = lru_cache(maxsize=UNDERSTOOD_CACHE_SIZE)(self.understand_text)

    @classmethod
    def train(
        cls,
        knowledge: Knowledge,
        training: TrainingData,
        *,
        engine: str = DEFAULT_ENGINE,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> Bot:
        """Fit the intent model on the examples, with entry names masked as at reply time."""
        if not training.examples:
            raise ValueError("no training examples: intents/ is empty")
        words = alias_words(knowledge.entries)
        tokenizer = Tokenizer(words, engine=engine)
        linker = EntityLinker(knowledge, tokenizer)
        texts = [mask_for_training(linker, example.text) for example in training.examples]
        labels = [example.intent for example in training.examples]
        pipeline = build_intent_pipeline(words=words, engine=engine).fit(texts, labels)
        return cls(
            knowledge=knowledge,
            pipeline=pipeline,
            linker=linker,
            tokenizer=tokenizer,
            thresholds=thresholds,
            training_version=training.version,
        )

    def understand_text(self, text: str) -> Understanding:
        """Normalise, link names and rank intents; pure, so `self.understand` caches it."""
        normalised = normalise(text)
        mentions = tuple(self.linker.find(normalised))
        masked = mask_mentions(normalised, mentions)
        ranking = tuple(rank_intents(self.pipeline, masked)) if masked else ()
        residue = tuple(
            token
            for token in self.tokenizer(masked)
            if token != ENTITY_PLACEHOLDER and token not in FILLER_WORDS
        )
        asked = frozenset(word for word in residue if is_content_word(word, self.stopwords))
        lang = Lang.EN if is_english(normalised) else Lang.TH
        return Understanding(normalised, lang, mentions, ranking, residue, asked)

    def reply(self, text: str, context: Context | None = None, *, now: float = 0.0) -> Reply:
        """Answer one message; pass the returned `reply.context` with the user's next message."""
        seen = self.understand(text)
        previous = context or Context()
        fresh = previous if now - previous.at <= self.thresholds.context_seconds else Context()
        if not seen.normalised or not seen.ranking:
            return self.refuse(seen, previous, answer.NEED_TOPIC)
        top_intent, top_p = seen.ranking[0]
        if seen.mentions:
            if top_intent == OUT_OF_SCOPE and top_p >= self.thresholds.refuse_despite_entity:
                return self.refuse(seen, previous, answer.REFUSAL)
            resolved, unclear = self.resolve(seen.mentions, fresh)
            intent, probability = seen.best(QUESTION_INTENTS)
            if unclear:
                return self.clarify(seen, unclear, intent, probability, previous)
            sure = probability >= self.thresholds.answer
            ids = self.focus(resolved)
            if fresh.intent and seen.follow_up_only:
                intent, sure = fresh.intent, True
            elif seen.names_only:
                intent, sure = "what_is", True
            else:
                intent, probability = self.answerable(seen, intent, probability, ids[0])
            ids = self.defer(intent, ids, seen.asked)
            return self.answer(seen, intent, probability, ids, sure=sure, now=now)
        if top_intent in SMALLTALK_INTENTS and top_p >= self.thresholds.smalltalk:
            return Reply(
                text=answer.smalltalk_text(top_intent, seen.lang),
                intent=top_intent,
                confidence=top_p,
                status=Status.ANSWERED,
                lang=seen.lang,
                suggestions=answer.default_suggestions(seen.lang),
                normalised=seen.normalised,
                context=previous,
            )
        if top_intent in QUESTION_INTENTS and fresh.entities and top_p >= self.thresholds.follow_up:
            sure = top_p >= self.thresholds.answer
            member = self.pick_member(fresh.entities, seen.asked)
            if member is not None:
                intent, probability = self.answerable(seen, top_intent, top_p, member)
                return self.answer(seen, intent, probability, (member,), sure=sure, now=now)
            return self.answer(seen, top_intent, top_p, fresh.entities, sure=sure, now=now)
        if top_intent in QUESTION_INTENTS and top_p >= self.thresholds.answer:
            return self.refuse(seen, previous, answer.NEED_TOPIC)
        return self.refuse(seen, previous, answer.REFUSAL)

    def resolve(self, mentions: Sequence[Mention], context: Context) -> tuple[list[str], list[str]]:
        """Entry ids the mentions name, and the candidates of a mention that stays ambiguous.

        An ambiguous name ("MOU") goes to the candidate tied to the most other names in the
        message, then to the previous topic; if neither settles it, the user is asked.
        """
        certain = list(dict.fromkeys(m.candidates[0] for m in mentions if not m.ambiguous))
        resolved, unclear = list(certain), []
        for mention in (m for m in mentions if m.ambiguous):
            ties = {
                c: sum(self.connected(c, other) for other in certain) for c in mention.candidates
            }
            best = max(ties.values())
            fitting = (
                [c for c, n in ties.items() if n == best] if best else list(mention.candidates)
            )
            if len(fitting) > 1:
                fitting = [c for c in fitting if c in context.entities] or fitting
            if len(fitting) == 1:
                resolved.append(fitting[0])
            else:
                unclear = fitting
        return list(dict.fromkeys(resolved)), unclear

    def connected(self, a: str, b: str) -> bool:
        def points_to(x: Entry, y: str) -> bool:
            return y in x.related or any(m.ref == y for m in x.members)

        return a != b and (
            points_to(self.knowledge.get(a), b) or points_to(self.knowledge.get(b), a)
        )

    def focus(self, ids: Sequence[str]) -> tuple[str, ...]:
        """Which entries the answer is about.

        Two parties named together ("วว. กับสมาคมเพื่อนชุมชน") mean the agreement between
        them; of names that belong together ("MOU กนอ.", "7 ด้านของ smart city") the most
        specific is kept (see `breadth`).
        """
        if len(ids) >= 2:
            agreements = [
                entry.id
                for entry in self.knowledge.entries
                if entry.kind == "agreement"
                and all(self.connected(entry.id, i) for i in ids if i != entry.id)
            ]
            if len(agreements) == 1:
                return (agreements[0],)
        general = {
            a
            for a in ids
            for b in ids
            if self.connected(a, b) and self.breadth(a) > self.breadth(b)
        }
        return tuple(i for i in ids if i not in general)[:MAX_ENTITIES_PER_ANSWER]

    def pick_member(self, ids: Sequence[str], asked: frozenset[str]) -> str | None:
        """The one item of the previous topic's list that the question names a part of
        ("ข้อที่เกี่ยวกับพลังงาน…" after the 7 Smarts is Smart Energy)."""
        found = {
            ref
            for i in ids
            for ref, names in self.member_names[i]
            if shared_letters(asked, names) >= MIN_DETAIL_OVERLAP
        }
        return found.pop() if len(found) == 1 else None

    def breadth(self, entry_id: str) -> tuple[bool, bool, int]:
        """How broad an entry is, to keep the most specific of names that belong together:
        an entry that hands questions to others is broadest; an agreement is narrower than
        its parties; otherwise the entry fewer entries refer to is the narrower."""
        entry = self.knowledge.get(entry_id)
        return (bool(entry.defer), entry.kind != "agreement", self.generality[entry_id])

    def defer(self, intent: str, ids: Sequence[str], asked: frozenset[str]) -> tuple[str, ...]:
        """Hand a question to the entry the knowledge names for it ("how many smart cities"
        is answered by the certification, not by the general concept), unless the entry's own
        details match the question better ("เมืองอัจฉริยะมีกี่ประเภท")."""
        chosen = []
        for i in ids:
            target = self.knowledge.get(i).deferred(intent)
            keep = target is None or self.overlap(i, asked) > self.overlap(target, asked)
            chosen.append(i if keep else target)
        return tuple(dict.fromkeys(chosen))

    def answerable(
        self, seen: Understanding, intent: str, probability: float, entry_id: str
    ) -> tuple[str, float]:
        """The model's best question type that the entry has an answer for.

        "ดีป่าทำไรบ้าง" ends like a list question, but depa has no list: the runner-up
        ("what is") is the better reading when it is not much less likely.
        """
        entry = self.knowledge.get(entry_id)
        if answer.has_answer(intent, entry):
            return intent, probability
        for candidate, p in seen.ranking:
            if candidate in QUESTION_INTENTS and answer.has_answer(candidate, entry):
                if p >= probability * RUNNER_UP_SHARE:
                    return candidate, p
                break
        return intent, probability

    def overlap(self, entry_id: str, asked: frozenset[str]) -> int:
        """How well the entry's best-matching detail fits the question."""
        return max(
            (shared_letters(asked, text) for _, text in self.detail_texts[entry_id]), default=0
        )

    def relevant(self, entry_id: str, asked: frozenset[str]) -> list[Text]:
        """The details worth showing for this question (see MIN_DETAIL_OVERLAP), best first."""
        scored = [(shared_letters(asked, text), d) for d, text in self.detail_texts[entry_id]]
        scored.sort(key=lambda pair: -pair[0])
        return [d for score, d in scored[:MAX_RELEVANT_DETAILS] if score >= MIN_DETAIL_OVERLAP]

    def answer(
        self,
        seen: Understanding,
        intent: str,
        probability: float,
        ids: Sequence[str],
        *,
        sure: bool,
        now: float,
    ) -> Reply:
        entries = [self.knowledge.get(i) for i in ids]
        parts = [
            answer.answer_question(
                intent,
                entry,
                self.knowledge,
                seen.lang,
                relevant=self.relevant(entry.id, seen.asked),
            )
            for entry in entries
        ]
        links: tuple[Link, ...] = tuple(
            dict.fromkeys(link for part in parts for link in part.links)
        )
        if not any(part.has_data for part in parts):
            status = Status.UNANSWERED
        else:
            status = Status.ANSWERED if sure else Status.LOW_CONFIDENCE
        return Reply(
            text="\n\n".join(part.text for part in parts),
            intent=intent,
            confidence=probability,
            status=status,
            lang=seen.lang,
            entities=tuple(ids),
            links=links,
            suggestions=answer.suggest_for(
                entries, asked=intent, knowledge=self.knowledge, lang=seen.lang
            ),
            normalised=seen.normalised,
            context=Context(entities=tuple(ids), intent=intent, lang=seen.lang, at=now),
        )

    def clarify(
        self,
        seen: Understanding,
        candidates: Sequence[str],
        intent: str,
        probability: float,
        previous: Context,
    ) -> Reply:
        entries = [self.knowledge.get(c) for c in candidates]
        template = answer.SUGGESTION_TEMPLATES[intent].in_(seen.lang)
        return Reply(
            text=answer.clarify_text(entries, seen.lang),
            intent=intent,
            confidence=probability,
            status=Status.CLARIFY,
            lang=seen.lang,
            entities=tuple(candidates),
            suggestions=tuple(template.format(e.short.in_(seen.lang)) for e in entries)[:4],
            normalised=seen.normalised,
            context=previous,
        )

    def notice(self, name: str, lang: Lang = Lang.TH) -> Reply:
        """A reply to something that is not a question (see `answer.NOTICES`), with topics."""
        return Reply(
            text=answer.notice_text(name, lang),
            intent=None,
            confidence=1.0,
            status=Status.ANSWERED,
            lang=lang,
            suggestions=answer.default_suggestions(lang),
        )

    def refuse(self, seen: Understanding, previous: Context, message: Text) -> Reply:
        intent, probability = seen.ranking[0] if seen.ranking else (None, 0.0)
        return Reply(
            text=message.in_(seen.lang),
            intent=intent,
            confidence=probability,
            status=Status.UNANSWERED,
            lang=seen.lang,
            entities=tuple(c for m in seen.mentions for c in m.candidates),
            suggestions=answer.default_suggestions(seen.lang),
            normalised=seen.normalised,
            context=previous,
        )


@dataclass(frozen=True)
class Searchable:
    """A text prepared for comparing with a question's words."""

    text: str
    words: frozenset[str]


def searchable(tokenize: Tokenizer, text: str) -> Searchable:
    normalised = normalise(text)
    return Searchable(normalised, frozenset(tokenize(normalised)))


def shared_letters(asked: frozenset[str], target: Searchable) -> int:
    """Letters of the question's words found in `target`: a whole word counts double, a word
    inside a compound ("ประชุม" in "การประชุม") once, so exact words still decide ties."""
    return sum(
        len(word) * (2 if word in target.words else 1)
        for word in asked
        if len(word) >= MIN_SHARED_WORD and word in target.text
    )


def is_content_word(word: str, stopwords: frozenset[str]) -> bool:
    return word not in stopwords and (word.isalnum() or len(word) > 1)


def mask_for_training(linker: EntityLinker, text: str) -> str:
    normalised = normalise(text)
    return mask_mentions(normalised, linker.find(normalised))
