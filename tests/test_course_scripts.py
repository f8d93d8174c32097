"""End-to-end scripts in the style of a popular deep-learning course, run twice.

Each script is ONE source text. It runs once after `import torch` / `import torch.nn.functional
as F` (torch in float64: `torch.set_default_dtype(torch.float64)`) and once after `import
minigrad as torch` / `import minigrad.nn.functional as F`; nothing else changes. The scripts
write what they compute into a dict `out`, and the two dicts must agree: losses, gradients,
parameters, histograms, probabilities, to float64 tolerances.

Initial weights are numpy arrays handed in by the test, so both runs start from the same point.
Minibatch indices and samples are drawn by each engine's own generator (`torch.randint`,
`torch.multinomial` with `generator=g`); their numbers differ between engines by design, so
the torch run replays the draws the minigrad run made (`replay`), and both see the same data.

(a) a character-level MLP on generated names: an embedding table indexed by an integer
    tensor, batch norm written by hand with `mean(0, keepdim=True)` / `var(0, keepdim=True)`,
    a backward pass written by hand through cross-entropy, the output layer, tanh, batch norm,
    the hidden layer and the embedding, checked tensor by tensor against autograd through
    `retain_grad()`, `torch.allclose` and `(dt - t.grad).abs().max().item()`; activation
    histograms; plain SGD; sampling with `torch.multinomial`.
(b) the same model from `nn` modules (Embedding, Flatten, Linear, BatchNorm1d, Tanh,
    Sequential), trained with an optimizer, an lr_scheduler and `nn.utils.clip_grad_norm_`.
"""

from __future__ import annotations

import numpy as np
import pytest

torch_lib = pytest.importorskip("torch")
torch_lib.set_num_threads(1)     # tiny tensors: threads only contend for the 2 cores

PRELUDE = {
    "torch": ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
              "torch.set_default_dtype(torch.float64)\n"),
    "minigrad": ("import minigrad as torch\nimport minigrad.nn as nn\n"
                 "import minigrad.nn.functional as F\n"),
}


def make_words(n=320, seed=0):
    """Pronounceable made-up names: syllables of an onset and a vowel, sometimes a coda."""
    rng = np.random.default_rng(seed)
    onsets = ["b", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
              "ch", "sh", "th", "qu", ""]
    vowels = ["a", "e", "i", "o", "u", "y", "ai", "ea", "ou"]
    codas = ["", "", "", "n", "r", "l", "s", "x"]
    words = []
    for _ in range(n):
        syllables = [rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.integers(1, 4))]
        words.append("".join(syllables) + rng.choice(codas))
    return words


def run_script(engine, source, **inputs):
    """Execute `source` after `engine`'s import lines; return the script's `out` dict."""
    saved = torch_lib.get_default_dtype()
    namespace = {"__name__": f"course_script_{engine}", "out": {}, **inputs}
    try:
        exec(compile(PRELUDE[engine] + source, f"<{engine} script>", "exec"), namespace)
    finally:
        torch_lib.set_default_dtype(saved)
    return namespace["out"]


def assert_agree(got, want, where="out", rtol=1e-10, atol=1e-12):
    """Two results of a script (minigrad's `got`, torch's `want`) are the same."""
    if isinstance(want, dict):
        assert set(got) == set(want), f"{where}: keys {sorted(got)} vs {sorted(want)}"
        for k in want:
            assert_agree(got[k], want[k], f"{where}[{k!r}]", rtol, atol)
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: {type(got).__name__}"
        assert got.shape == want.shape and got.dtype == want.dtype, (
            f"{where}: {got.dtype}{got.shape} vs {want.dtype}{want.shape}")
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(want, list | tuple):
        assert type(got) is type(want) and len(got) == len(want), (
            f"{where}: {type(got).__name__}[{len(got)}] vs {type(want).__name__}[{len(want)}]")
        for i, (g, w) in enumerate(zip(got, want)):
            assert_agree(g, w, f"{where}[{i}]", rtol, atol)
    elif isinstance(want, float):
        assert isinstance(got, float), f"{where}: {type(got).__name__} {got!r}"
        assert got == pytest.approx(want, rel=rtol, abs=atol), where
    else:
        assert type(got) is type(want) and got == want, f"{where}: {got!r} vs {want!r}"


