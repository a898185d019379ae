//! Every one of the 25 actions through the `Engine` (plan §9 "Test each of 25 actions executes
//! correctly", "Verify correct size was used"), and the invalid-action policy of SPEC §6.

mod common;

use common::*;
use kalsim_core::action::{decode, encode};
use kalsim_core::{
    Action, ActionError, Bps, Contracts, Engine, EngineConfig, Intent, InvalidAction,
    LimitViolation, Limits, SizeTable, StepError, Tier,
};

/// Limits that let a Giant order through on the deep book with a 100-contract position held.
fn roomy(sizes: SizeTable) -> EngineConfig {
    EngineConfig {
        sizes,
        limits: Limits {
            max_portfolio_fraction: Bps(10_000),
            ..Limits::PLAN
        },
        ..EngineConfig::default()
    }
}

/// A deep-book engine holding what a sell of `intent` needs (100 of the contract it sells).
fn prepared(config: EngineConfig, intent: Intent) -> Engine {
    let mut e = deep_book(config);
    let setup = match intent {
        Intent::SellYes => Some(Intent::BuyYes),
        Intent::SellNo => Some(Intent::BuyNo),
        _ => None,
    };
    if let Some(buy) = setup {
        // Buy 100 in Small/…/Giant steps whatever the table, then restore the book.
        let mut held = 0;
        while held < 100 {
            let out = e.step_action(encode(buy, Tier::Small) as u32).unwrap();
            assert_eq!(out.invalid, None);
            held += out.filled;
        }
        snapshot(
            &mut e,
            &[(40, 1_000), (39, 1_000)],
            &[(55, 1_000), (54, 1_000)],
        );
    }
    e
}

/// The sweep limit of SPEC §3 (the default pricing): the best price ± 2¢ of slippage.
fn expected_limit(intent: Intent) -> u8 {
    if intent.is_sell() {
        expected_price(intent) - 2
    } else {
        expected_price(intent) + 2
    }
}

fn expected_price(intent: Intent) -> u8 {
    // YES bid 40, YES ask 45, NO bid 55, NO ask 60: every tier fills at the top level.
    match intent {
        Intent::BuyYes => 45,
        Intent::SellYes => 40,
        Intent::BuyNo => 60,
        Intent::SellNo => 55,
        Intent::Hold => unreachable!(),
    }
}

fn run_all_actions(sizes: SizeTable, expected_size: impl Fn(Tier) -> u32) {
    for id in 0u32..25 {
        let decoded = decode(id);
        let intent = match decoded {
            Ok(Action::Trade { intent, .. }) => intent,
            _ => Intent::Hold,
        };
        let mut e = prepared(roomy(sizes), intent);
        let pos_before = e.account().position();
        let mask = e.action_mask();
        let out = e.step_action(id).unwrap();
        assert_eq!(out.action as u32, id);
        match decoded {
            Ok(Action::Hold) => {
                assert!(mask[0]);
                assert_eq!(
                    (out.executed, out.invalid, out.placed),
                    (Action::Hold, None, None)
                );
                assert_eq!(e.account().position(), pos_before);
            }
            Ok(Action::Trade { intent, tier }) => {
                assert!(mask[id as usize], "action {id} must be allowed here");
                let size = expected_size(tier);
                assert_eq!(out.invalid, None, "action {id}");
                assert_eq!(out.executed, Action::Trade { intent, tier });
                let placed = out.placed.expect("a trade places an order");
                assert_eq!(placed.size, size, "action {id}: size of tier {tier:?}");
                assert_eq!(placed.filled, size, "action {id}: filled");
                assert_eq!(out.filled, size, "action {id}: outcome filled");
                assert_eq!((placed.intent, placed.tier), (intent, tier));
                assert_eq!(placed.limit, p(expected_limit(intent)), "action {id}");
                assert_eq!(
                    placed.notional_cents,
                    size as i64 * expected_price(intent) as i64
                );
                assert_eq!(e.last_order().unwrap().size, size, "last_order_size");
                let signed = match intent {
                    Intent::BuyYes | Intent::SellNo => size as i64,
                    _ => -(size as i64),
                };
                assert_eq!(e.account().position(), pos_before + signed, "action {id}");
                assert!(e.working_order().is_none(), "fully filled: nothing rests");
                assert!(out.fee_cents > 0);
            }
            Err(ActionError::Reserved(_)) => {
                assert!(!mask[id as usize]);
                assert_eq!(out.executed, Action::Hold);
                assert_eq!(out.invalid, Some(InvalidAction::Reserved));
                assert_eq!(e.account().position(), pos_before);
            }
            Err(e) => panic!("{e}"),
        }
        assert_eq!(e.account().ledger_discrepancy(), 0);
    }
}

