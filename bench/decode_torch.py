"""Prefill and decode throughput of a LLaMA decoder with the shapes of SmolLM2-135M in PyTorch eager.

The counterpart of rlcd4j.bench.DecodeBench (same shapes, prompts, lengths and timing method; random weights):
RMSNorm in fp32, rotate_half RoPE, grouped-query attention without copying K/V (query heads grouped against each
kv head), SwiGLU MLP, KV cache preallocated per layer and written in place, additive mask from a key mask (so left
padded batches work as in the engine), logits of the last position only, log-softmax for the chosen token's
log-probability, greedy argmax, one host copy of the chosen ids per step.

Prefill tokens/s = prompt length / time of generating 1 token after a prefill-length prompt at batch 1 (and the same
at batch 16: 16 x prompt length / time).
Decode tokens/s at batch B = B * (n - 1) / (time(n new) - time(1 new)); medians over `reps` fresh generations, the
batch sizes taking turns (A B B A ...) so that the machine's drift falls on all of them alike.

--prefill-only measures prefill at batch 1 alone, for rounds that alternate with the engine's (decode.sh).

usage: /usr/bin/python3 bench/decode_torch.py [--threads N] [--reps 5] [--new 64] [--prompt 32] [--prefill 128] [--batches 1 16]
                                              [--prefill-only]
"""
import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

V, D, F_, L, H, KV, HD, THETA, EPS = 49152, 576, 1536, 30, 9, 3, 64, 100000.0, 1e-5
G = H // KV


def random_weights(seed=42):
    g = torch.Generator().manual_seed(seed)
    n = lambda *s: torch.randn(*s, generator=g) * 0.02
    w = {"embed": n(V, D), "norm": torch.ones(D), "layers": []}
    for _ in range(L):
        w["layers"].append(dict(ln1=torch.ones(D), q=n(H * HD, D), k=n(KV * HD, D), v=n(KV * HD, D), o=n(D, H * HD),
                                ln2=torch.ones(D), gate=n(F_, D), up=n(F_, D), down=n(D, F_)))
    return w


INV_FREQ = 1.0 / (THETA ** (torch.arange(0, HD, 2, dtype=torch.float32) / HD))


def rms(x, g):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g


def rotate_half(x):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
    return torch.cat((-x2, x1), dim=-1)


def forward(w, ids, pos, mask, cache, past):
    """ids, pos [B,T]; mask [B,1,1,T,S] additive; cache: list of (k, v) buffers [B,KV,cap,HD]; returns hidden [B,T,D]."""
    B, T = ids.shape
    x = F.embedding(ids, w["embed"])
    ang = pos.float().unsqueeze(-1) * INV_FREQ
    emb = torch.cat((ang, ang), -1).unsqueeze(1)  # [B,1,T,HD]
    cos, sin = emb.cos(), emb.sin()
    S = past + T
    scale = 1.0 / math.sqrt(HD)
    for l, lw in enumerate(w["layers"]):
        h = rms(x, lw["ln1"])
        q = F.linear(h, lw["q"]).view(B, T, H, HD).transpose(1, 2)
        k = F.linear(h, lw["k"]).view(B, T, KV, HD).transpose(1, 2)
        v = F.linear(h, lw["v"]).view(B, T, KV, HD).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        kc, vc = cache[l]
        kc[:, :, past:S] = k
        vc[:, :, past:S] = v
        k, v = kc[:, :, :S], vc[:, :, :S]
        q5 = q.reshape(B, KV, G, T, HD)
        s = torch.matmul(q5, k.unsqueeze(2).transpose(-1, -2)) * scale + mask  # [B,KV,G,T,S]
        o = torch.matmul(s.softmax(-1), v.unsqueeze(2)).reshape(B, H, T, HD).transpose(1, 2).reshape(B, T, H * HD)
        x = x + F.linear(o, lw["o"])
        m = rms(x, lw["ln2"])
        x = x + F.linear(F.silu(F.linear(m, lw["gate"])) * F.linear(m, lw["up"]), lw["down"])
    return rms(x, w["norm"])


def attention_mask(key_mask, past, T):
    """[B,S] 0/1 key mask -> additive [B,1,1,T,S]: causal, real keys, and every query sees itself."""
    S = key_mask.shape[1]
    qp = torch.arange(past, past + T).view(T, 1)
    kp = torch.arange(S).view(1, S)
    allowed = ((kp <= qp) & key_mask.bool().view(-1, 1, 1, S)) | (kp == qp)
    return (~allowed).float().mul(-1e9).unsqueeze(1)


