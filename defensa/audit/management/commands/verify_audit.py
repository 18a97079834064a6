from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.audit.checkpoints import Checkpoint, checkpoint_path, verify


class Command(BaseCommand):
    help = (
        "Check the audit chain against its key and every signed checkpoint; name the first "
        "altered entry, and report removed newest entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="LINE",
            help="A checkpoint line (ckpt1:...) from an email or a printed record, to compare too.",
        )

    def handle(self, *args: Any, checkpoint: list[str], **options: Any) -> None:
        try:
            extra = [Checkpoint.parse(line) for line in checkpoint]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verdict = verify(extra=extra)
        for note in verdict.notes:
            self.stderr.write(f"Note: {note}.")
        chain = verdict.chain
        if chain.bad is not None:
            bad = chain.bad
            raise CommandError(
                f"Audit entry #{bad.seq} (id {bad.pk}, action {bad.action}) was altered: "
                f"{chain.why}. {chain.checked} entries before it are intact."
                + "".join(f"\n{problem}" for problem in verdict.problems)
            )
        if verdict.problems:
            raise CommandError(
                "The audit log does not match its checkpoints:\n" + "\n".join(verdict.problems)
            )
        legacy = (
            f" ({chain.legacy} written before keying, checked by the old rule)"
            if (chain.legacy)
            else ""
        )
        self.stdout.write(
            f"Audit log intact: {chain.checked} entries verified{legacy}; "
            f"signed checkpoints agreeing (in {checkpoint_path().name} and given): "
            f"{verdict.checkpoints}."
        )