#[test]
fn every_action_fills_its_tier_size() {
    let sizes = SizeTable::DEFAULT.sizes();
    run_all_actions(SizeTable::DEFAULT, |t| sizes[t.index()]);
}

#[test]
fn every_action_with_a_custom_table() {
    let table = SizeTable::new([1, 2, 3, 7, 11]).unwrap();
    run_all_actions(table, |t| table.sizes()[t.index()]);
}

#[test]
fn fixed_size_mode_fills_ten_for_every_tier() {
    let fixed = SizeTable::DEFAULT.with_fixed(Contracts(10)).unwrap();
    run_all_actions(fixed, |_| 10);
}

#[test]
fn ids_25_and_above_are_always_errors() {
    for strict in [false, true] {
        let mut e = deep_book(EngineConfig {
            strict,
            ..EngineConfig::default()
        });
        for id in [25u32, 26, 100, 255, 256, u32::MAX] {
            assert_eq!(
                e.step_action(id),
                Err(StepError::Action(ActionError::OutOfRange(id)))
            );
            assert_eq!(
                e.action_invalid_reason(id),
                Err(ActionError::OutOfRange(id))
            );
        }
        assert_eq!(cash(&e), 100_000);
    }
}

#[test]
fn reserved_ids_are_masked_and_executed_as_hold() {
    let config = EngineConfig {
        pricing: kalsim_core::PricingMode::Passive,
        ..EngineConfig::default()
    };
    let mut e = deep_book(config);
    // A working order must survive a reserved action (executed as HOLD, which keeps it).
    e.step_action(1).unwrap();
    let working = *e.working_order().unwrap();
    let mask = e.action_mask();
    for id in 21u32..=24 {
        assert!(!mask[id as usize]);
        let out = e.step_action(id).unwrap();
        assert_eq!(out.executed, Action::Hold);
        assert_eq!(out.invalid, Some(InvalidAction::Reserved));
        assert_eq!(out.invalid.unwrap().name(), "reserved");
        assert_eq!(out.invalid.unwrap().code(), 8);
        assert_eq!((out.placed, out.cancelled, out.filled), (None, 0, 0));
        assert_eq!(e.working_order(), Some(&working));
        assert_eq!(
            e.action_invalid_reason(id),
            Ok(Some(InvalidAction::Reserved))
        );
    }
}

#[test]
fn strict_mode_returns_masked_errors() {
    let mut e = deep_book(EngineConfig {
        strict: true,
        ..EngineConfig::default()
    });
    assert_eq!(
        e.step_action(6),
        Err(StepError::Masked {
            action: 6,
            reason: InvalidAction::Limit(LimitViolation::InsufficientHoldings)
        })
    );
    assert_eq!(
        e.step_action(22),
        Err(StepError::Masked {
            action: 22,
            reason: InvalidAction::Reserved
        })
    );
    assert_eq!(cash(&e), 100_000);
    // Valid actions still execute in strict mode.
    assert_eq!(e.step_action(1).unwrap().filled, 5);
    assert_eq!(e.step_action(0).unwrap().invalid, None);
}

