"""The ``invitecls`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UserError(Exception):
    """A mistake in what the user asked for: one line on stderr, exit 2."""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _print_prediction(prediction: Any, out: TextIO) -> None:
    action = f"  {prediction.action}" if prediction.action else ""
    out.write(f"{prediction.label}  {prediction.probability:.2f}{action}\n")
    for reason in prediction.reasons:
        out.write(f"  - {reason}\n")


def cmd_classify(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._api import classify, classify_many

    model = args.model
    if args.text is not None:
        predictions = [classify(args.text, args.mutual, model=model)]
    else:
        lines = [line.rstrip("\n") for line in sys.stdin]
        counts = None if args.mutual is None else [args.mutual] * len(lines)
        predictions = classify_many(lines, counts, model=model)
    for prediction in predictions:
        if args.json:
            out.write(json.dumps(prediction.to_dict(), ensure_ascii=False) + "\n")
        else:
            _print_prediction(prediction, out)
    return EXIT_OK


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
    from invitecls._api import compare_on_genuine, load_corpus, train
    from invitecls._io import read_labeled
    from invitecls._persist import ModelError, load_compiled

    output = Path(args.output)
    if output.suffix.lower() not in (".joblib", ".skops"):
        raise UserError(f"{output}: the model file must end in .joblib or .skops")
    previous = None
    if output.exists() and not args.force:
        # Replacing a model is allowed only by one that is not worse on held-out
        # genuine notes (a guard against poisoned or mislabelled data).
        try:
            # Its compiled form: checking a model never unpickles it.
            previous = load_compiled(output)
        except ModelError as err:
            raise UserError(f"{output} exists and cannot be checked ({err}); add --force to replace it") from None
    holdout = None
    if args.holdout:
        holdout = read_labeled(args.holdout, for_training=False)
    data = read_labeled(args.data, label_column=args.label_column, split=args.split)
    params: dict[str, Any] = {}
    if args.C is not None:
        params["C"] = args.C
    if args.max_genuine_flagged is not None:
        params["max_genuine_flagged"] = args.max_genuine_flagged
    out.write(f"training on {len(data)} notes from {args.data}" + (f" (split {args.split})" if args.split else ""))
    out.write("\n")
    model = train(data, label_column=args.label_column, split=args.split, **params)
    if model.cv_scores_:
        n = int(model.cv_scores_.get("n_splits", 0))
        out.write(f"grouped {n}-fold cross-validation: {_format_metrics(model.cv_scores_)}\n")
        out.write(
            f"thresholds: label spam at p >= {model.threshold_:.3f}; "
            f"accept below {model.accept_threshold_:.3f}, decline from {model.decline_threshold_:.3f}\n"
        )
    if previous is not None:
        if not (model.is_default_task_ and previous.default_task):
            raise UserError(f"{output} exists and holds a model of another task; add --force to replace it")
        guard = compare_on_genuine(model, previous, holdout if holdout is not None else load_corpus(split="test"))
        out.write(
            f"held-out genuine notes flagged ({guard.n} notes): new {guard.new_rate:.1%}, "
            f"current {guard.old_rate:.1%}\n"
        )
        if not guard.acceptable:
            raise UserError(
                f"the new model flags more held-out genuine notes than {output} "
                f"({guard.new_rate:.1%} against {guard.old_rate:.1%}); kept the current model. "
                "Check the training labels, or add --force to replace it anyway"
            )
    model.save(output, overwrite=True if previous is not None else args.force)
    out.write(f"wrote {output} and {output.name}.json\n")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._api import evaluate

    report = evaluate(args.data, model=args.model, label_column=args.label_column, split=args.split)
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
    from invitecls._triage import write_rows

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
    if out.exists() and not force and not _written_by_us(out, columns):
        raise UserError(f"{target} exists and was not written by this command; add --force to replace it")


def _written_by_us(path: Path, columns: tuple[str, ...]) -> bool:
    """Whether ``path`` starts like this command's output (then writing it again loses nothing of the user's)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            first = handle.readline(100_000).rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
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
    return " ".join(text.split())


