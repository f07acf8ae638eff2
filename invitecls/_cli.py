"""The ``invitecls`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_USAGE = 0, 2


class UserError(Exception):
    """A mistake in what the user asked for: one line on stderr, exit 2."""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _print_prediction(prediction: Any, out: TextIO, note: str | None = None) -> None:
    if note is not None:
        # Notes read from standard input are echoed, so that each verdict can be matched to its line.
        out.write(f"> {_visible(note)}\n")
    if "spam" in prediction.probabilities:
        # The spam probability throughout: "genuine 0.40" would read as "40% genuine".
        score = f"spam probability {prediction.probabilities['spam']:.2f}"
    else:
        score = f"probability {prediction.probability:.2f}"
    action = f"  {prediction.action}" if prediction.action else ""
    out.write(f"{prediction.label}  {score}{action}\n")
    for reason in prediction.reasons:
        out.write(f"  - {reason}\n")


def cmd_classify(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._api import classify, classify_many

    model = args.model
    if args.text is not None:
        batches: Any = [([args.text], [classify(args.text, args.mutual, model=model)])]
    else:
        # In batches as the lines come: memory stays flat however long the input.
        batches = (
            (lines, classify_many(lines, None if args.mutual is None else [args.mutual] * len(lines), model=model))
            for lines in _batched(_stdin_notes(), 1024)
        )
    for notes, predictions in batches:
        for note, prediction in zip(notes, predictions):
            if args.json:
                out.write(json.dumps({"note": note, **prediction.to_dict()}, ensure_ascii=False) + "\n")
            else:
                _print_prediction(prediction, out, note=None if args.text is not None else note)
    return EXIT_OK


def _stdin_notes() -> Iterator[str]:
    """The lines of standard input, one note each: UTF-8, none longer than ``MAX_ROW_CHARS`` bytes."""
    from invitecls._limits import MAX_ROW_CHARS

    binary = getattr(sys.stdin, "buffer", None)
    number = 0
    while True:
        raw: bytes | str = binary.readline(MAX_ROW_CHARS + 1) if binary is not None else sys.stdin.readline()
        if not raw:
            return
        number += 1
        if len(raw) > MAX_ROW_CHARS:
            raise UserError(f"standard input, line {number}: longer than {MAX_ROW_CHARS:,} bytes")
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise UserError(
                    f"standard input, line {number}, column {err.start + 1}: not UTF-8 (byte 0x{raw[err.start]:02x})"
                ) from None
        yield raw.rstrip("\r\n")


def _batched(items: Iterator[str], size: int) -> Iterator[list[str]]:
    from itertools import islice

    while batch := list(islice(items, size)):
        yield batch


def _format_metrics(metrics: dict[str, float]) -> str:
    parts = []
    for key, name in (
        ("macro_f1", "macro-F1"),
        ("roc_auc", "ROC-AUC"),
        ("genuine_flagged", "genuine flagged"),
        ("spam_caught", "spam caught"),
    ):
        if key in metrics:
            value = metrics[key]
            parts.append(f"{name} {_percent(value) if 'flagged' in key or 'caught' in key else f'{value:.3f}'}")
    return ", ".join(parts)


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._persist import model_writer

    output = Path(args.output)
    if output.suffix.lower() not in (".joblib", ".skops"):
        raise UserError(f"{output}: the model file must end in .joblib or .skops")
    if output.suffix.lower() == ".skops" and importlib.util.find_spec("skops") is None:
        # Before any work: training would take minutes, then fail to write.
        raise UserError(f'{output}: writing .skops needs skops: python -m pip install "invitecls[skops]"')
    # One writer per model file, from the check of the current model to the save: a second
    # `train` to the same file stops here, before training, and says so.
    with model_writer(output) as writer:
        return _train(args, out, writer)


def _train(args: argparse.Namespace, out: TextIO, writer: Any) -> int:
    from invitecls._io import read_labeled
    from invitecls._persist import ModelError, load_compiled
    from invitecls._training import check_replacement, train_with_report

    output = Path(args.output)
    previous = None
    if output.exists() and not args.force:
        # Replacing a model is allowed only by one that is not worse on held-out
        # notes (a guard against poisoned or mislabelled data).
        try:
            # Its compiled form: checking a model never unpickles it.
            previous = load_compiled(output)
        except ModelError as err:
            raise UserError(f"{output} exists and cannot be checked ({err}); add --force to replace it") from None
    holdout = read_labeled(args.holdout, for_training=False) if args.holdout else None
    params: dict[str, Any] = {}
    if args.C is not None:
        params["C"] = args.C
    if args.max_genuine_flagged is not None:
        params["max_genuine_flagged"] = args.max_genuine_flagged
    base = None if args.base == "none" else args.base
    with _stages(quiet=args.quiet):
        trained = train_with_report(
            args.data, label_column=args.label_column, split=args.split, base=base, weight=args.weight, **params
        )
        model, report = trained.model, trained.report
        _print_training(trained, args, out)
        if previous is not None:
            if not (model.is_default_task_ and previous.default_task):
                raise UserError(f"{output} exists and holds a model of another task; add --force to replace it")
            replacement = check_replacement(trained, previous, holdout)
            where = f"held-out notes: {_held_out_name(args, report)}"
            _print_comparison(replacement.comparison, "current", where, out)
            if not replacement.acceptable:
                raise UserError(
                    f"the new model is worse than {output} on held-out notes in "
                    + "; ".join(replacement.refused)
                    + ". Kept the current model. Check the training labels, or add --force to replace it anyway"
                )
        logging.getLogger("invitecls").info("writing %s", output)
        saved = writer.save(model, overwrite=True if previous is not None else args.force, training_info=trained.info)
    out.write(f"wrote {output}\n")
    if saved.backup is not None:
        out.write(f"kept the model it replaced as {saved.backup}\n")
    return EXIT_OK


def _held_out_name(args: argparse.Namespace, report: Any) -> str:
    held = Path(args.holdout).name if args.holdout else "the corpus's test split"
    return f"{held} and your notes out of fold" if report.comparison is not None else held


_BASE_NAMES = {"corpus": "the shipped corpus's training split"}


def _print_training(trained: Any, args: argparse.Namespace, out: TextIO) -> None:
    """What was trained on, the cross-validation, the thresholds and the report on one's notes."""
    model, report = trained.model, trained.report
    split = f" (split {args.split})" if args.split else ""
    if report.n_base:
        out.write(
            f"trained on {report.n_own} notes of yours from {args.data}{split} on top of {report.n_base} notes of "
            f"{_BASE_NAMES.get(report.base, report.base)}; each of yours counts as {report.weight:g} "
            "(--weight to change, --base none for yours alone)\n"
        )
    else:
        out.write(f"trained on {report.n_own} notes from {args.data}{split} alone (base: {report.base})\n")
    if model.cv_scores_:
        n = int(model.cv_scores_.get("n_splits", 0))
        total = report.n_own + report.n_base
        out.write(f"grouped {n}-fold cross-validation over all {total} notes: {_format_metrics(model.cv_scores_)}\n")
        out.write(
            f"thresholds: label spam at p >= {model.threshold_:.3f}; "
            f"accept below {model.accept_threshold_:.3f}, decline from {model.decline_threshold_:.3f}\n"
        )
    if report.comparison is not None:
        _print_comparison(report.comparison, "shipped", f"your {report.n_own} notes, out of fold", out)
    out.write(report.sentence + "\n")
    for warning in report.warnings:
        out.write(f"warning: {warning}\n")


