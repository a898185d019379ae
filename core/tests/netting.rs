//! Hand-worked Kalshi netting scenarios through the `Engine` (SPEC §3, §5), checked to the cent.

mod common;

use common::*;
use kalsim_core::action::encode;
use kalsim_core::{
    Cents, EngineConfig, Intent, InvalidAction, LimitViolation, SellMode, Side, Tier,
};

fn act(intent: Intent, tier: Tier) -> u32 {
    encode(intent, tier) as u32
}

/// Taker fee of `n` contracts at `price`, worked by hand from SPEC §4: ceil(7·n·P(100−P)/10 000).
fn fee(n: i64, price: i64) -> i64 {
    (7 * n * price * (100 - price) + 9_999) / 10_000
}

#[test]
fn buy_yes_then_buy_no_closes_for_spread_plus_fees() {
    let mut e = deep_book(EngineConfig::default());
    // BUY_YES Medium: 10 at the YES ask 45. Fee ceil(7·10·45·55/10 000) = ceil(17.325) = 18.
    let out = e.step_action(act(Intent::BuyYes, Tier::Medium)).unwrap();
    assert_eq!((out.filled, out.fee_cents), (10, 18));
    assert_eq!(fee(10, 45), 18);
    assert_eq!(cash(&e), 100_000 - 450 - 18);
    assert_eq!(e.account().position(), 10);
    // BUY_NO Medium: 10 at the NO ask 60 closes the YES: each pair returns 100 − 60 = 40.
    // Fee ceil(7·10·60·40/10 000) = ceil(16.8) = 17.
    let out = e.step_action(act(Intent::BuyNo, Tier::Medium)).unwrap();
    assert_eq!((out.filled, out.fee_cents), (10, 17));
    assert_eq!(e.account().position(), 0);
    // The round trip cost the 5¢ spread on 10 contracts plus both fees — not 100¢ a contract.
    let round_trip_cost = 100_000 - cash(&e);
    assert_eq!(round_trip_cost, 10 * 5 + 18 + 17);
    assert_eq!(cash(&e), 99_915);
    assert_eq!(e.account().realized_pnl(), Cents(-50));
    assert_eq!(e.account().fees_paid(), Cents(35));
    assert_eq!(e.account().cost_basis(), Cents(0));
    assert_eq!(e.account().ledger_discrepancy(), 0);
    // Flat: the portfolio value is the cash.
    assert_eq!(e.portfolio_value(), Cents(99_915));
}

#[test]
fn partial_close_keeps_average_cost_and_flip_opens_the_other_side() {
    let mut e = deep_book(EngineConfig::default());
    e.step_action(act(Intent::BuyYes, Tier::Large)).unwrap(); // +20 YES @ 45 = 900 basis
    e.step_action(act(Intent::BuyNo, Tier::Small)).unwrap(); // closes 5 @ NO 60
    assert_eq!(e.account().position(), 15);
    assert_eq!(e.account().cost_basis(), Cents(900 - 225));
    assert_eq!(e.account().realized_pnl(), Cents(5 * 40 - 225));
    // BUY_NO Huge (50): closes the 15 YES, opens 35 NO at 60.
    e.step_action(act(Intent::BuyNo, Tier::Huge)).unwrap();
    assert_eq!(e.account().position(), -35);
    assert_eq!(e.account().cost_basis(), Cents(35 * 60));
    let fees = fee(20, 45) + fee(5, 60) + fee(50, 60);
    assert_eq!(e.account().fees_paid(), Cents(fees));
    // Cash: −900 + 200 + (15·40 − 35·60) − fees.
    assert_eq!(cash(&e), 100_000 - 900 + 200 + 600 - 2_100 - fees);
    assert_eq!(e.account().ledger_discrepancy(), 0);
}

#[test]
fn sell_to_open_costs_the_complement() {
    let config = EngineConfig {
        sell_mode: SellMode::SellToOpen,
        ..EngineConfig::default()
    };
    // SELL_YES Medium when flat at the YES bid 40 opens 10 NO at 100 − 40 = 60 each.
    let mut e = deep_book(config);
    let out = e.step_action(act(Intent::SellYes, Tier::Medium)).unwrap();
    assert_eq!(out.invalid, None);
    assert_eq!((out.filled, out.fee_cents), (10, fee(10, 60)));
    assert_eq!(e.account().position(), -10);
    assert_eq!(cash(&e), 100_000 - 10 * (100 - 40) - fee(10, 60));
    let echo = out.placed.unwrap();
    // The sweep limit is the bid less 2¢ of slippage; the fill is at the bid.
    assert_eq!((echo.limit, echo.notional_cents), (p(38), 400));
    // SELL_NO Small when flat at the NO bid 55 — here it first closes 5 of the NO (at YES 45).
    let out = e.step_action(act(Intent::SellNo, Tier::Small)).unwrap();
    assert_eq!(out.filled, 5);
    assert_eq!(e.account().position(), -5);
    // A fresh engine: SELL_NO when flat opens YES at 100 − 55 = 45.
    let mut e = deep_book(config);
    e.step_action(act(Intent::SellNo, Tier::Small)).unwrap();
    assert_eq!(e.account().position(), 5);
    assert_eq!(cash(&e), 100_000 - 5 * 45 - fee(5, 45));
    assert_eq!(e.account().ledger_discrepancy(), 0);
}

