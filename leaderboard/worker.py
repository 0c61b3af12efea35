"""`accelerate launch [--multi_gpu --num_processes N] -m leaderboard.worker --method M --data DIR --out FILE.json`.

The sharded runner: every process predicts its share of the test images and the metrics
are computed once on the gathered set (see leaderboard/board/distributed.py). The queue's
worker is `python -m leaderboard worker`.
"""
import sys

from leaderboard.board.distributed import main

if __name__ == "__main__":
    sys.exit(main())
