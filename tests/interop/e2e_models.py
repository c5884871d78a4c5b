"""The JAX side of the end-to-end pairs: Equinox models written the way people port torch
models (field names after the torch modules, per-layer lists or filter_vmap-stacked blocks),
and a Flax linen model. Each __call__ takes one unbatched example (Equinox style)."""

import math

import equinox as eqx
import flax.linen as fnn
import jax
import jax.numpy as jnp


def keys(key, n):
    return iter(jax.random.split(key, n))


def adaptive_avg_pool(x, size):
    """torch.nn.AdaptiveAvgPool2d for a [C, H, W] array."""
    _, h, w = x.shape
    rows = []
    for i in range(size):
        r0, r1 = (i * h) // size, math.ceil((i + 1) * h / size)
        cols = []
        for j in range(size):
            c0, c1 = (j * w) // size, math.ceil((j + 1) * w / size)
            cols.append(x[:, r0:r1, c0:c1].mean(axis=(1, 2)))
        rows.append(jnp.stack(cols, axis=-1))
    return jnp.stack(rows, axis=-2)


# --- torchvision VGG (make_layers([8, "M", 16, 16, "M"]), narrow classifier) -----------------

class VGG(eqx.Module):
    features: list
    classifier: list

    def __init__(self, key, cfg=(8, "M", 16, 16, "M"), hidden=32, classes=10):
        k = keys(key, 16)
        layers, channels = [], 3
        for v in cfg:
            if v == "M":
                layers.append(eqx.nn.MaxPool2d(2, 2))
            else:
                layers += [eqx.nn.Conv2d(channels, v, 3, padding=1, key=next(k)), eqx.nn.Lambda(jax.nn.relu)]
                channels = v
        self.features = layers
        self.classifier = [
            eqx.nn.Linear(channels * 7 * 7, hidden, key=next(k)), eqx.nn.Lambda(jax.nn.relu), eqx.nn.Dropout(0.5),
            eqx.nn.Linear(hidden, hidden, key=next(k)), eqx.nn.Lambda(jax.nn.relu), eqx.nn.Dropout(0.5),
            eqx.nn.Linear(hidden, classes, key=next(k))]

    def __call__(self, x):
        for layer in self.features:
            x = layer(x)
        x = adaptive_avg_pool(x, 7).reshape(-1)
        for layer in self.classifier:
            x = layer(x, inference=True) if isinstance(layer, eqx.nn.Dropout) else layer(x)
        return x


# --- torchvision ResNet(BasicBlock, [1, 1, 1, 1]), BatchNorm in a (model, state) pair ----------

def batch_norm(channels):
    return eqx.nn.BatchNorm(channels, "batch", mode="ema", inference=True)