@torch.inference_mode()
def generate(w, prompts, n):
    """Greedy decoding of n tokens after left-padded prompts (the engine's Generator loop); returns ids [B][n]."""
    B = len(prompts)
    P = max(len(p) for p in prompts)
    cap = P + n
    key = torch.zeros(B, cap, dtype=torch.long)
    ids = torch.zeros(B, P, dtype=torch.long)
    pos = torch.zeros(B, P, dtype=torch.long)
    next_pos = []
    for i, p in enumerate(prompts):
        pad = P - len(p)
        ids[i, pad:] = torch.tensor(p)
        key[i, pad:P] = 1
        pos[i, pad:] = torch.arange(len(p))
        next_pos.append(len(p))
    cache = [(torch.zeros(B, KV, cap, HD), torch.zeros(B, KV, cap, HD)) for _ in range(L)]
    out = [[] for _ in range(B)]
    past, T = 0, P
    for step in range(n):
        S = past + T
        mask = attention_mask(key[:, :S], past, T)
        hidden = forward(w, ids, pos, mask, cache, past)
        past += T
        logits = F.linear(hidden[:, -1], w["embed"])  # tied head
        logp = logits.log_softmax(-1)
        chosen = logits.argmax(-1)
        lp = logp.gather(-1, chosen.view(B, 1)).view(B)
        chosen_ids, _ = chosen.tolist(), lp.tolist()
        key[:, P + step] = 1
        for i in range(B):
            out[i].append(chosen_ids[i])
        ids = chosen.view(B, 1)
        pos = torch.tensor(next_pos).view(B, 1)
        next_pos = [p + 1 for p in next_pos]
        T = 1
    return out


def median(reps, f):
    return median_of([f() for _ in range(reps)])


def median_of(times):
    t = sorted(times)
    n = len(t)
    return t[n // 2] if n % 2 else (t[n // 2 - 1] + t[n // 2]) / 2


def timed(w, prompts, n):
    t0 = time.perf_counter()
    out = generate(w, prompts, n)
    assert len(out[0]) == n
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--prefill", type=int, default=128)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--prefill-only", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    w = random_weights()
    g = torch.Generator().manual_seed(7)
    prompts = lambda b, n: torch.randint(1, V, (b, n), generator=g).tolist()
    t0 = time.perf_counter()
    if a.prefill_only:  # warm-up as DecodeBench's prefill variant: at least 5 prefills and 10 s
        n = 0
        while n < 5 or time.perf_counter() - t0 < 10:
            timed(w, prompts(1, a.prefill), 1)
            n += 1
        print(f"warm-up {time.perf_counter() - t0:.1f} s")
        pre = median(a.reps, lambda: timed(w, prompts(1, a.prefill), 1))
        print(f"RESULT prefill_tps {a.prefill / pre:.2f}   (batch 1, prompt {a.prefill}: {pre * 1e3:.1f} ms)")
        return
    timed(w, prompts(1, a.prompt), a.new)  # warm-up: allocator, OpenBLAS buffers
    for b in a.batches:
        if b > 1:
            timed(w, prompts(b, a.prompt), 8)
    timed(w, prompts(1, a.prefill), 1)
    timed(w, prompts(16, a.prefill), 1)
    print(f"warm-up {time.perf_counter() - t0:.1f} s")
    pre = median(a.reps, lambda: timed(w, prompts(1, a.prefill), 1))
    print(f"RESULT prefill_tps {a.prefill / pre:.2f}   (batch 1, prompt {a.prefill}: {pre * 1e3:.1f} ms)")
    pre16 = median(a.reps, lambda: timed(w, prompts(16, a.prefill), 1))
    print(f"RESULT prefill_b16_tps {16 * a.prefill / pre16:.2f}   (batch 16, prompt {a.prefill}: {pre16 * 1e3:.1f} ms)")
    # batch sizes take turns in A B B A order over the repetitions, as in DecodeBench, so drift falls on all alike
    ps = [prompts(b, a.prompt) for b in a.batches]
    one, full = [[] for _ in a.batches], [[] for _ in a.batches]
    for r in range(a.reps):
        for j in range(len(a.batches)):
            i = j if r % 2 == 0 else len(a.batches) - 1 - j
            one[i].append(timed(w, ps[i], 1))
            full[i].append(timed(w, ps[i], a.new))
    for i, b in enumerate(a.batches):
        o, f = median_of(one[i]), median_of(full[i])
        print(f"RESULT decode_b{b}_tps {b * (a.new - 1) / (f - o):.2f}   (prompt {a.prompt}, {a.new} new: {f * 1e3:.1f} ms; "
              f"1 new: {o * 1e3:.1f} ms; {(f - o) / (a.new - 1) * 1e3:.2f} ms/step)")

if __name__ == "__main__":
    main()
