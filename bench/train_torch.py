"""Training throughput of the same LLaMA step in Python PyTorch, for comparison with rlcd4j.bench.TrainBench.

SmolLM2-135M shapes (30 layers, hidden 576, 9 heads, 3 kv heads, MLP 1536, vocab 49152, tied), random weights,
random tokens; one step = forward, loss (log-softmax + gather, mean), backward, global-norm clip 1.0, AdamW.
Full fine-tuning or LoRA r 8 (alpha 16, no dropout) on q and v. The decoder mirrors rlcd4j's LlamaModel op for op
(fp32 RMSNorm, HF rotate_half RoPE, grouped-query attention without copying K/V, additive mask, SwiGLU).

usage: python3 train_torch.py MODE B T STEPS WARMUP THREADS [--foreach]
prints: torch MODE B=.. T=.. threads=.. step_ms=.. fwd_ms=.. bwd_ms=.. opt_ms=.. tokens_per_s=..
"""
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

V, D, F_, L, H, KV, HD = 49152, 576, 1536, 30, 9, 3, 64
EPS, THETA = 1e-5, 100000.0


def rms(x, g):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., h:], x[..., :h]), -1) * sin


class Model(torch.nn.Module):
    def __init__(self, lora):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        n = lambda *s: torch.nn.Parameter(torch.randn(*s, generator=g) * 0.02)
        self.embed = n(V, D)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.ln1, m.ln2 = torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.ones(D))
            m.q, m.k, m.v, m.o = n(H * HD, D), n(KV * HD, D), n(KV * HD, D), n(D, H * HD)
            m.gate, m.up, m.down = n(F_, D), n(F_, D), n(D, F_)
            if lora:
                m.qa, m.qb = torch.nn.Parameter(torch.rand(8, D, generator=g) / math.sqrt(D)), torch.nn.Parameter(torch.zeros(H * HD, 8))
                m.va, m.vb = torch.nn.Parameter(torch.rand(8, D, generator=g) / math.sqrt(D)), torch.nn.Parameter(torch.zeros(KV * HD, 8))
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(D))
        self.lora = lora
        if lora:
            for name, p in self.named_parameters():
                p.requires_grad = name.endswith(("qa", "qb", "va", "vb"))
        inv = 1.0 / (THETA ** (torch.arange(0, HD, 2, dtype=torch.float32) / HD))
        self.register_buffer("inv", inv)

    def lin(self, x, w, a=None, b=None):
        y = F.linear(x, w)
        if a is not None:
            y = y + F.linear(F.linear(x, a), b) * 2.0  # alpha 16 / r 8
        return y

    def forward(self, ids, pos, mask):
        B, T = ids.shape
        x = F.embedding(ids, self.embed)
        ang = pos.float().unsqueeze(-1) * self.inv
        emb = torch.cat((ang, ang), -1).unsqueeze(1)
        cos, sin = emb.cos(), emb.sin()
        mask5 = mask.unsqueeze(1)
        for m in self.layers:
            h = rms(x, m.ln1)
            q = self.lin(h, m.q, *( (m.qa, m.qb) if self.lora else ())).view(B, T, H, HD).transpose(1, 2)
            k = self.lin(h, m.k).view(B, T, KV, HD).transpose(1, 2)
            v = self.lin(h, m.v, *((m.va, m.vb) if self.lora else ())).view(B, T, KV, HD).transpose(1, 2)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            q5 = q.reshape(B, KV, H // KV, T, HD)
            s = q5 @ k.unsqueeze(2).transpose(-1, -2) * (1.0 / math.sqrt(HD)) + mask5
            o = (s.softmax(-1) @ v.unsqueeze(2)).reshape(B, H, T, HD).transpose(1, 2).reshape(B, T, H * HD)
            x = x + self.lin(o, m.o)
            mm = rms(x, m.ln2)
            gt = self.lin(mm, m.gate)
            x = x + self.lin(gt * torch.sigmoid(gt) * self.lin(mm, m.up), m.down)
        return rms(x, self.norm)


def main():
    mode, B, T, steps, warmup, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model(mode == "lora")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, foreach="--foreach" in sys.argv)
    g = torch.Generator().manual_seed(0)
    rows = torch.randint(0, V, (B, T + 1), generator=g)
    ids, tgt = rows[:, :T], rows[:, 1:].unsqueeze(-1)
    pos = torch.arange(T).expand(B, T)
    causal = torch.full((T, T), -1e9).triu(1)
    mask = causal.expand(B, 1, T, T)
    st, fw, bw, op = [], [], [], []
    for s in range(-warmup, steps):
        t0 = time.perf_counter()
        logits = F.linear(model(ids, pos, mask), model.embed)
        loss = -logits.log_softmax(-1).gather(-1, tgt).mean()
        loss.item()
        t1 = time.perf_counter()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        t2 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=False)
        t3 = time.perf_counter()
        if s >= 0:
            st.append((t3 - t0) * 1e3); fw.append((t1 - t0) * 1e3); bw.append((t2 - t1) * 1e3); op.append((t3 - t2) * 1e3)
    ms = statistics.median(st)
    print(f"torch {mode} B={B} T={T} threads={threads} step_ms={ms:.1f} fwd_ms={statistics.median(fw):.1f} "
          f"bwd_ms={statistics.median(bw):.1f} opt_ms={statistics.median(op):.1f} tokens_per_s={B * T / (ms / 1e3):.1f}")


if __name__ == "__main__":
    main()
