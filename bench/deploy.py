"""How long deploying processes/ takes: the first deploy in a process, a deploy into another
fresh database in the same process (what every scenario test and every editor dry run
repeats), and the first run of each process on a new engine (its specs parsed).

    .venv/bin/python bench/deploy.py [--rounds 5]

Prints medians in seconds and the ratio of the repeated deploy to the first; asserts nothing
about timing. SQLite in temporary files.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.settings import ROOT, Settings  # noqa: E402
from api.wiring import build_engine  # noqa: E402


def fresh_engine(folder: Path):
    settings = Settings.from_env(database_url=f"sqlite:///{folder / 'bench.db'}", var_dir=folder,
                                 secret_key="bench")
    engine = build_engine(settings)
    engine.migrate()
    return engine


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    first, again, specs = None, [], []
    for n in range(rounds + 1):
        with tempfile.TemporaryDirectory() as folder:
            engine = fresh_engine(Path(folder))
            took = timed(lambda: engine.repository.deploy_paths([ROOT / "processes"], actor="bench"))
            if n == 0:
                first = took
            else:
                again.append(took)
            definitions = engine.repository.list()
            specs.append(timed(lambda: [engine.repository.specs(d) for d in definitions]))
            engine.close()
    print(f"processes/: {len(definitions)} process definitions")
    print(f"first deploy in the process      {first:.3f} s")
    print(f"deploy into another fresh DB     {statistics.median(again):.3f} s (median of {rounds}); "
          f"ratio to the first {statistics.median(again) / first:.2f}")
    print(f"parse every version's specs      {specs[0]:.3f} s first engine, "
          f"{statistics.median(specs[1:]):.3f} s on later engines (median)")


if __name__ == "__main__":
    main()