# --------------------------------------------------------------------------- (a) by hand

MLP_BY_HAND = r'''
# ---- data: every name becomes (context of block_size characters -> next character) examples
alphabet = sorted(set("".join(words)))
stoi = {ch: i + 1 for i, ch in enumerate(alphabet)}
stoi["."] = 0                                   # start and end of a name
itos = {i: ch for ch, i in stoi.items()}
V = len(stoi)
block = 3

def examples(names):
    xs, ys = [], []
    for name in names:
        window = [0] * block
        for ch in name + ".":
            xs.append(window)
            ys.append(stoi[ch])
            window = window[1:] + [stoi[ch]]
    return torch.tensor(xs), torch.tensor(ys)

cut = int(0.9 * len(words))
Xtr, Ytr = examples(words[:cut])
Xva, Yva = examples(words[cut:])
out["data"] = [Xtr.dtype == torch.int64, list(Xtr.shape), list(Ytr.shape), Ytr.max().item(), V]

# ---- parameters: numpy arrays from the test, scaled as the course scales them
E, H = init["C"].shape[1], init["W1"].shape[1]
C = torch.tensor(init["C"])
W1 = torch.tensor(init["W1"]) * (5 / 3) / (E * block) ** 0.5   # tanh gain / sqrt(fan_in)
b1 = torch.tensor(init["b1"]) * 0.1             # useless before batch norm: grads still flow
W2 = torch.tensor(init["W2"]) * 0.1             # small logits at initialisation
b2 = torch.tensor(init["b2"]) * 0.0
gamma = torch.ones((1, H)) + 0.1 * torch.tensor(init["gamma"])
beta = 0.1 * torch.tensor(init["beta"])
params = [C, W1, b1, W2, b2, gamma, beta]
for p in params:
    p.requires_grad = True
out["n_params"] = sum(p.nelement() for p in params)
running_mu = torch.zeros((1, H))
running_var = torch.ones((1, H))

g = torch.Generator().manual_seed(2147483647)
drawn = []

def minibatch(step, size=32):
    ix = torch.randint(0, Xtr.shape[0], (size,), generator=g)
    assert ix.dtype == torch.int64 and ix.min().item() >= 0 and ix.max().item() < Xtr.shape[0]
    if replay is not None:                       # the other engine's draws
        ix = torch.tensor(replay["batches"][step])
    drawn.append(ix.tolist())
    return Xtr[ix], Ytr[ix]

def forward(Xb, Yb, keep=False):
    """The forward pass in small steps, each a tensor the hand-written backward produces."""
    B = Xb.shape[0]
    tok = C[Xb]                                  # (B, block, E): rows of the table
    x = tok.view(B, -1)                          # concatenate the context's embeddings
    z = x @ W1 + b1
    mu = z.mean(0, keepdim=True)
    zc = z - mu
    var = z.var(0, keepdim=True)                 # unbiased (Bessel), as in training code
    inv_std = (var + 1e-5) ** -0.5
    zn = zc * inv_std
    a = gamma * zn + beta
    h = torch.tanh(a)
    logits = h @ W2 + b2
    shift = logits - logits.max(1, keepdim=True).values   # the max only guards exp()
    lse = shift.exp().sum(1, keepdim=True).log()
    logp = shift - lse
    loss = -logp[torch.arange(B), Yb].mean()
    t = dict(tok=tok, x=x, z=z, mu=mu, zc=zc, var=var, inv_std=inv_std, zn=zn, a=a, h=h,
             logits=logits, shift=shift, lse=lse, logp=logp)
    if keep:
        for v in t.values():
            v.retain_grad()
    return loss, t

# ---- one batch: the backward pass by hand against autograd
Xb, Yb = minibatch(0)
B = Xb.shape[0]
loss, t = forward(Xb, Yb, keep=True)
for p in params:
    p.grad = None
loss.backward()

checks = {}
def compare(name, dt, tensor):
    exact = torch.all(dt == tensor.grad).item()
    close = torch.allclose(dt, tensor.grad)
    worst = (dt - tensor.grad).abs().max().item()
    checks[name] = (exact, close, worst)
    hand[name] = dt.detach().numpy().copy()

hand = {}
dlogp = torch.zeros_like(t["logp"])
dlogp[torch.arange(B), Yb] = -1.0 / B
compare("logp", dlogp, t["logp"])
# logp = shift - log(sum(exp(shift))): the second term spreads softmax-weighted mass
dlse = -dlogp.sum(1, keepdim=True)
compare("lse", dlse, t["lse"])
dshift = dlogp + dlse * t["logp"].exp()
compare("shift", dshift, t["shift"])
# every row of dshift sums to zero, so the subtracted max receives (almost) nothing
dlogits = dshift.clone()
compare("logits", dlogits, t["logits"])
# the same in one line, from the softmax
dlogits_fused = (F.softmax(t["logits"], 1) - F.one_hot(Yb, V)) / B
out["dlogits_fused_err"] = (dlogits_fused - t["logits"].grad).abs().max().item()
out["fused_loss_err"] = abs(F.cross_entropy(t["logits"], Yb).item() - loss.item())

dh = dlogits @ W2.T
compare("W2", t["h"].T @ dlogits, W2)
compare("b2", dlogits.sum(0), b2)
compare("h", dh, t["h"])
da = (1.0 - t["h"] ** 2) * dh                    # tanh' = 1 - tanh^2
compare("a", da, t["a"])
compare("gamma", (t["zn"] * da).sum(0, keepdim=True), gamma)
compare("beta", da.sum(0, keepdim=True), beta)
dzn = gamma * da
compare("zn", dzn, t["zn"])
dinv_std = (t["zc"] * dzn).sum(0, keepdim=True)
compare("inv_std", dinv_std, t["inv_std"])
dvar = -0.5 * (t["var"] + 1e-5) ** -1.5 * dinv_std
compare("var", dvar, t["var"])
dzc = t["inv_std"] * dzn
compare("zc", dzc, t["zc"])
dmu = -dzc.sum(0, keepdim=True)
compare("mu", dmu, t["mu"])
# z reaches the loss three ways: through zc, through mu, and through var (whose derivative
# through mu is zero, since the deviations sum to zero)
dz = dzc + dmu / B + 2.0 / (B - 1) * t["zc"] * dvar
compare("z", dz, t["z"])
# batch norm's backward in one expression
dz_fused = gamma * t["inv_std"] / B * (
    B * da - da.sum(0, keepdim=True)
    - B / (B - 1) * t["zn"] * (da * t["zn"]).sum(0, keepdim=True))
out["dz_fused_err"] = (dz_fused - t["z"].grad).abs().max().item()
compare("W1", t["x"].T @ dz, W1)
compare("b1", dz.sum(0), b1)
dx = dz @ W1.T
compare("x", dx, t["x"])
dtok = dx.view(t["tok"].shape)
compare("tok", dtok, t["tok"])
dC = torch.zeros_like(C)
for i in range(Xb.shape[0]):
    for j in range(Xb.shape[1]):
        dC[Xb[i, j]] += dtok[i, j]               # rows used twice collect twice
compare("C", dC, C)
dC_onehot = F.one_hot(Xb.view(-1), V).to(dtok.dtype).T @ dtok.view(-1, E)
out["dC_onehot_err"] = (dC_onehot - C.grad).abs().max().item()
out["checks"] = checks
out["hand"] = hand
out["autograd"] = {name: p.grad.numpy().copy() for name, p in zip(
    ["C", "W1", "b1", "W2", "b2", "gamma", "beta"], params)}

# ---- activation statistics at initialisation
h0 = t["h"].detach()
out["hist_tanh"] = torch.histc(h0, bins=20, min=-1, max=1).tolist()
counts, edges = torch.histogram(h0.view(-1), bins=15)
out["histogram"] = (counts.numpy().copy(), edges.numpy().copy())
out["saturated"] = (h0.abs() > 0.97).float().mean().item()
out["dead_units"] = (h0.abs() > 0.99).all(0).sum().item()
out["a_mean_std"] = (t["a"].mean().item(), t["a"].std().item())

# ---- training: autograd's gradients, plain SGD, running batch statistics
losses, ratios = [], []
for step in range(steps):
    Xb, Yb = minibatch(step + 1)
    loss, t = forward(Xb, Yb)
    for p in params:
        p.grad = None
    loss.backward()
    lr = 0.1 if step < steps // 2 else 0.01
    for p in params:
        p.data += -lr * p.grad
    with torch.no_grad():
        running_mu = 0.99 * running_mu + 0.01 * t["mu"]
        running_var = 0.99 * running_var + 0.01 * t["var"]
        ratios.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in params[1:2]])
    losses.append(loss.log10().item())
out["losses"] = losses
out["ratios"] = ratios
out["params"] = [p.detach().numpy().copy() for p in params]
out["running"] = (running_mu.numpy().copy(), running_var.numpy().copy())

@torch.no_grad()
def evaluate(X, Y):
    x = C[X].view(X.shape[0], -1)
    a = gamma * (x @ W1 + b1 - running_mu) / (running_var + 1e-5).sqrt() + beta
    logits = torch.tanh(a) @ W2 + b2
    return F.cross_entropy(logits, Y).item()

out["val_loss"] = evaluate(Xva, Yva)
out["train_loss"] = evaluate(Xtr, Ytr)

# ---- sampling, one character at a time
gs = torch.Generator().manual_seed(2147483647 + 10)
names, sampled, probs_seen = [], [], []
k = 0
for _ in range(8):
    window, chars = [0] * block, []
    while len(chars) < 20:
        with torch.no_grad():
            x = C[torch.tensor([window])].view(1, -1)
            a = gamma * (x @ W1 + b1 - running_mu) / (running_var + 1e-5).sqrt() + beta
            probs = F.softmax(torch.tanh(a) @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, replacement=True, generator=gs).item()
        assert isinstance(ix, int) and 0 <= ix < V and probs[0, ix].item() > 0
        if replay is not None:
            ix = replay["samples"][k]
        k += 1
        sampled.append(ix)
        probs_seen.append(probs[0].numpy().copy())
        window = window[1:] + [ix]
        if ix == 0:
            break
        chars.append(itos[ix])
    names.append("".join(chars))
out["names"] = names
out["probs"] = probs_seen
out["draws"] = {"batches": drawn, "samples": sampled}
'''