class BasicBlock(eqx.Module):
    conv1: eqx.nn.Conv2d
    bn1: eqx.nn.BatchNorm
    conv2: eqx.nn.Conv2d
    bn2: eqx.nn.BatchNorm
    downsample: list | None

    def __init__(self, cin, cout, stride, key):
        k = keys(key, 3)
        self.conv1 = eqx.nn.Conv2d(cin, cout, 3, stride, padding=1, use_bias=False, key=next(k))
        self.bn1 = batch_norm(cout)
        self.conv2 = eqx.nn.Conv2d(cout, cout, 3, 1, padding=1, use_bias=False, key=next(k))
        self.bn2 = batch_norm(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = [eqx.nn.Conv2d(cin, cout, 1, stride, use_bias=False, key=next(k)), batch_norm(cout)]

    def __call__(self, x, state):
        identity = x
        out, state = self.bn1(self.conv1(x), state)
        out = jax.nn.relu(out)
        out, state = self.bn2(self.conv2(out), state)
        if self.downsample is not None:
            identity, state = self.downsample[1](self.downsample[0](x), state)
        return jax.nn.relu(out + identity), state


class ResNet(eqx.Module):
    conv1: eqx.nn.Conv2d
    bn1: eqx.nn.BatchNorm
    maxpool: eqx.nn.MaxPool2d
    layer1: list
    layer2: list
    layer3: list
    layer4: list
    fc: eqx.nn.Linear

    def __init__(self, key, classes=10):
        k = keys(key, 8)
        self.conv1 = eqx.nn.Conv2d(3, 64, 7, 2, padding=3, use_bias=False, key=next(k))
        self.bn1 = batch_norm(64)
        self.maxpool = eqx.nn.MaxPool2d(3, 2, padding=1)
        self.layer1 = [BasicBlock(64, 64, 1, next(k))]
        self.layer2 = [BasicBlock(64, 128, 2, next(k))]
        self.layer3 = [BasicBlock(128, 256, 2, next(k))]
        self.layer4 = [BasicBlock(256, 512, 2, next(k))]
        self.fc = eqx.nn.Linear(512, classes, key=next(k))

    def __call__(self, x, state):
        x, state = self.bn1(self.conv1(x), state)
        x = self.maxpool(jax.nn.relu(x))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in stage:
                x, state = block(x, state)
        return self.fc(x.mean(axis=(1, 2))), state


# --- GPT-2 (transformers GPT2Model), per-layer blocks --------------------------------------------

def causal_attention(q, k, v, heads, causal=True, mask=None):
    """q, k, v: [T, D] -> [T, D], softmax(q k^T / sqrt(d)) v per head."""
    t, d = q.shape
    q, k, v = (a.reshape(a.shape[0], heads, -1).transpose(1, 0, 2) for a in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
    if causal:
        scores = jnp.where(jnp.tril(jnp.ones((t, t), bool)), scores, -jnp.inf)
    weights = jax.nn.softmax(scores, axis=-1)
    return (weights @ v).transpose(1, 0, 2).reshape(t, d)


class GPT2Attention(eqx.Module):
    c_attn: eqx.nn.Linear
    c_proj: eqx.nn.Linear
    heads: int = eqx.field(static=True)

    def __init__(self, dim, heads, key):
        k1, k2 = jax.random.split(key)
        self.c_attn = eqx.nn.Linear(dim, 3 * dim, key=k1)
        self.c_proj = eqx.nn.Linear(dim, dim, key=k2)
        self.heads = heads

    def __call__(self, x):
        q, k, v = jnp.split(jax.vmap(self.c_attn)(x), 3, axis=-1)
        return jax.vmap(self.c_proj)(causal_attention(q, k, v, self.heads))


class GPT2MLP(eqx.Module):
    c_fc: eqx.nn.Linear
    c_proj: eqx.nn.Linear

    def __init__(self, dim, key):
        k1, k2 = jax.random.split(key)
        self.c_fc = eqx.nn.Linear(dim, 4 * dim, key=k1)
        self.c_proj = eqx.nn.Linear(4 * dim, dim, key=k2)

    def __call__(self, x):
        return jax.vmap(self.c_proj)(jax.nn.gelu(jax.vmap(self.c_fc)(x), approximate=True))


class GPT2Block(eqx.Module):
    ln_1: eqx.nn.LayerNorm
    attn: GPT2Attention
    ln_2: eqx.nn.LayerNorm
    mlp: GPT2MLP

    def __init__(self, dim, heads, eps, key):
        k1, k2 = jax.random.split(key)
        self.ln_1 = eqx.nn.LayerNorm(dim, eps=eps)
        self.attn = GPT2Attention(dim, heads, k1)
        self.ln_2 = eqx.nn.LayerNorm(dim, eps=eps)
        self.mlp = GPT2MLP(dim, k2)

    def __call__(self, x):
        x = x + self.attn(jax.vmap(self.ln_1)(x))
        return x + self.mlp(jax.vmap(self.ln_2)(x))


class GPT2(eqx.Module):
    wte: eqx.nn.Embedding
    wpe: eqx.nn.Embedding
    h: list
    ln_f: eqx.nn.LayerNorm

    def __init__(self, config, key):
        k = keys(key, config.n_layer + 2)
        self.wte = eqx.nn.Embedding(config.vocab_size, config.n_embd, key=next(k))
        self.wpe = eqx.nn.Embedding(config.n_positions, config.n_embd, key=next(k))
        self.h = [GPT2Block(config.n_embd, config.n_head, config.layer_norm_epsilon, next(k))
                  for _ in range(config.n_layer)]
        self.ln_f = eqx.nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)

    def __call__(self, ids):
        x = jax.vmap(self.wte)(ids) + jax.vmap(self.wpe)(jnp.arange(ids.shape[0]))
        for block in self.h:
            x = block(x)
        return jax.vmap(self.ln_f)(x)


class GPT2LM(GPT2):
    """GPT-2 with its language-model head tied to the token embedding (GPT2LMHeadModel), written
    flat: no `transformer` level, so torch's transformer.h.0.* meets .h[0].* here."""

    def __call__(self, ids):
        return super().__call__(ids) @ self.wte.weight.T


# --- BERT (transformers BertModel without the pooler), per-layer ---------------------------------

class Embeddings(eqx.Module):
    word_embeddings: eqx.nn.Embedding
    position_embeddings: eqx.nn.Embedding
    token_type_embeddings: eqx.nn.Embedding
    LayerNorm: eqx.nn.LayerNorm

    def __init__(self, c, key):
        k = keys(key, 3)
        self.word_embeddings = eqx.nn.Embedding(c.vocab_size, c.hidden_size, key=next(k))
        self.position_embeddings = eqx.nn.Embedding(c.max_position_embeddings, c.hidden_size, key=next(k))
        self.token_type_embeddings = eqx.nn.Embedding(c.type_vocab_size, c.hidden_size, key=next(k))
        self.LayerNorm = eqx.nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def __call__(self, ids, types):
        x = (jax.vmap(self.word_embeddings)(ids) + jax.vmap(self.position_embeddings)(jnp.arange(ids.shape[0]))
             + jax.vmap(self.token_type_embeddings)(types))
        return jax.vmap(self.LayerNorm)(x)


class SelfAttention(eqx.Module):
    query: eqx.nn.Linear
    key: eqx.nn.Linear
    value: eqx.nn.Linear

    def __init__(self, d, key):
        k = keys(key, 3)
        self.query, self.key, self.value = (eqx.nn.Linear(d, d, key=next(k)) for _ in range(3))


class DenseNorm(eqx.Module):
    dense: eqx.nn.Linear
    LayerNorm: eqx.nn.LayerNorm

    def __init__(self, din, dout, eps, key):
        self.dense = eqx.nn.Linear(din, dout, key=key)
        self.LayerNorm = eqx.nn.LayerNorm(dout, eps=eps)

    def __call__(self, x, residual):
        return jax.vmap(self.LayerNorm)(jax.vmap(self.dense)(x) + residual)


class Attention(eqx.Module):
    self: SelfAttention
    output: DenseNorm

    def __init__(self, c, key):
        k1, k2 = jax.random.split(key)
        setattr(self, "self", SelfAttention(c.hidden_size, k1))
        self.output = DenseNorm(c.hidden_size, c.hidden_size, c.layer_norm_eps, k2)


class Intermediate(eqx.Module):
    dense: eqx.nn.Linear

    def __init__(self, c, key):
        self.dense = eqx.nn.Linear(c.hidden_size, c.intermediate_size, key=key)


class BertLayer(eqx.Module):
    attention: Attention
    intermediate: Intermediate
    output: DenseNorm
    heads: int = eqx.field(static=True)

    def __init__(self, c, key):
        k = keys(key, 3)
        self.attention = Attention(c, next(k))
        self.intermediate = Intermediate(c, next(k))
        self.output = DenseNorm(c.intermediate_size, c.hidden_size, c.layer_norm_eps, next(k))
        self.heads = c.num_attention_heads

    def __call__(self, x):
        s = getattr(self.attention, "self")
        q, k, v = (jax.vmap(layer)(x) for layer in (s.query, s.key, s.value))
        x = self.attention.output(causal_attention(q, k, v, self.heads, causal=False), x)
        h = jax.nn.gelu(jax.vmap(self.intermediate.dense)(x), approximate=False)
        return self.output(h, x)


class Encoder(eqx.Module):
    layer: list

    def __init__(self, c, key):
        self.layer = [BertLayer(c, k) for k in jax.random.split(key, c.num_hidden_layers)]


class Bert(eqx.Module):
    embeddings: Embeddings
    encoder: Encoder

    def __init__(self, config, key):
        k1, k2 = jax.random.split(key)
        self.embeddings = Embeddings(config, k1)
        self.encoder = Encoder(config, k2)

    def __call__(self, ids, types):
        x = self.embeddings(ids, types)
        for layer in self.encoder.layer:
            x = layer(x)
        return x


# --- Llama (transformers LlamaModel), stacked blocks built with eqx.filter_vmap -------------------

class RMSNorm(eqx.Module):
    weight: jax.Array
    eps: float = eqx.field(static=True)

    def __init__(self, dim, eps):
        self.weight = jnp.ones(dim)
        self.eps = eps

    def __call__(self, x):
        return self.weight * (x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + self.eps))


