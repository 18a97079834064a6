"""python -m bench NAME [--quick] [--no-record] | python -m bench all [--quick]"""

from __future__ import annotations

import argparse
import json
import sys

from bench import in_all, names, progress, record, result, run_one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", help="a benchmark name, or 'all'")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--no-record", action="store_true", help="do not append the figures to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)

    todo = [n for n in names() if in_all(n)] if args.name == "all" else [args.name]
    outcomes = []
    for name in todo:
        progress(f"running {name}{' (quick)' if args.quick else ''}")
        outcome = run_one(name, quick=args.quick)
        if not args.no_record:
            record(outcome, quick=args.quick)
        outcomes.append(outcome)
        if args.name == "all":
            print(json.dumps(outcome), flush=True)

    if args.name == "all":
        final = result(
            "all",
            {o["bench"]: o["ok"] for o in outcomes},
            {o["bench"]: True for o in outcomes},
            all(o["ok"] for o in outcomes),
        )
    else:
        final = outcomes[0]
    print(json.dumps(final), flush=True)
    return 0 if final["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