def mlp_init(words, n_embd=6, n_hidden=48, seed=1):
    vocab = len(set("".join(words))) + 1
    rng = np.random.default_rng(seed)
    return {"C": rng.standard_normal((vocab, n_embd)),
            "W1": rng.standard_normal((3 * n_embd, n_hidden)),
            "b1": rng.standard_normal(n_hidden), "W2": rng.standard_normal((n_hidden, vocab)),
            "b2": rng.standard_normal(vocab), "gamma": rng.standard_normal((1, n_hidden)),
            "beta": rng.standard_normal((1, n_hidden))}


@pytest.fixture(scope="module")
def mlp_runs():
    """The by-hand script on minigrad (its own draws) and on torch (replaying them)."""
    words = make_words()
    init = mlp_init(words)
    mg = run_script("minigrad", MLP_BY_HAND, words=words, init=init, steps=150, replay=None)
    th = run_script("torch", MLP_BY_HAND, words=words, init=init, steps=150,
                    replay=mg["draws"])
    return mg, th


HAND_CHECKED = ["logp", "lse", "shift", "logits", "W2", "b2", "h", "a", "gamma", "beta", "zn",
                "inv_std", "var", "zc", "mu", "z", "W1", "b1", "x", "tok", "C"]


@pytest.mark.parametrize("engine", ["minigrad", "torch"])
def test_hand_written_backward_matches_autograd(mlp_runs, engine):
    """Every hand-derived gradient is allclose to the one autograd left in .grad (retained on
    the intermediates), within a few ulps."""
    out = mlp_runs[0] if engine == "minigrad" else mlp_runs[1]
    checks = out["checks"]
    assert list(checks) == HAND_CHECKED
    for name, (exact, close, worst) in checks.items():
        assert isinstance(exact, bool) and isinstance(close, bool), name
        assert close, f"{name}: max |dt - t.grad| = {worst}"
        assert worst < 1e-12, f"{name}: max |dt - t.grad| = {worst}"
    for key in ("dlogits_fused_err", "dz_fused_err", "dC_onehot_err", "fused_loss_err"):
        assert out[key] < 1e-12, f"{key} = {out[key]}"


