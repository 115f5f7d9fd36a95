"""`smartcity-bot`: ask, chat, validate and evaluate from a terminal.

Only parses options and prints; the work is done by the core and the file adapter.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from bot import __version__
from bot.config import PACKAGE_PARENT, Settings
from bot.core import Bot
from bot.domain import Context, Knowledge, Reply, TrainingData
from bot.errors import KnowledgeError

DEFAULT_TEST_FILE = PACKAGE_PARENT / "tests" / "data" / "heldout.yaml"


def load_settings() -> Settings:
    return Settings()


def load_files_or_exit(settings: Settings) -> tuple[Knowledge, TrainingData]:
    """Knowledge and training data, or every problem on stderr and exit status 1."""
    from bot.files import load_all

    try:
        return load_all(settings.knowledge_dir, settings.intents_dir)
    except KnowledgeError as error:
        report_problems(error)
        sys.exit(1)


def load_bot_or_exit(settings: Settings) -> Bot:
    knowledge, training = load_files_or_exit(settings)
    return Bot.train(knowledge, training, engine=settings.tokenizer_engine)


def report_problems(error: KnowledgeError) -> None:
    click.secho(f"{len(error.problems)} problem(s) in knowledge/intents:", fg="red", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)


def format_reply(reply: Reply) -> str:
    lines = [reply.text]
    if reply.suggestions:
        lines.append("→ " + " | ".join(reply.suggestions))
    return "\n".join(lines)


@click.group()
@click.version_option(__version__)
def main() -> None:
    """Answer Thai smart-city questions from a curated knowledge base."""


@main.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
@click.option(
    "--keep-context",
    is_flag=True,
    help="With questions on standard input: one continuing conversation, not one per line.",
)
def ask(text: str | None, as_json: bool, keep_context: bool) -> None:
    """Answer TEXT, or every line of standard input (JSON Lines with --json).

    \b
    Example:
      smartcity-bot ask "ซีเอสซีโอ" --json
      smartcity-bot ask --json < questions.txt > answers.jsonl
    """
    bot = load_bot_or_exit(load_settings())
    questions = [text] if text is not None else (line.rstrip("\n") for line in sys.stdin)
    context: Context | None = None
    for turn, question in enumerate(questions):
        if not question.strip():
            continue
        reply = bot.reply(question, context if keep_context else None, now=float(turn))
        context = reply.context
        click.echo(
            json.dumps(reply.as_dict(), ensure_ascii=False) if as_json else format_reply(reply)
        )


@main.command()
def chat() -> None:
    """Talk to the bot in the terminal; follow-ups keep their context. Ctrl-D to leave.

    \b
    Example:
      smartcity-bot chat
      > ขอนแก่นมีแผนกี่ด้าน
      > แล้วแม่เมาะล่ะ
    """
    bot = load_bot_or_exit(load_settings())
    click.echo("พิมพ์คำถามเรื่องเมืองอัจฉริยะ (Ctrl-D เพื่อออก) / Ask about Thai smart cities.")
    context: Context | None = None
    while True:
        try:
            question = input("> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if question.strip():
            reply = bot.reply(question, context, now=time.monotonic())
            context = reply.context
            click.echo(format_reply(reply) + "\n")


@main.command()
def validate() -> None:
    """Check knowledge/ and intents/; list every problem with file, line and field (exit 1).

    \b
    Example:
      KNOWLEDGE_DIR=./my-edit smartcity-bot validate
    """
    knowledge, training = load_files_or_exit(load_settings())
    click.secho(
        f"OK: {len(knowledge.entries)} knowledge entries, {len(training.examples)} examples "
        f"of {len(training.intents)} intents (version {knowledge.version}:{training.version})",
        fg="green",
    )


@main.command()
@click.option(
    "--test-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_TEST_FILE,
    show_default=True,
    help="Held-out questions with the facts each answer must contain.",
)
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder for report.md, report.json and confusion.png.",
)
def evaluate(test_file: Path, folds: int, out: Path) -> None:
    """Cross-validate the intent model and score the held-out test file against the targets.

    \b
    Example:
      smartcity-bot evaluate --out reports/
    """
    from ruamel.yaml import YAML
    from tqdm import tqdm

    from bot import evaluate as ev
    from bot.report import write_report

    settings = load_settings()
    knowledge, training = load_files_or_exit(settings)
    bot = Bot.train(knowledge, training, engine=settings.tokenizer_engine)

    def progress(label: str):  # type: ignore[no-untyped-def]
        return lambda items: tqdm(items, desc=label, file=sys.stderr, leave=False)

    intents = ev.cross_validate(bot, training, folds=folds, progress=progress("cross-validation"))
    cases = ev.parse_cases(YAML(typ="safe").load(test_file.read_text(encoding="utf-8")))
    held_out = ev.run_held_out(bot, cases, progress=progress("held-out"))
    summary = write_report(out, intents=intents, held_out=held_out, cases=cases)
    click.echo(summary)
    click.echo(f"Report written to {out}/report.md, report.json and confusion.png")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, help="TCP port.")
@click.option("--log-level", default="info", show_default=True, help="debug, info, warning…")
@click.option(
    "--workers", default=1, show_default=True, help="Processes (each trains its own bot)."
)
def serve(host: str, port: int, log_level: str, workers: int) -> None:
    """Run the LINE webhook server (local mode with a web chat when LINE is not configured).

    \b
    Example:
      LINE_CHANNEL_SECRET=… LINE_CHANNEL_ACCESS_TOKEN=… smartcity-bot serve --port 8000
    """
    import logging

    import uvicorn

    from bot.web import create_app

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    if workers > 1:  # each worker process builds its app (and bot) from the same environment
        load_files_or_exit(settings)  # a clear list of problems instead of failed workers
        uvicorn.run("bot.web:create_app", factory=True, host=host, port=port,
                    log_level=log_level, workers=workers)  # fmt: skip
    else:
        app = create_app(settings, bot=load_bot_or_exit(settings))
        uvicorn.run(app, host=host, port=port, log_level=log_level)


@main.group()
def unanswered() -> None:
    """Review what the bot could not answer (recorded by the server)."""


STATUS_CHOICE = click.Choice(["new", "low_confidence", "promoted", "ignored", "open", "all"])


def statuses_for(choice: str) -> tuple[str, ...]:
    from bot.review import OPEN, STATUSES

    return {"open": OPEN, "all": STATUSES}.get(choice, (choice,))


def open_store(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.store import Store

    return Store.connect(settings.database_url)


def grouped(settings: Settings, status: str, search: str = "") -> list:  # type: ignore[type-arg]
    from bot.review import group_messages

    store = open_store(settings)
    try:
        return group_messages(store.logged(statuses_for(status), search=search))
    finally:
        store.close()


@unanswered.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option(
    "--status", default="open", show_default=True, type=STATUS_CHOICE,
    help="open = new and low_confidence (what still needs a look).",
)  # fmt: skip
@click.option("--search", default="", help="Only questions containing this text.")
@click.option("--limit", default=100, show_default=True, help="At most this many groups.")
def unanswered_list(as_json: bool, status: str, search: str, limit: int) -> None:
    """Questions the bot could not answer (or answered with low confidence), similar ones
    grouped, most asked first.

    \b
    Examples:
      smartcity-bot unanswered list
      smartcity-bot unanswered list --status low_confidence --json
    """
    groups = grouped(load_settings(), status, search)[:limit]
    if as_json:
        click.echo(json.dumps([g.as_dict() for g in groups], ensure_ascii=False, indent=2))
        return
    if not groups:
        click.echo("No questions with that status.")
    for group in groups:
        seen = f"{group.first_seen:%Y-%m-%d %H:%M} – {group.last_seen:%Y-%m-%d %H:%M}"
        click.echo(f"#{group.id:<5} ×{group.count:<4} {group.status:<14} {seen}  {group.text}")


@unanswered.command("export")
@click.option("--csv", "csv_path", required=True, type=click.Path(path_type=Path),
              help="File to write (UTF-8 with BOM, so Excel shows Thai).")  # fmt: skip
@click.option("--status", default="all", show_default=True, type=STATUS_CHOICE)
def unanswered_export(csv_path: Path, status: str) -> None:
    """Write the grouped questions to a CSV file (one row per group).

    \b
    Example:
      smartcity-bot unanswered export --csv unanswered.csv
    """
    import csv

    groups = grouped(load_settings(), status)
    columns = ["id", "text", "count", "first_seen", "last_seen", "status", "intent",
               "confidence", "entities", "examples", "reply"]  # fmt: skip
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for group in groups:
            row = group.as_dict()
            row["entities"] = " ".join(group.entities)
            row["examples"] = " | ".join(group.examples)
            writer.writerow(row)
    click.echo(f"{len(groups)} group(s) written to {csv_path}")


@unanswered.command("promote")
@click.argument("group_id", type=int)
@click.option("--intent", required=True, help="The intent the question is an example of.")
@click.option("--entity", default=None, help="Knowledge entry id the question is about.")
def unanswered_promote(group_id: int, intent: str, entity: str | None) -> None:
    """Teach the bot a grouped question: add it to intents/ (and link it to an entry), then
    mark the group promoted. Goes live on the next reload.

    \b
    Example:
      smartcity-bot unanswered promote 42 --intent what_is --entity depa
    """
    from bot.operators import promote

    settings = load_settings()
    store = open_store(settings)
    try:
        outcome = promote(store, settings, group_id, intent=intent, entity=entity)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        store.close()
    click.echo(outcome)
    click.echo("Check with `smartcity-bot validate`, then `smartcity-bot reload`.")


@unanswered.command("ignore")
@click.argument("group_id", type=int)
def unanswered_ignore(group_id: int) -> None:
    """Mark a grouped question as not worth answering (it leaves the open list)."""
    from bot.operators import ignore

    settings = load_settings()
    store = open_store(settings)
    try:
        click.echo(ignore(store, group_id))
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        store.close()


@unanswered.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), default=None,
              help="Days to keep [default: RETENTION_DAYS, 90].")  # fmt: skip
def unanswered_purge(days: int | None) -> None:
    """Delete logged questions older than the retention period (PDPA)."""
    from datetime import UTC, datetime, timedelta

    settings = load_settings()
    days = settings.retention_days if days is None else days
    store = open_store(settings)
    try:
        removed = store.purge(before=datetime.now(UTC) - timedelta(days=days))
    finally:
        store.close()
    click.echo(f"Deleted {removed} logged question(s) older than {days} day(s).")


@main.command()
@click.option("--url", default=None, help="Server base URL [default: SERVER_URL].")
def reload(url: str | None) -> None:
    """Tell a running server to reload knowledge and intents (it keeps the old version if
    anything is invalid, and says why).

    \b
    Example:
      ADMIN_TOKEN=… smartcity-bot reload
    """
    import httpx

    settings = load_settings()
    if settings.admin_token is None:
        raise click.ClickException("ADMIN_TOKEN is not set: the server's admin API is off.")
    target = (url or settings.server_url).rstrip("/") + "/admin/reload"
    token = settings.admin_token.get_secret_value()
    try:
        response = httpx.post(target, headers={"Authorization": f"Bearer {token}"}, timeout=300)
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach {target}: {error}") from error
    if response.status_code != 200:
        raise click.ClickException(f"{target} answered {response.status_code}: {response.text}")
    result = response.json()
    if result["ok"]:
        click.echo(f"Reloaded: knowledge version {result['version']}.")
        return
    click.secho(f"Not reloaded; still serving {result['version']}:", fg="red", err=True)
    for problem in result["errors"]:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
