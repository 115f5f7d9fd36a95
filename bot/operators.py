"""What an operator does with a grouped question (the CLI and the admin page share this).

Promote: add the question to the training examples (and link it to an entry), then mark
its messages promoted. Ignore: mark them ignored. Groups are found by id among the open
ones (`review.OPEN`), the same grouping the operator was looking at.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import Settings
from bot.edits import EditError, add_example, check_example, link_question
from bot.review import OPEN, UnansweredGroup, find_group, group_messages
from bot.store import Store


def open_group(store: Store, group_id: int) -> UnansweredGroup:
    group = find_group(group_messages(store.logged(OPEN)), group_id)
    if group is None:
        raise LookupError(f"no open group of unanswered questions with id {group_id}")
    return group


def promote(
    store: Store, settings: Settings, group_id: int, *, intent: str, entity: str | None = None
) -> str:
    """Edit intents/ (and knowledge/) and mark the group promoted; a sentence saying what changed.

    The example is the group's normalised text: the form the model is trained on, with
    the user's repeated letters and odd spacing already smoothed out.
    """
    group = open_group(store, group_id)
    question = group.normalised or group.text
    try:
        check_example(settings.intents_dir, intent, question)  # refuse before writing anything
        linked = link_question(settings.knowledge_dir, entity, question) if entity else None
        example = add_example(settings.intents_dir, intent, question)
    except EditError as error:
        raise LookupError(str(error)) from error
    note = f"intent={intent}" + (f" entity={entity}" if entity else "")
    store.review(group.message_ids, status="promoted", note=note, now=datetime.now(UTC))
    done = [f"{question!r} added to {intent} in {example.path.name}"
            if example.changed else f"{question!r} was already an example of {intent}"]  # fmt: skip
    if linked is not None:
        done.append(f"linked to {entity} in {linked.path.name}")
    return f"Group #{group.id} ({group.count} message(s)) promoted: " + "; ".join(done) + "."


def ignore(store: Store, group_id: int) -> str:
    group = open_group(store, group_id)
    store.review(group.message_ids, status="ignored", note="ignored", now=datetime.now(UTC))
    return f"Group #{group.id} ({group.count} message(s)) ignored."