#[test]
fn each_limit_reason_is_reported_through_the_engine() {
    // Rule 1: at most 50 contracts → Giant (100) masked, Huge (50) allowed.
    let mut e = deep_book(EngineConfig {
        limits: Limits {
            max_position_per_market: 50,
            ..Limits::PLAN
        },
        ..EngineConfig::default()
    });
    assert_eq!(&e.action_mask()[1..=5], &[true, true, true, true, false]);
    assert_eq!(
        e.step_action(5).unwrap().invalid,
        Some(InvalidAction::Limit(LimitViolation::PositionLimit))
    );
    // Rule 2: $10 of position value → 20 × 45¢ = $9 ok, 50 × 45¢ = $22.50 not.
    let e = deep_book(EngineConfig {
        limits: Limits {
            max_position_value: kalsim_core::Cents(1_000),
            ..Limits::PLAN
        },
        ..EngineConfig::default()
    });
    assert_eq!(&e.action_mask()[1..=5], &[true, true, true, false, false]);
    assert_eq!(
        e.action_invalid_reason(4),
        Ok(Some(InvalidAction::Limit(LimitViolation::PositionValue)))
    );
    // Rule 3: a $200 account caps position value at 25 % = $50: BUY_NO Huge 50 × 60¢ = $30
    // passes, Giant 100 × 60¢ = $60 does not.
    let e = deep_book(with_cash(20_000));
    assert_eq!(&e.action_mask()[11..=15], &[true, true, true, true, false]);
    assert_eq!(
        e.action_invalid_reason(15),
        Ok(Some(InvalidAction::Limit(
            LimitViolation::PortfolioFraction
        )))
    );
    // Rule 4: $60 cash, no fraction cap: 20 × 45 + 35 fee leaves 5 065 ≥ 5 000; 50 does not.
    let mut e = deep_book(EngineConfig {
        initial_cash: kalsim_core::Cents(6_000),
        limits: Limits {
            max_portfolio_fraction: Bps(10_000),
            ..Limits::PLAN
        },
        ..EngineConfig::default()
    });
    assert_eq!(&e.action_mask()[1..=5], &[true, true, true, false, false]);
    let out = e.step_action(4).unwrap();
    assert_eq!(
        out.invalid,
        Some(InvalidAction::Limit(LimitViolation::CashBuffer))
    );
    assert_eq!(out.invalid.unwrap().name(), "cash_buffer");
    assert_eq!(cash(&e), 6_000);
    // No price: an empty NO ladder leaves BUY_YES without an ask.
    let mut e = engine_with(EngineConfig::default(), &[(40, 100)], &[]);
    assert_eq!(&e.action_mask()[1..=5], &[false; 5]);
    assert_eq!(
        e.step_action(3).unwrap().invalid,
        Some(InvalidAction::Limit(LimitViolation::NoPrice))
    );
}

#[test]
fn mask_and_codec_agree_on_layout() {
    // Mask index = action id: the BuyNo block follows SellYes.
    let mut e = deep_book(EngineConfig::default());
    e.step_action(encode(Intent::BuyNo, Tier::Medium) as u32)
        .unwrap();
    let mask = e.action_mask();
    // Holding 10 NO: SELL_NO Small/Medium allowed, SELL_YES none.
    assert_eq!(&mask[16..=20], &[true, true, false, false, false]);
    assert_eq!(&mask[6..=10], &[false; 5]);
    assert!(mask[0] && !mask[21] && !mask[24]);
}

#[test]
fn flipping_through_zero_must_pass_the_limits() {
    // YES ask 99 and NO ask 99 (both bids at 1¢). $101, no fraction cap, $50 buffer.
    let config = EngineConfig {
        initial_cash: kalsim_core::Cents(10_100),
        limits: Limits {
            max_portfolio_fraction: Bps(10_000),
            ..Limits::PLAN
        },
        ..EngineConfig::default()
    };
    let mut e = engine_with(config, &[(1, 10_000)], &[(1, 10_000)]);
    // +50 YES at 99: 4 950 + 4 fee (worst case 88) leaves 5 146 ≥ 5 000.
    let out = e
        .step_action(encode(Intent::BuyYes, Tier::Huge) as u32)
        .unwrap();
    assert_eq!((out.invalid, out.filled), (None, 50));
    assert_eq!(cash(&e), 5_146);
    // BUY_NO Giant would close 50 (+50¢) and open 50 NO at 99 (−4 950): |position| does not
    // grow, but it opens a new position and would leave 239¢ < $50 — it must be refused.
    assert!(!e.action_mask()[encode(Intent::BuyNo, Tier::Giant) as usize]);
    let out = e
        .step_action(encode(Intent::BuyNo, Tier::Giant) as u32)
        .unwrap();
    assert_eq!(
        out.invalid,
        Some(InvalidAction::Limit(LimitViolation::CashBuffer))
    );
    assert_eq!(e.account().position(), 50);
    // Closing exactly the holding (Huge = 50) only reduces and passes.
    let out = e
        .step_action(encode(Intent::BuyNo, Tier::Huge) as u32)
        .unwrap();
    assert_eq!((out.invalid, out.filled), (None, 50));
    assert_eq!(e.account().position(), 0);
    assert!(cash(&e) >= 0);
}