def cmd_triage(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._export import open_export
    from invitecls._triage import (
        DEFAULT_REPLY,
        TRIAGE_COLUMNS,
        Progress,
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
        template = Path(args.reply[1:]).read_text("utf-8").strip() if args.reply.startswith("@") else args.reply
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
            summary.labels[row.label] += 1
            if row.action:
                summary.actions[row.action] += 1
            yield row

    try:
        if args.out:
            _write_or_print(counted(), args.out, TRIAGE_COLUMNS, out)
        else:
            columns = ("action", "label", "probability", "sender", "note", "reply")
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
    from invitecls._triage import PRUNE_COLUMNS, prune

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
        f"{len(report.rows)} connections with no contact since connecting at least {args.months} months ago{messages}"
    )
    skipped = []
    if report.skipped_unnamed:
        skipped.append(f"{report.skipped_unnamed} without name or URL")
    if report.skipped_undated:
        skipped.append(f"{report.skipped_undated} without a readable date")
    out.write(f"; skipped {', '.join(skipped)}\n" if skipped else "\n")
    return EXIT_OK


def cmd_review(args: argparse.Namespace, out: TextIO) -> int:
    from invitecls._triage import append_labels, load_notes, review_candidates

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
            out.write(f"  {c.message or '(no note)'}\n")
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
        out.write(f"\nadded {added} labelled notes to {args.to}\n")
    return EXIT_OK


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
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

    p = sub.add_parser("classify", help="classify a note (or one note per line from standard input)")
    p.add_argument("text", nargs="?", help="the note; omit to read one note per line from standard input")
    p.add_argument("--mutual", type=_count, default=None, metavar="N", help="shared connections (default: unknown)")
    p.add_argument("--json", action="store_true", help="one JSON object per note")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("train", help="train a model on labeled CSV or JSONL data")
    p.add_argument("data", help="labeled data: message, mutual_connections, label columns")
    p.add_argument("--output", "-o", required=True, help="model file to write (.joblib, or .skops to share)")
    p.add_argument("--label-column", default="label", help="column with the labels (default: label)")
    p.add_argument("--split", default=None, help="train only on rows whose split column has this value")
    p.add_argument("--C", type=float, default=None, help="inverse regularisation strength (default: 4)")
    p.add_argument(
        "--max-genuine-flagged",
        type=float,
        default=None,
        metavar="RATE",
        help="target share of genuine notes labelled spam when choosing the threshold (default: 0.02)",
    )
    p.add_argument(
        "--holdout",
        default=None,
        metavar="FILE",
        help="labeled notes whose genuine ones guard a replacement (default: the corpus's test split)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing model file even if the new model flags more held-out genuine notes",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="measure a model on labeled data")
    p.add_argument("data", help="labeled data in the training format")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.add_argument("--label-column", default="label")
    p.add_argument("--split", default=None, help="evaluate only rows whose split column has this value")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_evaluate)
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

    p = sub.add_parser("review", help="label the notes the model is least sure about")
    p.add_argument("source", help="an export (zip or folder) or a CSV/JSONL file with a message column")
    p.add_argument("--to", required=True, metavar="LABELS.csv", help="your labelled file (created if missing)")
    p.add_argument("-n", type=_count, default=20, help="how many notes (default: 20)")
    p.add_argument("--list", action="store_true", help="print the candidates instead of asking")
    p.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("prune", help="list connections with no contact since connecting")
    p.add_argument("export", help="the export: the downloaded zip file or the folder it unpacks to")
    p.add_argument("--months", type=_count, default=12, help="connected at least this many months ago (default 12)")
    p.add_argument("--out", "-o", default=None, help="write the list to this .csv or .jsonl file")
    p.add_argument("--force", action="store_true", help="replace an --out file that invitecls did not write")
    p.add_argument("--today", default=None, metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_prune)
    return parser


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
        sys.stderr.write(f"invitecls {args.command}: error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("invitecls: interrupted\n")
        return 130
