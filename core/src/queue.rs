//! Queue models for resting orders (SPEC §4).
//!
//! A resting order joins the back of the queue at its price: the queue ahead of it is the
//! displayed depth there when it was placed. When the data lowers that level, a queue model
//! decides how much of the decrease advances the order and how much fills it.
//!
//! * [`QueueModelKind::Fifo`] (default, deterministic): decreases consume the queue from the
//!   front; once the queue ahead is gone, further decreases at the level fill the order.
//! * [`QueueModelKind::Probabilistic`]: each decrease is a trade with probability
//!   `trade_prob_bps / 10 000` (drawn from the environment's seeded [`Rng`]) and then acts as
//!   in FIFO; otherwise it is a cancellation spread uniformly over the level, so it shortens
//!   the queue ahead in proportion `queue_ahead / depth_before` and never fills the order.
//!
//! Implement [`QueueModel`] to plug in another model.

use crate::rng::Rng;

/// A pluggable queue model.
pub trait QueueModel {
    /// The agent's level lost `decrease_centi` of displayed depth (it held `before_centi`).
    /// Returns `(queue ahead after, centi-contracts filled to the agent)`.
    fn on_decrease(
        &mut self,
        queue_ahead_centi: u64,
        before_centi: u64,
        decrease_centi: u64,
        rng: &mut Rng,
    ) -> (u64, u64);
}

/// The built-in queue models, selectable from configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueueModelKind {
    /// Deterministic front-first consumption (default).
    #[default]
    Fifo,
    /// Each decrease is a trade with this probability in bps, else a uniform cancellation.
    Probabilistic {
        /// Probability that a decrease is a trade, basis points.
        trade_prob_bps: u32,
    },
}

#[inline]
fn fifo(queue_ahead: u64, decrease: u64) -> (u64, u64) {
    if decrease <= queue_ahead {
        (queue_ahead - decrease, 0)
    } else {
        (0, decrease - queue_ahead)
    }
}

impl QueueModel for QueueModelKind {
    fn on_decrease(
        &mut self,
        queue_ahead_centi: u64,
        before_centi: u64,
        decrease_centi: u64,
        rng: &mut Rng,
    ) -> (u64, u64) {
        match *self {
            QueueModelKind::Fifo => fifo(queue_ahead_centi, decrease_centi),
            QueueModelKind::Probabilistic { trade_prob_bps } => {
                if rng.chance_bps(trade_prob_bps) {
                    fifo(queue_ahead_centi, decrease_centi)
                } else if before_centi == 0 {
                    (0, 0)
                } else {
                    let ahead_cancelled = (decrease_centi as u128 * queue_ahead_centi as u128
                        / before_centi as u128) as u64;
                    (queue_ahead_centi.saturating_sub(ahead_cancelled), 0)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_consumes_front_first() {
        let mut q = QueueModelKind::Fifo;
        let mut rng = Rng::new(0);
        assert_eq!(q.on_decrease(1_000, 5_000, 400, &mut rng), (600, 0));
        assert_eq!(q.on_decrease(600, 4_600, 1_000, &mut rng), (0, 400));
    }

    #[test]
    fn probabilistic_is_seeded_and_bounded() {
        let run = |seed| {
            let mut q = QueueModelKind::Probabilistic {
                trade_prob_bps: 5_000,
            };
            let mut rng = Rng::new(seed);
            let mut ahead = 10_000;
            let mut filled = 0;
            for _ in 0..50 {
                let (a, f) = q.on_decrease(ahead, 20_000, 500, &mut rng);
                assert!(a <= ahead);
                ahead = a;
                filled += f;
            }
            (ahead, filled)
        };
        assert_eq!(run(3), run(3));
        let mut all_cancel = QueueModelKind::Probabilistic { trade_prob_bps: 0 };
        assert_eq!(
            all_cancel.on_decrease(1_000, 4_000, 2_000, &mut Rng::new(1)),
            (500, 0)
        );
    }
}
