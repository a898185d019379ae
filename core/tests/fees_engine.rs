//! SPEC §4 fee vectors, checked through the `Engine` (taker: aggressive fills; maker: resting fills).

mod common;

use common::*;
use kalsim_core::action::encode;
use kalsim_core::{
    Cents, EngineConfig, FeeSchedule, Intent, Limits, PricingMode, Side, SizeTable, Tier,
};

/// Limits loose enough that every vector is allowed (100 contracts at 99¢ on $1 000 is 99 %).
fn loose() -> Limits {
    Limits {
        max_portfolio_fraction: kalsim_core::Bps(10_000),
        ..Limits::PLAN
    }
}

/// Buy `size` YES at an ask of `price` (a NO bid at `100 − price`) and return the taker fee.
fn taker_fee_through_engine(size_table: SizeTable, tier: Tier, price: u8) -> (u32, i64, i64) {
    let config = EngineConfig {
        sizes: size_table,
        limits: loose(),
        ..EngineConfig::default()
    };
    let yes: &[(u8, u64)] = if price > 1 { &[(price - 1, 10)] } else { &[] };
    let mut e = engine_with(config, yes, &[(100 - price, 1_000)]);
    let before = cash(&e);
    let out = e.step_action(encode(Intent::BuyYes, tier) as u32).unwrap();
    assert_eq!(out.invalid, None, "{price}¢ must be allowed");
    let spent = before - cash(&e);
    (out.filled, out.fee_cents, spent)
}

#[test]
fn taker_one_and_ten_at_fifty() {
    let table = SizeTable::new([1, 10, 20, 50, 100]).unwrap();
    let (filled, fee, spent) = taker_fee_through_engine(table, Tier::Small, 50);
    assert_eq!((filled, fee, spent), (1, 2, 50 + 2));
    let (filled, fee, spent) = taker_fee_through_engine(table, Tier::Medium, 50);
    assert_eq!((filled, fee, spent), (10, 18, 500 + 18));
}

#[test]
fn taker_hundred_at_each_spec_price() {
    for (price, want) in [
        (1u8, 7i64),
        (5, 34),
        (35, 160),
        (50, 175),
        (90, 63),
        (99, 7),
    ] {
        let (filled, fee, spent) = taker_fee_through_engine(SizeTable::DEFAULT, Tier::Giant, price);
        assert_eq!(filled, 100, "{price}¢");
        assert_eq!(fee, want, "taker fee for 100 @ {price}¢");
        assert_eq!(spent, 100 * price as i64 + want, "cash spent at {price}¢");
    }
}

#[test]
fn taker_fee_is_symmetric_in_the_contract_bought() {
    // Buying NO at 35 is the same level as YES at 65: P(100 − P) is equal, so the fee is 160.
    let config = EngineConfig {
        limits: loose(),
        ..EngineConfig::default()
    };
    let mut e = engine_with(config, &[(65, 1_000)], &[(30, 10)]);
    let out = e
        .step_action(encode(Intent::BuyNo, Tier::Giant) as u32)
        .unwrap();
    assert_eq!((out.filled, out.fee_cents), (100, 160));
    assert_eq!(e.account().fees_paid(), Cents(160));
}

/// A passive Giant BUY_YES joins the 50¢ (or `price`) bid; a decrease past the queue fills it.
fn maker_fee_through_engine(price: u8, maker_fees: bool) -> (u32, i64, i64) {
    let config = EngineConfig {
        pricing: PricingMode::Passive,
        fees: FeeSchedule {
            maker_fees,
            ..FeeSchedule::KALSHI
        },
        limits: loose(),
        ..EngineConfig::default()
    };
    let mut e = engine_with(config, &[(price, 30)], &[(100 - price - 5, 30)]);
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Giant) as u32)
        .unwrap();
    assert_eq!((out.filled, out.fee_cents), (0, 0));
    let before = cash(&e);
    // 30 contracts ahead (others joining behind do not matter), then 130 traded away at the
    // level: 30 clear the queue ahead, 100 fill the whole order.
    e.apply_delta(Side::Yes, p(price), 200 * 100).unwrap();
    let ev = e.apply_delta(Side::Yes, p(price), -130 * 100).unwrap();
    (ev.filled, ev.fee_cents, before - cash(&e))
}

#[test]
fn maker_vectors_through_engine() {
    assert_eq!(maker_fee_through_engine(50, true), (100, 44, 5_000 + 44));
    assert_eq!(maker_fee_through_engine(25, true), (100, 33, 2_500 + 33));
    // Off by default: the same fills are free.
    assert_eq!(maker_fee_through_engine(50, false), (100, 0, 5_000));
}

/// SPEC §4: the maker fee is one fee per order per step, `ceil` over the Σ of all its fills in
/// the step, charged as the fills happen; the next step rounds its own fills anew.
#[test]
fn maker_fee_rounds_once_per_order_per_step() {
    let config = EngineConfig {
        pricing: PricingMode::Passive,
        fees: FeeSchedule {
            maker_fees: true,
            ..FeeSchedule::KALSHI
        },
        limits: loose(),
        ..EngineConfig::default()
    };
    let mut e = engine_with(config, &[(50, 0)], &[(45, 30)]);
    e.apply_delta(Side::Yes, p(50), 100).unwrap(); // one contract shown at YES 50
    e.step_action(encode(Intent::BuyYes, Tier::Giant) as u32)
        .unwrap();
    e.apply_delta(Side::Yes, p(50), 10_000).unwrap(); // 100 join behind us
    // In one step: four fills of one contract at 50¢ (weight 2 500 each, 0.4375¢ each):
    // ceil(175 × 10 000 / 10⁶) = 2¢ in all, not 4 × 1¢; each fill pays what it adds.
    let mut fees = Vec::new();
    for k in 0..5 {
        let ev = e
            .apply_delta(Side::Yes, p(50), if k == 0 { -200 } else { -100 })
            .unwrap();
        assert_eq!(ev.filled, 1);
        fees.push(ev.fee_cents);
    }
    // 1 ahead + 1 filled, then 1 each: cumulative weights 2 500 … 12 500 → 1, 1, 2, 2, 3¢.
    assert_eq!(fees, [1, 0, 1, 0, 1]);
    assert_eq!(e.account().fees_paid(), Cents(3));
    // A HOLD starts a new step for the same order: its first fill rounds up on its own.
    e.step_action(0).unwrap();
    let ev = e.apply_delta(Side::Yes, p(50), -100).unwrap();
    assert_eq!((ev.filled, ev.fee_cents), (1, 1));
    assert_eq!(e.account().fees_paid(), Cents(4));
}
