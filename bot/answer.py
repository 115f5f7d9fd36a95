"""From a decided question (intent + entries) to the words, links and suggestions a user sees.

Answers say what was asked and no more: "where" gives the place, "who" the people with the
date their role was reported, and a question the knowledge cannot answer says so honestly,
with what the sources could not confirm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import QUESTION_INTENTS, Entry, Knowledge, Lang, Link, Text

MAX_LIST_ITEMS = 8
"""Longer lists are cut with "and N more", to keep a LINE bubble readable."""
MAX_SUGGESTIONS = 4
MAX_DATES = 6
BULLET = "• "

DEFAULT_TOPICS = (
    Text("เมืองอัจฉริยะนำร่อง", "Pilot smart cities"),
    Text("7 Smarts คืออะไร", "What are the 7 Smarts?"),
    Text("หลักสูตร CSCO", "CSCO course"),
    Text("ดีป้าคืออะไร", "What is depa?"),
)
"""Offered when the bot cannot help, so the user sees what it can do."""

SMALLTALK = {
    "greet": Text(
        "สวัสดีค่ะ 😊 น้องเมืองอัจฉริยะยินดีให้ข้อมูลเรื่องเมืองอัจฉริยะของไทย "
        "เช่น เมืองนำร่อง หน่วยงาน (ดีป้า, NIA, กนอ., วว.) และหลักสูตร CSCO ค่ะ",
        "Hello! 😊 I answer questions about Thailand's smart-city programmes: the certified "
        "cities, agencies such as depa, NIA, IEAT and TISTR, and courses such as CSCO.",
    ),
    "thanks": Text(
        "ยินดีค่ะ 😊 มีอะไรสงสัยเรื่องเมืองอัจฉริยะ ถามได้เสมอนะคะ",
        "You're welcome! Ask me anything about Thai smart cities any time.",
    ),
    "bye": Text(
        "ขอบคุณที่แวะมาคุยกันค่ะ ไว้พบกันใหม่นะคะ 👋",
        "Thanks for dropping by. See you again! 👋",
    ),
    "help": Text(
        "ถามได้เลยค่ะ เช่น\n• เมืองอัจฉริยะนำร่องมีที่ไหนบ้าง\n• 7 Smarts มีอะไรบ้าง\n"
        "• ดีป้า / NIA / กนอ. / วว. ทำอะไร\n• หลักสูตร CSCO สมัครยังไง\n"
        "• โหลดคู่มือเมืองอัจฉริยะได้ที่ไหน\nพิมพ์สั้น ๆ ก็ได้ค่ะ",
        "You can ask, for example:\n• Which are the pilot smart cities?\n"
        "• What are the 7 Smarts?\n• What do depa / NIA / IEAT / TISTR do?\n"
        "• How do I enrol in the CSCO course?\n• Where can I download the Smart City Handbook?",
    ),
    "identity": Text(
        "น้องเป็นแชตบอตตอบคำถามเรื่องโครงการเมืองอัจฉริยะของไทยค่ะ ตอบจากฐานความรู้ที่รวบรวม"
        "จากข่าวและเว็บไซต์ทางการ พร้อมแหล่งที่มา (ไม่ใช่เจ้าหน้าที่ของหน่วยงานใดนะคะ)",
        "I'm a chatbot that answers questions about Thailand's smart-city programmes from a "
        "curated knowledge base built from news and official sites, with sources. "
        "I'm not an official of any agency.",
    ),
}

NOTICES = {
    "welcome": Text(
        "สวัสดีค่ะ ขอบคุณที่เพิ่มน้องเป็นเพื่อนนะคะ 😊 น้องตอบคำถามเรื่องโครงการเมืองอัจฉริยะของไทย "
        "เช่น เมืองนำร่อง หน่วยงานอย่างดีป้า NIA กนอ. วว. และหลักสูตร CSCO "
        "เลือกหัวข้อด้านล่างหรือพิมพ์ถามได้เลยค่ะ",
        "Hello, and thanks for adding me! 😊 I answer questions about Thailand's smart-city "
        "programmes. Pick a topic below or just type your question.",
    ),
    "group_intro": Text(
        "สวัสดีทุกคนค่ะ 😊 น้องตอบคำถามเรื่องเมืองอัจฉริยะของไทย ในกลุ่มนี้แท็กชื่อน้อง "
        'หรือขึ้นต้นข้อความว่า "บอท" แล้วตามด้วยคำถามได้เลยค่ะ',
        "Hello everyone! 😊 I answer questions about Thai smart cities. In this group, mention "
        'me or start your message with "bot", then your question.',
    ),
    "sticker": Text(
        "ขอบคุณสำหรับสติกเกอร์ค่ะ 😊 อยากรู้เรื่องเมืองอัจฉริยะเรื่องไหน พิมพ์ถามได้เลยนะคะ",
        "Thanks for the sticker! 😊 Ask me anything about Thai smart cities.",
    ),
    "text_only": Text(
        "ขออภัยค่ะ ตอนนี้น้องอ่านได้เฉพาะข้อความตัวอักษร รบกวนพิมพ์คำถามแทนนะคะ 🙏",
        "Sorry, I can only read text for now. Please type your question. 🙏",
    ),
}
"""What the bot says to things that are not questions: a new friend, a group, a sticker…"""

REFUSAL = Text(
    "ขออภัยค่ะ เรื่องนี้น้องยังตอบไม่ได้ 🙏 น้องตอบได้เฉพาะเรื่องโครงการเมืองอัจฉริยะของไทย ลองถามหัวข้อด้านล่างดูนะคะ",
    "Sorry, I can't answer that yet 🙏 I only know about Thailand's smart-city programmes. "
    "Try one of the topics below.",
)
NEED_TOPIC = Text(
    "ขอโทษค่ะ ไม่แน่ใจว่าหมายถึงเรื่องไหน ช่วยระบุชื่อเมือง หน่วยงาน หรือหลักสูตรอีกนิดได้ไหมคะ",
    "Sorry, which city, agency or course do you mean? Please name it.",
)

NO_DATA = {
    "what_is": Text("ยังไม่มีรายละเอียด", "no description yet"),
    "where": Text("ยังไม่มีข้อมูลสถานที่", "no location information yet"),
    "when": Text("ยังไม่มีข้อมูลวันที่", "no dates yet"),
    "who": Text("ยังไม่มีข้อมูลบุคคลหรือผู้รับผิดชอบ", "no information on people yet"),
    "goal": Text("ยังไม่มีข้อมูลเป้าหมาย", "no information on goals yet"),
    "members": Text("ยังไม่มีรายการ", "no list yet"),
    "requirements": Text("ยังไม่มีข้อมูลเงื่อนไขหรือคุณสมบัติ", "no information on criteria yet"),
    "link": Text("ยังไม่มีลิงก์ทางการ", "no official link yet"),
    "contact": Text("ยังไม่มีช่องทางติดต่อ", "no contact details yet"),
}

SUGGESTION_TEMPLATES = {
    "what_is": Text("{} คืออะไร", "What is {}?"),
    "where": Text("{} อยู่ที่ไหน", "Where is {}?"),
    "when": Text("{} เมื่อไหร่", "When: {}?"),
    "who": Text("ใครเกี่ยวข้องกับ {}", "Who runs {}?"),
    "goal": Text("{} เน้นด้านไหน", "Goals of {}?"),
    "members": Text("{} มีอะไรบ้าง", "List: {}"),
    "requirements": Text("เงื่อนไข {}", "Criteria: {}"),
    "link": Text("ลิงก์ {}", "Link: {}"),
    "contact": Text("ติดต่อ {}", "Contact {}"),
}
SUGGESTION_ORDER = ("link", "what_is", "goal", "members", "who", "when", "where", "requirements")
"""Which follow-up question to offer first: the link is what most people want next."""

LINK_KINDS_FOR = {
    "link": ("register", "download", "website", "facebook", "contact", "news", "other"),
    "contact": ("contact", "facebook", "website"),
}
AS_OF = Text("ข้อมูล ณ {}", "as of {}")
AGENCIES = Text("หน่วยงานที่เกี่ยวข้อง: ", "Organisations involved: ")
MAX_RELATED_AGENCIES = 3
UNCONFIRMED_PREFIX = Text("หมายเหตุ: ", "Note: ")
MORE = Text("และอีก {} รายการ", "and {} more")
FULL_COUNT = Text("ทั้งหมด {} รายการ", "{} in all")
PARTIAL_COUNT = Text("ที่มีข้อมูล {} รายการ", "{} known so far")


@dataclass(frozen=True)
class Answer:
    text: str
    links: tuple[Link, ...]
    has_data: bool


def answer_question(
    intent: str,
    entry: Entry,
    knowledge: Knowledge,
    lang: Lang,
    *,
    relevant: Sequence[Text] = (),
) -> Answer:
    """One entry, one question type → a short answer in `lang`.

    `relevant` are the entry's details that share words with the question ("กว้างกี่ไร่"
    finds the detail about 3,454 rai): shown after the field the question type asks for.
    """
    title = entry.name.in_(lang)
    lines = render_field(intent, entry, knowledge, lang)
    lines += [text.in_(lang) for text in relevant if text.in_(lang) not in lines]
    links = pick_links(intent, entry)
    has_data = bool(lines) or (intent in LINK_KINDS_FOR and bool(links))
    if not has_data:
        lines = [f"{NO_DATA[intent].in_(lang)} ({entry.short.in_(lang)})"]
        if intent != "what_is":
            lines.append(entry.summary.in_(lang))
    notes = [u.text.in_(lang) for u in entry.unconfirmed if u.topic == intent]
    lines += [UNCONFIRMED_PREFIX.in_(lang) + note for note in notes]
    if links:
        lines += [f"🔗 {link.label.in_(lang)}: {link.url}" for link in links]
    return Answer(f"{title}\n" + "\n".join(lines), links, has_data or bool(notes))


def render_field(intent: str, entry: Entry, knowledge: Knowledge, lang: Lang) -> list[str]:
    if intent == "what_is":
        return [entry.summary.in_(lang), *(d.in_(lang) for d in entry.details[:1])]
    if intent == "where":
        return [t.in_(lang) for t in (entry.location, entry.province) if t is not None][:1]
    if intent == "when":
        dates = sorted(entry.dates, key=lambda d: (d.date.year, d.date.month or 0, d.date.day or 0))
        return [f"{BULLET}{d.date.display(lang)}: {d.label.in_(lang)}" for d in dates[:MAX_DATES]]
    if intent == "who":
        people = [
            f"{BULLET}{p.name.in_(lang)}, {p.role.in_(lang)} "
            f"({AS_OF.in_(lang).format(p.as_of.display(lang))})"
            for p in entry.people
        ]
        agencies = [
            knowledge.get(i).name.in_(lang)
            for i in entry.related
            if i in knowledge and knowledge.get(i).kind == "agency"
        ]
        if agencies and entry.kind != "agency":
            people.append(AGENCIES.in_(lang) + ", ".join(agencies[:MAX_RELATED_AGENCIES]))
        return people
    if intent == "goal":
        return bullets([t.in_(lang) for t in entry.focus], lang)
    if intent == "members":
        names = [member_name(m.ref, m.name, knowledge, lang) for m in entry.members]
        if not names:
            return []
        partial = any(u.topic == "members" for u in entry.unconfirmed)
        heading = PARTIAL_COUNT if partial else FULL_COUNT  # never claim a partial list is all
        return [heading.in_(lang).format(len(names)), *bullets(names, lang)]
    if intent == "requirements":
        return bullets([t.in_(lang) for t in entry.requirements], lang)
    if intent in LINK_KINDS_FOR:
        return [entry.location.in_(lang)] if intent == "contact" and entry.location else []
    raise ValueError(f"not a question intent: {intent!r}")


def pick_links(intent: str, entry: Entry) -> tuple[Link, ...]:
    """The links worth showing for this question; only the first for a plain "what is"."""
    kinds = LINK_KINDS_FOR.get(intent)
    if kinds is None:
        return entry.links[:1]
    return tuple(
        sorted(
            (link for link in entry.links if link.kind in kinds),
            key=lambda link: kinds.index(link.kind),
        )
    )


def member_name(ref: str | None, name: Text | None, knowledge: Knowledge, lang: Lang) -> str:
    if ref is not None:
        return knowledge.get(ref).name.in_(lang)
    assert name is not None
    return name.in_(lang)


def bullets(items: Sequence[str], lang: Lang) -> list[str]:
    shown = [BULLET + item for item in items[:MAX_LIST_ITEMS]]
    if len(items) > MAX_LIST_ITEMS:
        shown.append(MORE.in_(lang).format(len(items) - MAX_LIST_ITEMS))
    return shown


def has_answer(intent: str, entry: Entry) -> bool:
    """Whether `entry` holds anything for this question type (drives suggestions)."""
    fields = {
        "what_is": entry.summary,
        "where": entry.location or entry.province,
        "when": entry.dates,
        "who": entry.people,
        "goal": entry.focus,
        "members": entry.members,
        "requirements": entry.requirements,
        "link": entry.links,
        "contact": [link for link in entry.links if link.kind in LINK_KINDS_FOR["contact"]],
    }
    return bool(fields[intent])


def suggest_for(
    entries: Sequence[Entry], *, asked: str | None, knowledge: Knowledge, lang: Lang
) -> tuple[str, ...]:
    """2–4 next questions: other things known about the entry, then its related entries."""
    suggestions: list[str] = []
    for entry in entries[:1]:
        for intent in SUGGESTION_ORDER:
            if intent != asked and has_answer(intent, entry):
                suggestions.append(
                    SUGGESTION_TEMPLATES[intent].in_(lang).format(entry.short.in_(lang))
                )
            if len(suggestions) == 2:
                break
        for related in entry.related:
            if related in knowledge and len(suggestions) < MAX_SUGGESTIONS:
                short = knowledge.get(related).short.in_(lang)
                suggestions.append(SUGGESTION_TEMPLATES["what_is"].in_(lang).format(short))
    for topic in DEFAULT_TOPICS:
        if len(suggestions) >= 2:
            break
        suggestions.append(topic.in_(lang))
    return tuple(dict.fromkeys(suggestions))[:MAX_SUGGESTIONS]


def default_suggestions(lang: Lang) -> tuple[str, ...]:
    return tuple(topic.in_(lang) for topic in DEFAULT_TOPICS)


def clarify_text(entries: Sequence[Entry], lang: Lang) -> str:
    names = [entry.name.in_(lang) for entry in entries]
    if lang is Lang.EN:
        return "Do you mean " + " or ".join(names) + "?"
    return "หมายถึง " + " หรือ ".join(names) + " คะ?"


def notice_text(name: str, lang: Lang) -> str:
    return NOTICES[name].in_(lang)


def smalltalk_text(intent: str, lang: Lang) -> str:
    return SMALLTALK[intent].in_(lang)


assert set(NO_DATA) == set(QUESTION_INTENTS) == set(SUGGESTION_TEMPLATES)
