"""Long-prompt throughput at batch 1 of a LLaMA decoder with the shapes of SmolLM2-135M in PyTorch eager.

The counterpart of rlcd4j.bench.PrefillBench (same shapes, lengths, kinds and timing method; random weights), on the
model of decode_torch.py (RMSNorm in fp32, rotate_half RoPE, grouped-query attention without repeat_kv, SwiGLU, an
additive mask, KV cache buffers written in place):
  score    a plain forward over the prompt, the log-probability of every next token (log-softmax over the vocabulary
           at every position, gather), copied to the host: what `rlcd score` computes;
  prefill  a forward into a fresh KV cache and the logits of the last position: what generation does with a prompt.
Every (kind, length) runs once per round, in one order and then the reverse; figures are medians over the rounds, by
wall time and by the process's CPU time (the work done, less the waits, on a machine shared with other work).

usage: /usr/bin/python3 bench/prefill_torch.py [--threads N] [--rounds 3] [--kinds score prefill]
                                              [--lengths 128 512 1024]
"""
import argparse
import os
import time

import torch
import torch.nn.functional as F

from decode_torch import KV, HD, L, V, attention_mask, forward, random_weights


@torch.inference_mode()
def run(w, kind, prompt):
    T = len(prompt)
    t0, c0 = time.perf_counter(), time.process_time()
    ids = torch.tensor([prompt])
    pos = torch.arange(T).view(1, T)
    mask = attention_mask(torch.ones(1, T, dtype=torch.long), 0, T)
    cache = [(torch.zeros(1, KV, T, HD), torch.zeros(1, KV, T, HD)) for _ in range(L)]
    hidden = forward(w, ids, pos, mask, cache, 0)
    if kind == "score":
        logp = F.linear(hidden, w["embed"]).log_softmax(-1)  # tied head, every position
        lp = logp[:, :-1].gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1).tolist()
        assert len(lp[0]) == T - 1
    else:
        logits = F.linear(hidden[:, -1], w["embed"]).tolist()
        assert len(logits[0]) == V
    return time.perf_counter() - t0, time.process_time() - c0


def median(times):
    t = sorted(times)
    n = len(t)
    return t[n // 2] if n % 2 else (t[n // 2 - 1] + t[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kinds", nargs="+", default=["score", "prefill"])
    ap.add_argument("--lengths", type=int, nargs="+", default=[128, 512, 1024])
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    w = random_weights()
    g = torch.Generator().manual_seed(7)
    prompt = lambda n: torch.randint(1, V, (n,), generator=g).tolist()
    cases = [(k, T) for k in a.kinds for T in a.lengths]
    t0 = time.perf_counter()
    for k, T in cases:
        run(w, k, prompt(T))
    print(f"warm-up {time.perf_counter() - t0:.1f} s (one forward of each)")
    times, cpu = {c: [] for c in cases}, {c: [] for c in cases}
    for r in range(a.rounds):
        order = cases if r % 2 == 0 else cases[::-1]
        line = []
        for k, T in order:
            wall, c = run(w, k, prompt(T))
            times[(k, T)].append(wall)
            cpu[(k, T)].append(c)
            line.append(f"{k}@{T} {wall * 1e3:.0f} (cpu {c * 1e3:.0f})")
        print(f"round {r + 1}: " + " ".join(line) + f" ms; load {os.getloadavg()[0]:.2f}")
    for k in a.kinds:
        for what, ts in (("", times), ("_cpu", cpu)):
            first = median(ts[(k, a.lengths[0])]) / a.lengths[0]
            for T in a.lengths:
                t = median(ts[(k, T)])
                cpu_label = "process CPU " if what else ""
                print(f"RESULT {k}_torch_{T}{what}_tps {T / t:.2f}   ({cpu_label}{t * 1e3:.1f} ms, "
                      f"{t / T * 1e3:.3f} ms/token, {t / T / first:.2f}x the ms/token at {a.lengths[0]})")


if __name__ == "__main__":
    main()
