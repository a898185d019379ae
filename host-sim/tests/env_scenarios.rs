//! Hand-built markets through the whole environment: every reward to the cent, settlement,
//! terminal valuation, and all 25 actions (plan §9 "Verify correct size was used").

use std::sync::Arc;

use kalsim_core::OBS_DIM;
use kalsim_host_sim::data::{LoadOptions, load_str};
use kalsim_host_sim::env::{Env, EnvConfig};

fn env_over(jsonl: &str, cfg: EnvConfig) -> Env {
    let ds =
        load_str("hand.jsonl", jsonl, &LoadOptions::default()).expect("hand-written capture loads");
    Env::new(cfg, Arc::new(ds.markets)).unwrap()
}

fn snapshot(seq: u64, ticker: &str, yes: &str, no: &str) -> String {
    format!(
        r#"{{"type":"orderbook_snapshot","sid":1,"seq":{seq},"msg":{{"market_ticker":"{ticker}","yes":{yes},"no":{no}}}}}"#
    )
}

fn delta(seq: u64, ticker: &str, side: &str, price: u8, d: i64) -> String {
    format!(
        r#"{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"{ticker}","side":"{side}","price":{price},"delta":{d}}}}}"#
    )
}

fn result(ticker: &str, r: &str) -> String {
    format!(
        r#"{{"type":"market_lifecycle_v2","msg":{{"market_ticker":"{ticker}","result":"{r}"}}}}"#
    )
}

/// YES bids 40 (1000), 39 (500); NO bids 55 (1000), 54 (500): YES 40/45, NO 55/60.
fn hand_tape(with_result: bool, empty_no_side_at_end: bool) -> String {
    let t = "HAND-1";
    let mut lines = vec![
        snapshot(1, t, "[[40,1000],[39,500]]", "[[55,1000],[54,500]]"),
        delta(2, t, "yes", 40, 100),
        delta(3, t, "yes", 41, 200),
        delta(4, t, "no", 55, -990),
        delta(5, t, "no", 54, 10),
        delta(6, t, "yes", 39, -100),
    ];
    if empty_no_side_at_end {
        lines.push(delta(7, t, "no", 55, -10));
        lines.push(delta(8, t, "no", 54, -510));
    }
    if with_result {
        lines.push(result(t, "no"));
    }
    lines.join("\n")
}

#[test]
fn hand_computed_rewards_fees_and_settlement() {
    let mut env = env_over(&hand_tape(true, false), EnvConfig::default());
    let mut obs = vec![0.0; OBS_DIM];
    let info = env.reset(Some(0), &mut obs).unwrap();
    assert_eq!(info.portfolio_value_cents, 100_000);

    // 1. BUY_YES Medium: 10 @ 45¢ (the YES ask = 100 − NO bid 55). Fee ceil(7·10·45·55/10⁴) = 18.
    let r = env.step(2, &mut obs).unwrap();
    assert_eq!(
        (
            r.info.cash_cents,
            r.info.position,
            r.info.fee_this_step_cents
        ),
        (99_532, 10, 18)
    );
    assert_eq!(
        (
            r.info.last_order_size,
            r.info.last_order_filled,
            r.info.last_order_limit_cents
        ),
        // The sweep limit (SPEC §3, the default): the ask 45 + 2¢ of slippage; filled at 45.
        (10, 10, 47)
    );
    assert_eq!(r.info.portfolio_value_cents, 99_532 + 10 * 40);
    assert_eq!((r.reward * 100.0).round() as i64, -68);

    // 2. HOLD; the YES bid rises to 41.
    let r = env.step(0, &mut obs).unwrap();
    assert_eq!(r.info.portfolio_value_cents, 99_532 + 10 * 41);
    assert_eq!((r.reward * 100.0).round() as i64, 10);

    // 3. SELL_YES Small: 5 @ 41¢ ≡ BUY_NO 5 @ 59¢ closing YES: cash += 5·41, fee ceil(7·5·41·59/10⁴) = 9.
    let r = env.step(6, &mut obs).unwrap();
    assert_eq!(
        (
            r.info.cash_cents,
            r.info.position,
            r.info.fee_this_step_cents
        ),
        (99_728, 5, 9)
    );
    assert_eq!(r.info.portfolio_value_cents, 99_728 + 5 * 41);
    assert_eq!((r.reward * 100.0).round() as i64, -9);

    // 4. BUY_NO Small: 5 @ 59¢ closes the remaining YES (each pair returns 41¢), fee 9.
    let r = env.step(11, &mut obs).unwrap();
    assert_eq!((r.info.cash_cents, r.info.position), (99_924, 0));
    assert_eq!(r.info.portfolio_value_cents, 99_924);
    assert_eq!((r.reward * 100.0).round() as i64, -9);
    // Round trip of 10 YES cost exactly the spreads and fees, not 100¢ a contract.
    assert_eq!(100_000 - 99_924, 10 * 45 - 5 * 41 - 5 * 41 + 18 + 9 + 9);

    // 5. BUY_NO Large: 20 @ 59¢ opens NO, fee ceil(7·20·41·59/10⁴) = 34; then the market settles NO.
    let r = env.step(13, &mut obs).unwrap();
    assert!(r.terminated && !r.truncated);
    assert_eq!(r.info.settled, 2);
    assert_eq!(r.info.fees_paid_cents, 18 + 9 + 9 + 34);
    assert_eq!(
        (r.info.cash_cents, r.info.position),
        (99_924 - 20 * 59 - 34 + 20 * 100, 0)
    );
    assert_eq!(r.info.portfolio_value_cents, 100_710);
    assert_eq!((r.reward * 100.0).round() as i64, 100_710 - 99_924);
    assert_eq!(env.engine().account().ledger_discrepancy(), 0);
    assert!(env.step(0, &mut obs).is_err(), "the episode is over");
}