def test_hand_written_backward_agrees_between_engines(mlp_runs):
    """The same hand-written gradients and autograd's, whichever engine ran the script
    (exactness flags may differ: they depend on summation order)."""
    mg, th = mlp_runs
    assert_agree(mg["hand"], th["hand"], "hand", rtol=1e-10, atol=1e-14)
    assert_agree(mg["autograd"], th["autograd"], "autograd", rtol=1e-10, atol=1e-14)
    assert [c[1] for c in mg["checks"].values()] == [c[1] for c in th["checks"].values()]


def test_data_and_initial_statistics_agree(mlp_runs):
    mg, th = mlp_runs
    for key in ("data", "n_params", "hist_tanh", "histogram", "saturated", "dead_units",
                "a_mean_std"):
        assert_agree(mg[key], th[key], key)
    assert mg["data"][0] is True                    # integer tensors from Python ints: int64


def test_training_losses_and_parameters_agree(mlp_runs):
    """150 SGD steps on the same batches: the same loss curve, update ratios, parameters,
    running statistics and evaluation losses, and the loss goes down."""
    mg, th = mlp_runs
    for key, rtol in (("losses", 1e-9), ("ratios", 1e-8), ("params", 1e-8), ("running", 1e-8),
                      ("val_loss", 1e-8), ("train_loss", 1e-8)):
        assert_agree(mg[key], th[key], key, rtol=rtol, atol=1e-11)
    assert np.mean(mg["losses"][-20:]) < mg["losses"][0] - 0.05