def _print_comparison(comparison: Any, old_name: str, where: str, out: TextIO) -> None:
    """A side-by-side table of the three measures with their 95% intervals."""

    def cell(measure: str, value: Any) -> str:
        if measure == "macro_f1":
            return f"{value.value:.3f} ({value.low:.3f} to {value.high:.3f})"
        return f"{value.value:.1%} ({value.low:.1%} to {value.high:.1%})"

    out.write(f"on {where} ({comparison.n} notes, {comparison.n_groups} groups; 95% bootstrap intervals):\n")
    out.write(f"  {'':<17}{old_name:<26}new\n")
    names = {"macro_f1": "macro-F1", "genuine_flagged": "genuine flagged", "spam_caught": "spam caught"}
    for measure, name in names.items():
        old, new = cell(measure, comparison.old[measure]), cell(measure, comparison.new[measure])
        out.write(f"  {name:<17}{old:<26}{new}\n")


@contextlib.contextmanager
def _stages(*, quiet: bool, stream: TextIO | None = None) -> Iterator[None]:
    """Show training's stages with the time elapsed, on a terminal and unless ``quiet``."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not stream.isatty():
        yield
        return
    started = time.monotonic()

    class _Elapsed(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"[{time.monotonic() - started:6.1f}s] {record.getMessage()}"

    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Elapsed())
    logger = logging.getLogger("invitecls")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._evaluation import evaluate

    report = evaluate(args.data, model=args.model, label_column=args.label_column, split=args.split)
    if len(report.splits) > 1:
        sys.stderr.write(
            f"note: {args.data} has a split column ({', '.join(report.splits)}) and no --split was chosen: "
            "every row was evaluated, training rows included\n"
        )
    if args.json:
        out.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return EXIT_OK
    ambiguous = f" ({report.n_ambiguous} of the guide's ambiguous band left out)" if report.n_ambiguous else ""
    out.write(f"{report.n} notes{ambiguous}\n")
    out.write(f"accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}")
    if report.roc_auc is not None:
        out.write(f"  ROC-AUC {report.roc_auc:.3f}")
    out.write("\n")
    if report.genuine_flagged is not None:
        out.write(f"genuine notes flagged as spam: {_percent(report.genuine_flagged)}\n")
    if report.spam_caught is not None:
        out.write(f"spam caught: {_percent(report.spam_caught)}\n")
    width = max(len(c) for c in report.labels) + 2
    out.write(f"\n{'class':<{width}}precision  recall  f1     support\n")
    for label, row in report.per_class.items():
        out.write(f"{label:<{width}}{row['precision']:<11.3f}{row['recall']:<8.3f}{row['f1']:<7.3f}{row['support']}\n")
    out.write("\nconfusion (rows: true, columns: predicted)\n")
    out.write(" " * width + "".join(f"{c:>{width}}" for c in report.labels) + "\n")
    for label, counts in report.confusion.items():
        out.write(f"{label:<{width}}" + "".join(f"{counts[c]:>{width}}" for c in report.labels) + "\n")
    return EXIT_OK


def _write_or_print(rows: list[Any] | Any, out_path: str | None, columns: tuple[str, ...], out: TextIO) -> int:
    from invitecls._output import write_rows

    if out_path:
        return write_rows(rows, out_path, columns)
    n = 0
    for row in rows:
        record = row.as_record()
        out.write("\t".join(_cell(record[c]) for c in columns) + "\n")
        n += 1
    return n


def _check_output(target: str, inputs: Sequence[str | None], columns: tuple[str, ...], force: bool) -> None:
    """Refuse to write over an input, or over a file invitecls did not write, unless ``--force``."""
    out = Path(target).resolve()
    for given in inputs:
        if not given:
            continue
        source = Path(given).resolve()
        if out == source or (source.is_dir() and source in out.parents):
            where = "inside " if out != source else ""
            raise UserError(f"{target}: that is {where}an input ({given}); write elsewhere")
    if not out.parent.is_dir():
        raise UserError(f"{target}: there is no folder {out.parent}; create it first")
    if out.exists() and not force and not _written_by_us(out, columns):
        raise UserError(f"{target} exists and was not written by this command; add --force to replace it")


def _read_reply(path: str) -> str:
    """A reply template from a file (``--reply @FILE``), read within bounds."""
    from invitecls._limits import LimitError, decode_text, read_regular
    from invitecls._triage import MAX_REPLY_CHARS

    try:
        return decode_text(read_regular(path, 4 * MAX_REPLY_CHARS)).strip()
    except LimitError as err:
        raise UserError(f"{path}: {err}") from None


def _written_by_us(path: Path, columns: tuple[str, ...]) -> bool:
    """Whether ``path`` starts like this command's output (then writing it again loses nothing of the user's)."""
    from invitecls._limits import LimitError, open_regular

    try:
        # Not open(): a named pipe there would block; a device is not our output either. Any size: one line is read.
        with open_regular(path, 1 << 62) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
            first = handle.readline(100_000).rstrip("\r\n")
    except (OSError, UnicodeDecodeError, LimitError):
        return False
    if path.suffix.casefold() == ".csv":
        return first == ",".join(columns)
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and tuple(record) == columns


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(value)
    text = "" if value is None else str(value)
    return _visible(" ".join(text.split()))


def _visible(text: str) -> str:
    """Text safe to print on a terminal: invisible and control characters shown as escapes.

    A note is written by a stranger: an escape sequence in it must not drive the
    user's terminal, and a hidden character should be seen, not hidden.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}" for ch in text
    )


