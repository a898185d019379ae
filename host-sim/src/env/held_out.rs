//! Held-out evaluation data, as `kalsim experiment` selects it (and any front-end can):
//! disjoint synthetic markets, or a split of captured markets by market or by time.

use std::sync::Arc;

use super::{EnvConfig, Markets};

/// The generator seed of held-out synthetic markets is the training seed plus this.
pub const EVAL_SEED_OFFSET: u64 = 1_000;

/// `split = "time"`: the fraction of each market's events used for training.
pub const TIME_SPLIT: f64 = 0.7;

/// The configuration of held-out synthetic markets for `cfg`: the same generator and
/// preset with the seed moved by [`EVAL_SEED_OFFSET`], so no evaluation market was seen in
/// training.
pub fn held_out_synthetic(cfg: &EnvConfig) -> EnvConfig {
    let mut ecfg = cfg.clone();
    ecfg.data.synthetic_seed = cfg.data.synthetic_seed.wrapping_add(EVAL_SEED_OFFSET);
    ecfg
}

/// Train on each market's first `train_fraction` of events, evaluate on the rest (markets
/// with fewer than 4 events are left out); `None` when no market can be split.
pub fn split_by_time(markets: &Markets, train_fraction: f64) -> Option<(Markets, Markets)> {
    let (mut train, mut eval) = (Vec::new(), Vec::new());
    for m in markets.iter() {
        if m.events.len() < 4 {
            continue;
        }
        let cut = ((m.events.len() as f64) * train_fraction) as usize;
        let (t, e) = m.split_at(cut);
        train.push(t);
        eval.push(e);
    }
    (!train.is_empty()).then(|| (Arc::new(train), Arc::new(eval)))
}

/// Every fourth market held out for evaluation (the last one when there are fewer than
/// four); `None` for fewer than two markets.
pub fn split_by_market(markets: &Markets) -> Option<(Markets, Markets)> {
    if markets.len() < 2 {
        return None;
    }
    let (mut train, mut eval) = (Vec::new(), Vec::new());
    for (i, m) in markets.iter().enumerate() {
        if i % 4 == 3 || (markets.len() < 4 && i == markets.len() - 1) {
            eval.push(m.clone());
        } else {
            train.push(m.clone());
        }
    }
    Some((Arc::new(train), Arc::new(eval)))
}
