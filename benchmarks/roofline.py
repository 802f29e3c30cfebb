"""Print this machine's measured roofline: peak float32 FLOP/s (a large matrix product) and memory bandwidth
(a large copy), at full size and with more repeats than the book's notebooks use.

    python benchmarks/roofline.py                 # one thread, then all of torch's threads
    python benchmarks/roofline.py --threads 4 --n 4096 --megabytes 1024

Speeds are measured here and printed, never asserted (tests do not time anything).
"""

from __future__ import annotations

import argparse

import torch

from nncost.roofline import Roofline, peak_bandwidth, peak_flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", help="thread counts (default: 1 and torch's default)")
    parser.add_argument("--n", type=int, default=2048, help="matrix side of the matmul (default 2048)")
    parser.add_argument("--megabytes", type=float, default=512, help="buffer copied, in MB (default 512)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    counts = args.threads or sorted({1, torch.get_num_threads()})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available")
    for threads in counts:
        flops, ft = peak_flops(args.n, warmup=3, repeats=args.repeats, threads=threads)
        bandwidth, bt = peak_bandwidth(args.megabytes, warmup=2, repeats=max(5, args.repeats // 2), threads=threads)
        print(ft)
        print(bt)
        print(Roofline(flops, bandwidth, label=f"{threads} thread{'s' if threads != 1 else ''}"))
        print()


if __name__ == "__main__":
    main()
