"""The janitor's output: one table a person can read and act on, then what to do next."""

from __future__ import annotations

from .janitor import Survey


def age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d"


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def render(survey: Survey, now: float, deleting: bool, where: str, journals: str = "") -> str:
    """The table, then hints; `where` says whose leftovers these are, `journals` their files."""
    count = len(survey.leftovers)
    noun = "resource" if count == 1 else "resources"
    lines = [f"pytest-imagebuild janitor: {count} {noun} left behind by earlier runs ({where})"]
    if survey.unsearched:
        lines[0] += " in what it could search; not searched: " + "; ".join(survey.unsearched)
    if survey.leftovers:
        rows = [["KIND", "NAME", "RUN", "AGE", "WHERE", "WHY", "STATUS"]]
        for item in survey.leftovers:
            since = None if item.since is None else now - item.since
            status = item.status or ("deleting" if deleting else "left")
            rows.append(
                [item.kind, item.name, item.run_id[:8], age(since), item.where, item.why, status]
            )
        lines += table(rows)
        if not deleting:
            lines.append("Run again with --yes to delete them.")
    if survey.gone:
        done = "cleared" if deleting else "will be cleared with --yes"
        lines.append(f"{len(survey.gone)} journal entries name resources already gone ({done}).")
    if survey.spared:
        lines.append(
            f"{survey.spared} resources of runs still in progress were spared "
            "(--older-than DURATION also takes runs older than that)."
        )
    if any(item.status == "not checked" for item in survey.leftovers):
        lines.append(
            "Resources marked 'not checked' stay listed until their cloud answers; if it is "
            f"gone for good, delete the journal files naming them in {journals or where}."
        )
    lines += kept_lines(survey, now)
    lines += survey.notes
    lines += [f"error: {message}" for message in survey.errors]
    return "\n".join(lines)


def kept_lines(survey: Survey, now: float) -> list[str]:
    """What was kept on purpose (--image-keep): named as kept, so nobody takes it for a leak
    (the janitor never deletes it), with how to remove it."""
    if not survey.kept:
        return []
    count = len(survey.kept)
    lines = [
        f"{count} {'thing' if count == 1 else 'things'} kept on purpose (--image-keep), "
        "not leftovers; the janitor leaves them alone:"
    ]
    rows = [["KIND", "NAME", "AGE", "WHERE", "STATUS"]]
    for item in survey.kept:
        since = None if item.since is None else now - item.since
        rows.append([item.kind, item.name, age(since), item.where, "kept"])
    lines += ["  " + line for line in table(rows)]
    lines.append("Remove them with `python -m pytest_imagebuild destroy NAME` (or --all).")
    return lines