#[test]
fn settlement_both_ways_through_engine() {
    for (result, payout) in [(Side::Yes, 1_000), (Side::No, 0)] {
        let mut e = deep_book(EngineConfig::default());
        e.step_action(act(Intent::BuyYes, Tier::Medium)).unwrap();
        let before = cash(&e);
        assert_eq!(e.settle(result), Cents(payout));
        assert_eq!(cash(&e), before + payout);
        assert_eq!(e.account().position(), 0);
        assert_eq!(e.account().realized_pnl(), Cents(payout - 450));
        assert_eq!(e.account().ledger_discrepancy(), 0);
    }
    for (result, payout) in [(Side::No, 2_000), (Side::Yes, 0)] {
        let mut e = deep_book(EngineConfig::default());
        e.step_action(act(Intent::BuyNo, Tier::Large)).unwrap(); // 20 NO @ 60
        let before = cash(&e);
        assert_eq!(e.settle(result), Cents(payout));
        assert_eq!(cash(&e), before + payout);
        assert_eq!(e.account().realized_pnl(), Cents(payout - 1_200));
        assert_eq!(e.account().ledger_discrepancy(), 0);
    }
}

#[test]
fn settlement_cancels_the_working_order() {
    let config = EngineConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EngineConfig::default()
    };
    let mut e = deep_book(config);
    e.step_action(act(Intent::BuyYes, Tier::Small)).unwrap();
    assert!(e.working_order().is_some());
    assert_eq!(e.settle(Side::Yes), Cents(0));
    assert!(e.working_order().is_none());
    assert_eq!(cash(&e), 100_000);
}

#[test]
fn reduce_only_sells_are_masked_without_holdings() {
    let mut e = deep_book(EngineConfig::default());
    let mask = e.action_mask();
    assert_eq!(&mask[6..=10], &[false; 5], "SELL_YES masked when flat");
    assert_eq!(&mask[16..=20], &[false; 5], "SELL_NO masked when flat");
    let out = e.step_action(7).unwrap();
    assert_eq!(
        out.invalid,
        Some(InvalidAction::Limit(LimitViolation::InsufficientHoldings))
    );
    assert_eq!(out.executed, kalsim_core::Action::Hold);
    assert_eq!((out.filled, cash(&e)), (0, 100_000));
    // With 10 YES held: Small and Medium sells allowed, Large+ need more holdings.
    e.step_action(act(Intent::BuyYes, Tier::Medium)).unwrap();
    let mask = e.action_mask();
    assert_eq!(&mask[6..=10], &[true, true, false, false, false]);
    assert_eq!(&mask[16..=20], &[false; 5]);
    assert_eq!(
        e.step_action(act(Intent::SellYes, Tier::Large))
            .unwrap()
            .invalid,
        Some(InvalidAction::Limit(LimitViolation::InsufficientHoldings))
    );
    let out = e.step_action(act(Intent::SellYes, Tier::Medium)).unwrap();
    assert_eq!((out.invalid, out.filled), (None, 10));
    assert_eq!(e.account().position(), 0);
}

#[test]
fn buying_into_a_one_sided_book_does_not_raise_pv() {
    // Regression (proptest `no_sequence_raises_pv_on_a_static_book`): the NO ladder has never
    // quoted; marking it at a neutral 50¢ made BUY_NO at the NO ask 48 a free +2¢ a contract.
    let mut e = engine_with(EngineConfig::default(), &[(52, 4)], &[]);
    let pv = e.portfolio_value();
    assert_eq!(pv, Cents(100_000));
    let out = e.step_action(act(Intent::BuyNo, Tier::Small)).unwrap();
    assert_eq!(out.filled, 4);
    // Never-quoted NO is marked at the 1¢ floor (never zero): 4 × 1¢.
    assert_eq!(
        e.portfolio_value(),
        Cents(100_000 - 4 * 48 - fee(4, 48) + 4)
    );
    assert!(e.portfolio_value() < pv);
}
