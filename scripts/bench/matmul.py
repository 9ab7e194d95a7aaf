"""The training steps' matmuls alone in PyTorch, beside Matmul.java (DJL): the same shapes, operations
and medians. Run with the anchors' venv (../shared/bench/README.md), as the anchors run, and with the
lab's pins for the same kernels:
    /tmp/anchor-venv/bin/python scripts/bench/matmul.py 400
    ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \
        /tmp/anchor-venv/bin/python scripts/bench/matmul.py 400
"""
import sys
import time

import torch

SHAPES = [(1024, 128, 128), (1024, 128, 384), (1024, 384, 128), (1024, 128, 512),
          (3072, 128, 128), (3072, 128, 344), (3072, 344, 128), (3072, 128, 374)]


def median(op, reps):
    for _ in range(50):
        op()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        y = op()
        t.append((time.perf_counter_ns() - t0) / 1e3)
        del y
    t.sort()
    return t[reps // 2]


def main():
    reps = int(sys.argv[1])
    torch.set_num_threads(2)
    one, two = torch.ones(1), torch.ones(1)
    median(lambda: one + two, reps * 10)
    print(f"one-element add (a native call)     {median(lambda: one + two, reps * 10):8.2f} us   torch {torch.__version__}")
    for n, k, o in SHAPES:
        x, w, gy = torch.randn(n, k), torch.randn(o, k), torch.randn(n, o)
        shape = f"n={n} k={k} o={o}"
        print(f"linear x.W^T   {shape:<22} {median(lambda: torch.nn.functional.linear(x, w), reps):8.1f} us")
        print(f"grad in gy.W   {shape:<22} {median(lambda: gy.mm(w), reps):8.1f} us")
        print(f"grad W gy^T.x  {shape:<22} {median(lambda: gy.t().mm(x), reps):8.1f} us")


if __name__ == "__main__":
    main()