class LlamaAttention(eqx.Module):
    q_proj: eqx.nn.Linear
    k_proj: eqx.nn.Linear
    v_proj: eqx.nn.Linear
    o_proj: eqx.nn.Linear

    def __init__(self, c, key):
        k = keys(key, 4)
        hd = c.hidden_size // c.num_attention_heads
        self.q_proj = eqx.nn.Linear(c.hidden_size, c.num_attention_heads * hd, use_bias=False, key=next(k))
        self.k_proj = eqx.nn.Linear(c.hidden_size, c.num_key_value_heads * hd, use_bias=False, key=next(k))
        self.v_proj = eqx.nn.Linear(c.hidden_size, c.num_key_value_heads * hd, use_bias=False, key=next(k))
        self.o_proj = eqx.nn.Linear(c.num_attention_heads * hd, c.hidden_size, use_bias=False, key=next(k))


class LlamaMLP(eqx.Module):
    gate_proj: eqx.nn.Linear
    up_proj: eqx.nn.Linear
    down_proj: eqx.nn.Linear

    def __init__(self, c, key):
        k = keys(key, 3)
        self.gate_proj = eqx.nn.Linear(c.hidden_size, c.intermediate_size, use_bias=False, key=next(k))
        self.up_proj = eqx.nn.Linear(c.hidden_size, c.intermediate_size, use_bias=False, key=next(k))
        self.down_proj = eqx.nn.Linear(c.intermediate_size, c.hidden_size, use_bias=False, key=next(k))