def test_sampling_agrees(mlp_runs):
    """Sampling with torch.multinomial: the torch run replays minigrad's draws, so the
    probabilities at every step and the names produced are the same."""
    mg, th = mlp_runs
    assert_agree(mg["probs"], th["probs"], "probs", rtol=1e-8, atol=1e-12)
    assert mg["names"] == th["names"]
    alphabet = set("".join(make_words()))
    assert all(set(n) <= alphabet for n in mg["names"])


def test_minigrad_draws_are_reproducible():
    """The same script on minigrad draws the same batches and samples from the same seeds."""
    words = make_words(60)
    init = mlp_init(words)
    a = run_script("minigrad", MLP_BY_HAND, words=words, init=init, steps=3, replay=None)
    b = run_script("minigrad", MLP_BY_HAND, words=words, init=init, steps=3, replay=None)
    assert a["draws"] == b["draws"]
    assert_agree(a["losses"], b["losses"], rtol=0, atol=0)


# --------------------------------------------------------------------------- (b) nn modules

MLP_MODULES = r'''
alphabet = sorted(set("".join(words)))
stoi = {ch: i + 1 for i, ch in enumerate(alphabet)}
stoi["."] = 0
V, block = len(stoi), 3

def examples(names):
    xs, ys = [], []
    for name in names:
        window = [0] * block
        for ch in name + ".":
            xs.append(window)
            ys.append(stoi[ch])
            window = window[1:] + [stoi[ch]]
    return torch.tensor(xs), torch.tensor(ys)

cut = int(0.9 * len(words))
Xtr, Ytr = examples(words[:cut])
Xva, Yva = examples(words[cut:])

E, H = 8, 40
model = nn.Sequential(
    nn.Embedding(V, E), nn.Flatten(),
    nn.Linear(E * block, H, bias=False), nn.BatchNorm1d(H), nn.Tanh(),
    nn.Linear(H, H, bias=False), nn.BatchNorm1d(H), nn.Tanh(),
    nn.Linear(H, V),
)
names = [name for name, _ in model.named_parameters()]
out["names"] = names
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.tensor(init[name]))
    model[-1].weight *= 0.1                       # a less confident output layer
out["n_params"] = sum(p.numel() for p in model.parameters())

params = list(model.parameters())
decay = [p for p in params if p.dim() == 2]
no_decay = [p for p in params if p.dim() < 2]
groups = [{"params": decay, "weight_decay": 1e-3}, {"params": no_decay, "weight_decay": 0.0}]
optimizers = {
    "sgd": lambda: torch.optim.SGD(groups, lr=0.2, momentum=0.9, nesterov=True),
    "adamw": lambda: torch.optim.AdamW(groups, lr=3e-3, betas=(0.9, 0.99)),
    "adam": lambda: torch.optim.Adam(groups, lr=1e-3),
    "rmsprop": lambda: torch.optim.RMSprop(groups, lr=1e-3, alpha=0.9),
    "adagrad": lambda: torch.optim.Adagrad(groups, lr=0.05),
}
optimizer = optimizers[opt_name]()
schedulers = {
    "step": lambda: torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5),
    "exponential": lambda: torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.98),
    "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps),
    "lambda": lambda: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 / (1 + 0.05 * s)),
    "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01,
                                                            total_steps=steps),
}
scheduler = schedulers[sched_name]()

g = torch.Generator().manual_seed(42)
drawn, losses, norms, lrs = [], [], [], []
model.train()
for step in range(steps):
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    if replay is not None:
        ix = torch.tensor(replay[step])
    drawn.append(ix.tolist())
    logits = model(Xtr[ix])
    loss = F.cross_entropy(logits, Ytr[ix])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    norms.append(norm.item())
    lrs.append(scheduler.get_last_lr()[0])

out["losses"], out["norms"], out["lrs"], out["draws"] = losses, norms, lrs, drawn
out["clipped_norm_after"] = nn.utils.clip_grad_norm_(model.parameters(), 0.5).item()
out["state"] = {k: v.numpy().copy() for k, v in model.state_dict().items()}
out["num_batches_tracked"] = model[3].num_batches_tracked.item()
model.eval()
with torch.no_grad():
    out["val_loss"] = F.cross_entropy(model(Xva), Yva).item()
    out["val_acc"] = (model(Xva).argmax(1) == Yva).float().mean().item()
'''