#[test]
fn truncation_marks_positions_never_at_zero() {
    for empty_no_side in [false, true] {
        let mut env = env_over(&hand_tape(false, empty_no_side), EnvConfig::default());
        let mut obs = vec![0.0; OBS_DIM];
        env.reset(Some(0), &mut obs).unwrap();
        let mut r = None;
        for a in [2, 0, 6, 11, 13] {
            r = Some(env.step(a, &mut obs).unwrap());
        }
        let mut r = r.unwrap();
        while !(r.terminated || r.truncated) {
            r = env.step(0, &mut obs).unwrap();
        }
        assert!(r.truncated && !r.terminated);
        assert_eq!(r.info.position, -20);
        // Liquidation mark: 20 NO at the best tradable NO bid. The data lowered NO 55 to the
        // 10 contracts the agent took there (SPEC §4: nothing left to take), so the bid is 54;
        // once the side empties, its last valid value, 54.
        let mark = 54;
        assert_eq!(r.info.portfolio_value_cents, r.info.cash_cents + 20 * mark);
    }
}

/// A deep, quiet market: every order fills completely at one level.
fn deep_tape(events: u64) -> String {
    let t = "DEEP-1";
    let mut lines = vec![snapshot(1, t, "[[45,100000],[10,5]]", "[[50,100000]]")];
    for i in 0..events {
        lines.push(delta(2 + i, t, "yes", 10, if i % 2 == 0 { 1 } else { -1 }));
    }
    lines.push(result(t, "yes"));
    lines.join("\n")
}

#[test]
fn all_25_actions_each_trade_fills_its_tier() {
    let sizes = [5u32, 10, 20, 50, 100];
    let mut env = env_over(&deep_tape(400), EnvConfig::default());
    let mut obs = vec![0.0; OBS_DIM];
    env.reset(Some(1), &mut obs).unwrap();
    let mut seen = [false; 25];
    for (tier, &size) in sizes.iter().enumerate() {
        // BUY_YES, SELL_YES (holding it), BUY_NO, SELL_NO (holding it).
        for intent in 0..4u32 {
            let action = intent * 5 + tier as u32 + 1;
            assert!(
                env.action_mask()[action as usize],
                "action {action} should be allowed"
            );
            let r = env.step(action, &mut obs).unwrap();
            assert_eq!(r.info.invalid_action, 0, "action {action}");
            assert_eq!(
                r.info.last_order_size, size,
                "action {action}: size of its tier"
            );
            assert_eq!(
                r.info.last_order_filled, size,
                "action {action}: filled completely"
            );
            assert_eq!(r.info.last_order_intent as u32, intent + 1);
            assert_eq!(r.info.last_order_tier as usize, tier);
            seen[action as usize] = true;
        }
        assert_eq!(env.engine().account().position(), 0);
    }
    // HOLD keeps everything; the reserved ids are masked and run as HOLD with reason 8.
    let before = env.engine().account().clone();
    let r = env.step(0, &mut obs).unwrap();
    assert_eq!(r.info.invalid_action, 0);
    seen[0] = true;
    for reserved in 21..25u32 {
        assert!(!env.action_mask()[reserved as usize]);
        let r = env.step(reserved, &mut obs).unwrap();
        assert_eq!(r.info.invalid_action, 8, "reserved {reserved}");
        seen[reserved as usize] = true;
    }
    assert_eq!(env.engine().account(), &before);
    assert!(seen.iter().all(|&s| s));
    // Reduce-only: selling what is not held is masked, and runs as HOLD with its reason.
    assert!(!env.action_mask()[6]);
    let r = env.step(6, &mut obs).unwrap();
    assert_eq!(r.info.invalid_action, 5);
    // Out of the action space: always an error, state untouched.
    assert!(env.step(25, &mut obs).is_err());
    assert!(env.step(u32::MAX, &mut obs).is_err());
}

#[test]
fn fixed_sizing_trades_ten_for_every_tier() {
    let cfg = EnvConfig {
        sizing: kalsim_host_sim::env::Sizing::Fixed,
        ..EnvConfig::default()
    };
    let mut env = env_over(&deep_tape(100), cfg);
    let mut obs = vec![0.0; OBS_DIM];
    env.reset(Some(1), &mut obs).unwrap();
    for tier in 0..5u32 {
        let r = env.step(1 + tier, &mut obs).unwrap();
        assert_eq!((r.info.last_order_size, r.info.last_order_filled), (10, 10));
        let r = env.step(6 + tier, &mut obs).unwrap();
        assert_eq!((r.info.last_order_size, r.info.last_order_filled), (10, 10));
    }
}

#[test]
fn strict_mode_refuses_masked_actions_without_changing_state() {
    let cfg = EnvConfig {
        invalid_action: kalsim_host_sim::env::InvalidActionMode::Error,
        ..EnvConfig::default()
    };
    let mut env = env_over(&deep_tape(50), cfg);
    let mut obs = vec![0.0; OBS_DIM];
    env.reset(Some(1), &mut obs).unwrap();
    let before = env.engine().account().clone();
    let e = env.step(6, &mut obs).unwrap_err();
    assert!(e.to_string().contains("masked"), "{e}");
    let e = env.step(22, &mut obs).unwrap_err();
    assert!(e.to_string().contains("reserved"), "{e}");
    assert_eq!(env.engine().account(), &before);
    assert!(env.step(1, &mut obs).is_ok());
}
