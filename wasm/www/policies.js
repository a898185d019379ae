// Baseline policies over the published observation (names from obsSchema(), never indices
// hard-coded) and the action mask. Action ids follow SPEC §2: encode(intent, tier) =
// (intent − 1)·5 + tier + 1 with intents BUY_YES 1, SELL_YES 2, BUY_NO 3, SELL_NO 4.

export const BUY_YES = 1;
export const SELL_YES = 2;
export const BUY_NO = 3;
export const SELL_NO = 4;
export const encode = (intent, tier) => (intent - 1) * 5 + tier + 1;

/** Small seeded PRNG (mulberry32) for the random policy. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Policy context: `idx` maps feature names to indices, `sizes` the five effective sizes
 * (all equal in fixed mode), `maxPosition` and `initialCash` (cents) from the config.
 */
export function makeContext(schema, config) {
  const idx = Object.fromEntries(schema.map((f) => [f.name, f.index]));
  const fixed = config.sizing === 'fixed';
  const sizes = fixed ? Array(5).fill(config.fixed_size) : config.sizes.slice();
  return { idx, sizes, maxPosition: config.limits.max_position_per_market, initialCash: config.initial_cash_cents };
}

export function hold() {
  return 0;
}

export function randomPolicy(rng) {
  return (obs, mask) => {
    const allowed = [];
    for (let a = 0; a < 25; a++) if (mask[a]) allowed.push(a);
    return allowed[Math.floor(rng() * allowed.length)] ?? 0;
  };
}

/** Tier whose size is closest to `contracts`. */
function tierNear(ctx, contracts) {
  let best = 0;
  for (let t = 1; t < 5; t++) {
    if (Math.abs(ctx.sizes[t] - contracts) < Math.abs(ctx.sizes[best] - contracts)) best = t;
  }
  return best;
}

function allowedOr(mask, action) {
  return mask[action] ? action : 0;
}

/**
 * Imbalance rule at a fixed size of 10 contracts: top-5 depth imbalance above +θ leans YES
 * (close NO first, else buy YES), below −θ leans NO; otherwise hold. Position capped at
 * ±`cap` contracts.
 */
export function imbalancePolicy(ctx, { theta = 0.3, cap = 60 } = {}) {
  const t10 = tierNear(ctx, 10);
  const size = ctx.sizes[t10];
  return (obs, mask) => {
    const imb = obs[ctx.idx.imbalance];
    const pos = Math.round(obs[ctx.idx.position] * ctx.maxPosition);
    if (imb > theta) {
      if (pos < 0) return allowedOr(mask, encode(SELL_NO, t10));
      if (pos + size <= cap) return allowedOr(mask, encode(BUY_YES, t10));
    } else if (imb < -theta) {
      if (pos > 0) return allowedOr(mask, encode(SELL_YES, t10));
      if (-pos + size <= cap) return allowedOr(mask, encode(BUY_NO, t10));
    }
    return 0;
  };
}

/**
 * Kelly-style sizer: a fair-value estimate p̂ = microprice + κ·imbalance; the Kelly fraction
 * of a binary bought at price c is (p̂ − c)/(1 − c); target a half-Kelly position and pick
 * the largest allowed tier that does not overshoot it. Wrong-side holdings are sold first.
 */
export function kellyPolicy(ctx, { kappa = 0.06, minEdge = 0.008, fraction = 0.5 } = {}) {
  const { idx } = ctx;
  const largestTier = (intent, maxContracts, mask) => {
    for (let t = 4; t >= 0; t--) {
      if (ctx.sizes[t] <= maxContracts && mask[encode(intent, t)]) return encode(intent, t);
    }
    return 0;
  };
  return (obs, mask) => {
    const p = Math.min(0.99, Math.max(0.01, obs[idx.microprice] + kappa * obs[idx.imbalance]));
    const yesAsk = obs[idx.yes_ask];
    const noAsk = obs[idx.no_ask];
    const pos = Math.round(obs[idx.position] * ctx.maxPosition);
    const pv = (ctx.initialCash / 100) * (1 + obs[idx.pv_return]);
    const edgeYes = p - yesAsk;
    const edgeNo = 1 - p - noAsk;
    if (edgeYes > minEdge && yesAsk > 0) {
      if (pos < 0) return largestTier(SELL_NO, -pos, mask) || 0;
      const f = (fraction * edgeYes) / (1 - yesAsk);
      const need = Math.floor((f * pv) / yesAsk) - pos;
      return need > 0 ? largestTier(BUY_YES, need, mask) : 0;
    }
    if (edgeNo > minEdge && noAsk > 0) {
      if (pos > 0) return largestTier(SELL_YES, pos, mask) || 0;
      const f = (fraction * edgeNo) / (1 - noAsk);
      const need = Math.floor((f * pv) / noAsk) + pos;
      return need > 0 ? largestTier(BUY_NO, need, mask) : 0;
    }
    return 0;
  };
}