def module_init(words, seed=2):
    vocab = len(set("".join(words))) + 1
    rng = np.random.default_rng(seed)
    E, H = 8, 40
    shapes = {"0.weight": (vocab, E), "2.weight": (H, 3 * E), "3.weight": (H,), "3.bias": (H,),
              "5.weight": (H, H), "6.weight": (H,), "6.bias": (H,), "8.weight": (vocab, H),
              "8.bias": (vocab,)}
    init = {k: rng.standard_normal(s) / np.sqrt(s[-1]) for k, s in shapes.items()}
    init["3.weight"] = 1.0 + 0.1 * init["3.weight"]
    init["6.weight"] = 1.0 + 0.1 * init["6.weight"]
    return init


SCHEDULES = [("sgd", "step"), ("adamw", "cosine"), ("adam", "onecycle"),
             ("rmsprop", "exponential"), ("adagrad", "lambda")]


@pytest.mark.parametrize("opt_name, sched_name", SCHEDULES, ids=[f"{o}-{s}" for o, s in SCHEDULES])
def test_training_loop_with_nn_modules_agrees(opt_name, sched_name):
    """nn.Sequential of Embedding, Flatten, Linear, BatchNorm1d, Tanh, trained with an
    optimizer (weight-decay groups), a scheduler and clip_grad_norm_: the same losses, total
    gradient norms (before clipping), learning rates, final state_dict and evaluation."""
    words = make_words(200, seed=3)
    init = module_init(words)
    kw = dict(words=words, init=init, steps=60, opt_name=opt_name, sched_name=sched_name)
    mg = run_script("minigrad", MLP_MODULES, replay=None, **kw)
    th = run_script("torch", MLP_MODULES, replay=mg["draws"], **kw)
    assert mg["names"] == list(init)
    for key in ("n_params", "lrs", "num_batches_tracked"):
        assert_agree(mg[key], th[key], key)
    for key in ("losses", "norms", "clipped_norm_after", "state", "val_loss", "val_acc"):
        assert_agree(mg[key], th[key], key, rtol=1e-8, atol=1e-11)
    # clipping left the last gradients with norm min(norm, 0.5) (up to clip's 1e-6 guard)
    assert mg["clipped_norm_after"] == pytest.approx(min(mg["norms"][-1], 0.5), rel=1e-5)
    assert np.mean(mg["losses"][-10:]) < mg["losses"][0]
