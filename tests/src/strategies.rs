//! proptest strategies for books, configurations and action/event sequences over the core.

use kalsim_core::{
    Bps, CentiContracts, Cents, Contracts, EngineConfig, FeeSchedule, Limits, MarkMode, Price,
    PricingMode, QueueModelKind, SellMode, Side, SizeTable, SweepRemainder,
};
use proptest::prelude::*;

/// Bids of one side as `(price, depth)`.
pub type Ladder = Vec<(Price, CentiContracts)>;

/// A price from cents (test input only).
pub fn price(cents: u8) -> Price {
    Price::new(cents).unwrap()
}

/// A random valid, uncrossed book: each side empty or a top bid with up to 8 levels below it,
/// depths from dust to 5 000 contracts, best YES + best NO < 100.
pub fn book() -> impl Strategy<Value = (Ladder, Ladder)> {
    (
        0u8..=98,
        0u8..=98,
        prop::collection::vec((0u8..12, 1u64..=500_000), 1..8),
        prop::collection::vec((0u8..12, 1u64..=500_000), 1..8),
    )
        .prop_map(|(yes_top, no_top, yes_levels, no_levels)| {
            let no_top = no_top.min(99 - yes_top.max(1));
            (ladder(yes_top, &yes_levels), ladder(no_top, &no_levels))
        })
}

fn ladder(top: u8, levels: &[(u8, u64)]) -> Ladder {
    let mut out: Ladder = Vec::new();
    if top == 0 {
        return out;
    }
    for (i, &(offset, depth)) in levels.iter().enumerate() {
        // The first level is the top and always quotes at least one contract.
        let (offset, depth) = if i == 0 {
            (0, depth.max(100))
        } else {
            (offset, depth)
        };
        if offset >= top {
            continue;
        }
        let p = price(top - offset);
        if out.iter().all(|&(q, _)| q != p) {
            out.push((p, CentiContracts(depth)));
        }
    }
    out
}

/// A random but valid configuration. `mark` is fixed by the caller (the PV property needs the
/// default liquidation marks).
pub fn config(mark: MarkMode) -> impl Strategy<Value = EngineConfig> {
    let sizes = prop_oneof![
        Just(SizeTable::DEFAULT),
        Just(SizeTable::DEFAULT.with_fixed(Contracts(10)).unwrap()),
        prop::array::uniform5(1u32..=40).prop_map(|steps| {
            let mut acc = 0;
            let sizes = steps.map(|s| {
                acc += s;
                acc
            });
            SizeTable::new(sizes).unwrap()
        }),
    ];
    let limits = (1u32..=600, 100i64..=60_000, 500u32..=10_000, 0i64..=20_000).prop_map(
        |(max_pos, max_value, frac, buffer)| Limits {
            max_position_per_market: max_pos,
            max_position_value: Cents(max_value),
            max_portfolio_fraction: Bps(frac),
            min_cash_buffer: Cents(buffer),
        },
    );
    let limits = prop_oneof![Just(Limits::PLAN), limits];
    let pricing = prop_oneof![
        Just((PricingMode::Aggressive, 2u8, SweepRemainder::Cancel)),
        Just((PricingMode::Passive, 2, SweepRemainder::Cancel)),
        Just((PricingMode::Mid, 2, SweepRemainder::Cancel)),
        (0u8..=6, any::<bool>()).prop_map(|(slip, rest)| (
            PricingMode::Sweep,
            slip,
            if rest {
                SweepRemainder::Rest
            } else {
                SweepRemainder::Cancel
            }
        )),
    ];
    let sell = prop_oneof![Just(SellMode::ReduceOnly), Just(SellMode::SellToOpen)];
    let fees = prop_oneof![
        Just(FeeSchedule::KALSHI),
        Just(FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        }),
        Just(FeeSchedule::FREE),
    ];
    let queue = prop_oneof![
        Just(QueueModelKind::Fifo),
        (0u32..=10_000).prop_map(|b| QueueModelKind::Probabilistic { trade_prob_bps: b }),
    ];
    let cash = prop_oneof![Just(100_000i64), 0i64..=300_000];
    (sizes, limits, pricing, sell, fees, queue, cash).prop_map(
        move |(sizes, limits, (pricing, slip, rem), sell_mode, fees, queue, cash)| EngineConfig {
            sizes,
            limits,
            pricing,
            max_slippage_cents: slip,
            sweep_remainder: rem,
            sell_mode,
            fees,
            mark,
            strict: false,
            initial_cash: Cents(cash),
            queue,
        },
    )
}

/// One thing that happens in an episode.
#[derive(Clone, Debug)]
pub enum Op {
    /// The agent steps an action id (0..=24).
    Step(u8),
    /// The data changes one level by a signed number of centi-contracts (may be rejected).
    Delta(Side, Price, i64),
    /// The data replaces the book.
    Snapshot(Ladder, Ladder),
}

/// A random operation, mostly steps.
pub fn op() -> impl Strategy<Value = Op> {
    let side = prop_oneof![Just(Side::Yes), Just(Side::No)];
    prop_oneof![
        6 => (0u8..25).prop_map(Op::Step),
        3 => (side, 1u8..=99, -300_000i64..=300_000)
            .prop_map(|(s, p, d)| Op::Delta(s, price(p), d)),
        1 => book().prop_map(|(y, n)| Op::Snapshot(y, n)),
    ]
}
