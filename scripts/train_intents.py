"""Train the offline model's intent classifier on agents/offline/data/intents.yaml with the packaged MiniLM and
write agents/offline/data/intents-minilm.npz (deterministic: same data and model, same weights).

    .venv/bin/python scripts/train_intents.py            # write the weights
    .venv/bin/python scripts/train_intents.py --check    # exit 1 when the shipped weights are not reproduced
"""

from __future__ import annotations

import argparse
import sys

from agents.offline.classifier import MINILM_WEIGHTS, IntentWeights, load_intents, same, train
from agents.offline.encoder import MiniLMEncoder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped weights instead of writing")
    args = parser.parse_args(argv)
    intents = load_intents()
    weights = train(MiniLMEncoder(), intents)
    print(f"{len(weights.labels)} intents, {sum(map(len, intents.values()))} phrasings, "
          f"temperature {weights.temperature:.3f}, unsure below p={weights.threshold:.3f}")  # fmt: skip
    if args.check:
        ok = MINILM_WEIGHTS.is_file() and same(weights, IntentWeights.load(MINILM_WEIGHTS))
        print("shipped weights reproduced" if ok else f"{MINILM_WEIGHTS} differs from a fresh training")
        return 0 if ok else 1
    weights.save(MINILM_WEIGHTS)
    print(f"wrote {MINILM_WEIGHTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