def cmd_triage(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._export import open_export
    from invitecls._output import Progress
    from invitecls._triage import (
        DEFAULT_REPLY,
        TRIAGE_COLUMNS,
        TriageSummary,
        check_reply_template,
        read_mutual_counts,
        triage,
    )

    if args.out and Path(args.out).suffix.casefold() not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise UserError(f"{args.out}: the output must end in .csv or .jsonl")
    if args.out:
        reply_file = args.reply[1:] if args.reply and args.reply.startswith("@") else None
        _check_output(args.out, [args.export, args.mutual, reply_file, args.model], TRIAGE_COLUMNS, args.force)
    template = DEFAULT_REPLY
    if args.reply:
        template = _read_reply(args.reply[1:]) if args.reply.startswith("@") else args.reply
    check_reply_template(template)
    export = open_export(args.export)
    mutual = read_mutual_counts(args.mutual) if args.mutual else None
    summary = TriageSummary()
    progress = Progress("triage", quiet=args.quiet)

    def counted() -> Any:
        for row in triage(
            export,
            model=args.model,
            mutual=mutual,
            all_directions=args.all_directions,
            reply_template=template,
            progress=progress,
        ):
            if row.direction == "INCOMING":
                summary.labels[row.label] += 1
                if row.action:
                    summary.actions[row.action] += 1
            else:
                summary.sent += 1
            yield row

    try:
        if args.out:
            _write_or_print(counted(), args.out, TRIAGE_COLUMNS, out)
        else:
            shown = ("action", "label", "probability", "sender", "note", "reply")
            columns = ("direction", *shown) if args.all_directions else shown
            out.write("\t".join(columns) + "\n")
            _write_or_print(counted(), None, columns, out)
    finally:
        progress.close()
    if args.out:
        out.write(f"wrote {args.out}\n")
    out.write(summary.line() + "\n")
    return EXIT_OK


def cmd_prune(args: argparse.Namespace, out: TextIO) -> int:
    import datetime as dt

    from invitecls._export import open_export
    from invitecls._prune import PRUNE_COLUMNS, prune

    if args.out:
        _check_output(args.out, [args.export], PRUNE_COLUMNS, args.force)
    export = open_export(args.export, needs=("Connections.csv",))
    today = dt.date.fromisoformat(args.today) if args.today else None
    report = prune(export, months=args.months, today=today)
    if args.out:
        _write_or_print(report.rows, args.out, PRUNE_COLUMNS, out)
        out.write(f"wrote {args.out}\n")
    else:
        out.write("\t".join(PRUNE_COLUMNS) + "\n")
        _write_or_print(report.rows, None, PRUNE_COLUMNS, out)
    messages = "" if export.has("messages.csv") else " (no messages.csv in the export: every connection counts)"
    out.write(
        f"{len(report.rows)} connection{'' if len(report.rows) == 1 else 's'} with no contact since connecting "
        f"at least {args.months} month{'' if args.months == 1 else 's'} ago{messages}"
    )
    skipped = []
    if report.skipped_unnamed:
        skipped.append(f"{report.skipped_unnamed} without name or URL")
    if report.skipped_undated:
        skipped.append(f"{report.skipped_undated} without a readable date")
    out.write(f"; skipped {', '.join(skipped)}\n" if skipped else "\n")
    return EXIT_OK


def cmd_review(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._review import append_labels, load_notes, review_candidates

    if args.to is None and not args.list:
        raise UserError("--to LABELS.csv is needed to record answers (or --list to print the candidates)")
    if args.source == "-":
        if not args.list:
            raise UserError("review - reads the notes from standard input, where answers would come from: add --list")
        notes: list[tuple[str, int | None]] = [(note, None) for note in _stdin_notes()]
    else:
        notes = load_notes(args.source)
    candidates = review_candidates(notes, labels_file=args.to, n=args.n, model=args.model)
    if args.list:
        out.write("p_spam\tlabel\tmutual_connections\tnote\n")
        for c in candidates:
            count = "" if c.mutual_connections is None else str(c.mutual_connections)
            out.write(f"{c.probability_spam:.2f}\t{c.label}\t{count}\t{_cell(c.message)}\n")
        return EXIT_OK
    if not candidates:
        out.write("nothing to review: every note is already labelled\n")
        return EXIT_OK
    answers: list[tuple[str, int | None, str]] = []
    choices = {"s": "spam", "spam": "spam", "g": "genuine", "genuine": "genuine"}
    try:
        for number, c in enumerate(candidates, start=1):
            count = "unknown" if c.mutual_connections is None else str(c.mutual_connections)
            out.write(f"\n[{number}/{len(candidates)}] shared connections: {count}\n")
            out.write(f"  {_visible(c.message) or '(no note)'}\n")
            out.write(f"  model: {c.label} (p spam {c.probability_spam:.2f}) - {'; '.join(c.reasons[:3])}\n")
            while True:
                out.write("  [s]pam, [g]enuine, s[k]ip, [q]uit? ")
                out.flush()
                line = sys.stdin.readline()
                if not line:
                    answer = "q"
                    break
                answer = line.strip().casefold()
                if answer in choices or answer in ("k", "skip", "q", "quit"):
                    break
                out.write("  please answer s, g, k or q\n")
            if answer in ("q", "quit"):
                break
            if answer in choices:
                answers.append((c.message, c.mutual_connections, choices[answer]))
    finally:
        added = append_labels(args.to, answers) if answers else 0
        out.write(f"\nadded {added} labelled note{'' if added == 1 else 's'} to {args.to}\n")
    return EXIT_OK


def _count(text: str) -> int:
    from invitecls._limits import shorten
    from invitecls._validation import MAX_MUTUAL, parse_count

    value = parse_count(text)
    if value is None:
        digits = text.strip().removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"{shorten(text, quote=True)} is not a whole number")
        if text.strip().startswith("-"):
            raise argparse.ArgumentTypeError(f"{shorten(text.strip())} is negative")
        raise argparse.ArgumentTypeError(f"{shorten(text)} is not a whole number from 0 to {MAX_MUTUAL:,}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a share from 0 to 1 (0.02 is 2%)")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``invitecls``."""
    from invitecls import __version__

    parser = argparse.ArgumentParser(
        prog="invitecls",
        description="Tell a genuine LinkedIn connection request from a generic, spammy one.",
    )
    parser.add_argument("--version", action="version", version=f"invitecls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_classify, _add_train, _add_evaluate, _add_triage, _add_review, _add_prune):
        add(sub)
    return parser


def _add_classify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``classify`` command's arguments."""
    p = sub.add_parser("classify", help="classify a note (or one note per line from standard input)")
    p.add_argument("text", nargs="?", help="the note; omit to read one note per line from standard input")
    p.add_argument("--mutual", type=_count, default=None, metavar="N", help="shared connections (default: unknown)")
    p.add_argument("--json", action="store_true", help="one JSON object per note")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.set_defaults(func=cmd_classify)


def _add_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``train`` command's arguments."""
    p = sub.add_parser("train", help="train a model on labeled CSV or JSONL data")
    p.add_argument("data", help="labeled data: message, mutual_connections, label columns")
    p.add_argument("--output", "-o", required=True, help="model file to write (.joblib, or .skops to share)")
    p.add_argument("--label-column", default="label", help="column with the labels (default: label)")
    p.add_argument("--split", default=None, help="train only on rows whose split column has this value")
    p.add_argument(
        "--base",
        default="corpus",
        metavar="corpus|none|FILE",
        help="labeled notes trained on beneath yours: the shipped corpus's training split (default, for "
        "spam/genuine labels), none, or another labeled file",
    )
    p.add_argument(
        "--weight",
        type=float,
        default=None,
        metavar="W",
        help="how many base notes each of your notes counts for (default: 10, less for large files; never below 1)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    p.add_argument("--C", type=float, default=None, help="inverse regularisation strength (default: 32)")
    p.add_argument(
        "--max-genuine-flagged",
        type=_fraction,
        default=None,
        metavar="RATE",
        help="target share of genuine notes labelled spam when choosing the threshold (default: 0.02)",
    )
    p.add_argument(
        "--holdout",
        default=None,
        metavar="FILE",
        help="labeled notes that, with your notes out of fold, guard a replacement (default: the corpus's test split)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing model file even if the new model is worse on held-out notes",
    )
    p.set_defaults(func=cmd_train)


def _add_evaluate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``evaluate`` command's arguments."""
    p = sub.add_parser("evaluate", help="measure a model on labeled data")
    p.add_argument("data", help="labeled data in the training format")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.add_argument("--label-column", default="label", help="column with the labels (default: label)")
    p.add_argument("--split", default=None, help="evaluate only rows whose split column has this value")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_evaluate)


def _add_triage(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``triage`` command's arguments."""
    p = sub.add_parser("triage", help="classify the received invitations of a LinkedIn data export")
    p.add_argument("export", help="the export: the downloaded zip file or the folder it unpacks to")
    p.add_argument("--out", "-o", default=None, help="write every invitation to this .csv or .jsonl file")
    p.add_argument("--mutual", default=None, metavar="FILE", help="CSV of profile_url (or name),mutual_connections")
    p.add_argument("--all-directions", action="store_true", help="also classify invitations you sent")
    p.add_argument("--reply", default=None, help="reply template for 'ask' with {first_name}; @FILE reads a file")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line on standard error")
    p.add_argument("--force", action="store_true", help="replace an --out file that invitecls did not write")
    p.set_defaults(func=cmd_triage)


def _add_review(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``review`` command's arguments."""
    p = sub.add_parser("review", help="label the notes the model is least sure about")
    p.add_argument("source", help="an export (zip or folder), a CSV/JSONL file with a message column, or - (stdin)")
    p.add_argument("--to", default=None, metavar="LABELS.csv", help="your labelled file (created if missing)")
    p.add_argument("-n", type=_count, default=20, help="how many notes (default: 20)")
    p.add_argument("--list", action="store_true", help="print the candidates instead of asking")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.set_defaults(func=cmd_review)


def _add_prune(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``prune`` command's arguments."""
    p = sub.add_parser("prune", help="list connections with no contact since connecting")
    p.add_argument("export", help="the export: the downloaded zip file or the folder it unpacks to")
    p.add_argument("--months", type=_count, default=12, help="connected at least this many months ago (default 12)")
    p.add_argument("--out", "-o", default=None, help="write the list to this .csv or .jsonl file")
    p.add_argument("--force", action="store_true", help="replace an --out file that invitecls did not write")
    p.add_argument("--today", default=None, metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_prune)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from invitecls._export import ExportError
    from invitecls._io import DataError
    from invitecls._persist import ModelError

    try:
        return int(args.func(args, sys.stdout))
    except BrokenPipeError:
        return EXIT_OK
    except (UserError, DataError, ModelError, ExportError, FileExistsError, OSError, ValueError) as err:
        # One line, however long or many-lined what it quotes.
        message = " ".join(str(err).splitlines())
        if len(message) > 2_000:
            message = message[:2_000] + f"... ({len(message):,} characters)"
        sys.stderr.write(f"invitecls {args.command}: error: {message}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("invitecls: interrupted\n")
        return 130