class LlamaLayer(eqx.Module):
    self_attn: LlamaAttention
    mlp: LlamaMLP
    input_layernorm: RMSNorm
    post_attention_layernorm: RMSNorm

    def __init__(self, c, key):
        k1, k2 = jax.random.split(key)
        self.self_attn = LlamaAttention(c, k1)
        self.mlp = LlamaMLP(c, k2)
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)


def rope(x, theta):
    """HF Llama's rotary embedding (rotate_half) on [heads, T, hd]."""
    _, t, hd = x.shape
    inv = 1.0 / (theta ** (jnp.arange(0, hd, 2, dtype=jnp.float32) / hd))
    freqs = jnp.outer(jnp.arange(t, dtype=jnp.float32), inv)
    emb = jnp.concatenate([freqs, freqs], axis=-1)
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    return x * jnp.cos(emb) + jnp.concatenate([-x2, x1], axis=-1) * jnp.sin(emb)


class Llama(eqx.Module):
    embed_tokens: eqx.nn.Embedding
    layers: LlamaLayer
    norm: RMSNorm
    heads: int = eqx.field(static=True)
    kv_heads: int = eqx.field(static=True)
    theta: float = eqx.field(static=True)

    def __init__(self, c, key):
        k1, k2 = jax.random.split(key)
        self.embed_tokens = eqx.nn.Embedding(c.vocab_size, c.hidden_size, key=k1)
        self.layers = eqx.filter_vmap(lambda k: LlamaLayer(c, k))(jax.random.split(k2, c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.heads, self.kv_heads = c.num_attention_heads, c.num_key_value_heads
        self.theta = float(getattr(c, "rope_theta", None) or c.rope_parameters["rope_theta"])

    def __call__(self, ids):
        x = jax.vmap(self.embed_tokens)(ids)
        params, static = eqx.partition(self.layers, eqx.is_array)

        def step(x, layer_params):
            layer = eqx.combine(layer_params, static)
            a = layer.self_attn
            h = layer.input_layernorm(x)
            t = x.shape[0]
            q = jax.vmap(a.q_proj)(h).reshape(t, self.heads, -1).transpose(1, 0, 2)
            k = jax.vmap(a.k_proj)(h).reshape(t, self.kv_heads, -1).transpose(1, 0, 2)
            v = jax.vmap(a.v_proj)(h).reshape(t, self.kv_heads, -1).transpose(1, 0, 2)
            q, k = rope(q, self.theta), rope(k, self.theta)
            repeat = self.heads // self.kv_heads
            k, v = jnp.repeat(k, repeat, axis=0), jnp.repeat(v, repeat, axis=0)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
            scores = jnp.where(jnp.tril(jnp.ones((t, t), bool)), scores, -jnp.inf)
            out = (jax.nn.softmax(scores, axis=-1) @ v).transpose(1, 0, 2).reshape(t, -1)
            x = x + jax.vmap(a.o_proj)(out)
            h = layer.post_attention_layernorm(x)
            m = layer.mlp
            x = x + jax.vmap(m.down_proj)(jax.nn.silu(jax.vmap(m.gate_proj)(h)) * jax.vmap(m.up_proj)(h))
            return x, None

        x, _ = jax.lax.scan(step, x, params)
        return self.norm(x)


# --- Flax linen target: a small CNN with BatchNorm ----------------------------------------------

class FlaxCNN(fnn.Module):
    """torch: Conv2d(3, 8, 3) -> BatchNorm2d(8) -> ReLU -> Conv2d(8, 16, 3, stride 2) -> ReLU
    -> mean over H, W -> Linear(16, 10). NHWC, as Flax is."""

    @fnn.compact
    def __call__(self, x):
        x = fnn.Conv(8, (3, 3), padding="VALID")(x)
        x = fnn.BatchNorm(use_running_average=True, epsilon=1e-5)(x)
        x = fnn.relu(x)
        x = fnn.relu(fnn.Conv(16, (3, 3), strides=(2, 2), padding="VALID")(x))
        return fnn.Dense(10)(x.mean(axis=(1, 2)))


class FlaxConvNet(fnn.Module):
    """torch: Conv2d(3, 8, 3) -> ReLU -> Conv2d(8, 8, 3, stride 2) -> ReLU -> mean over H, W
    -> Linear(8, 16) -> ReLU -> Linear(16, 10). NHWC."""

    @fnn.compact
    def __call__(self, x):
        x = fnn.relu(fnn.Conv(8, (3, 3), padding="VALID")(x))
        x = fnn.relu(fnn.Conv(8, (3, 3), strides=(2, 2), padding="VALID")(x))
        x = fnn.relu(fnn.Dense(16)(x.mean(axis=(1, 2))))
        return fnn.Dense(10)(x)
