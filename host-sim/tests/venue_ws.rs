//! The WebSocket market-data client against the local exchange: exact book rebuild, gap
//! detection and resync, reconnect after a disconnect, refused handshake.

use std::time::{Duration, Instant};

use kalsim_core::{CentiContracts, OrderBook, Price, Rng, Side};
use kalsim_exchange::{Exchange, ExchangeConfig, Faults};
use kalsim_host_sim::venue::{
    BookUpdate, Credentials, MarketDataClient, MarketDataConfig, VenueError,
};
use kalsim_host_sim::wire::fixed::{format_centi_contracts, format_price_dollars};
use serde_json::{Value, json};

/// A throwaway RSA key made for these tests only; it guards nothing.
const TEST_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";
const TICKERS: [&str; 2] = ["KXWS-A", "KXWS-B"];
const DELTAS: usize = 240;

fn creds() -> Credentials {
    Credentials::from_pem(KEY_ID, TEST_KEY_PEM).unwrap()
}

/// Snapshots (one fixed-point, one legacy) then random valid deltas in both forms. YES bids
/// stay in 30..=44 and NO bids in 40..=55, so the book never crosses.
fn script() -> Vec<Value> {
    let mut out = vec![
        json!({"type": "orderbook_snapshot", "sid": 9, "seq": 1, "msg": {"market_ticker": TICKERS[0],
            "yes_dollars_fp": [["0.4000", "120.50"], ["0.3800", "10.00"]],
            "no_dollars_fp": [["0.5500", "99.99"], ["0.5000", "0.25"]]}}),
        json!({"type": "orderbook_snapshot", "sid": 9, "seq": 2, "msg": {"market_ticker": TICKERS[1],
            "yes": [[35, 40]], "no": [[45, 12], [41, 3]]}}),
    ];
    let mut models = [OrderBook::new(), OrderBook::new()];
    for (m, v) in models.iter_mut().zip(&out) {
        let msg = &v["msg"];
        let ladder = |k: &str, legacy: &str| -> Vec<(Price, CentiContracts)> {
            let fp = msg
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let lg = msg
                .get(legacy)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            fp.iter()
                .map(|l| {
                    let px =
                        kalsim_host_sim::wire::fixed::parse_price_dollars(l[0].as_str().unwrap())
                            .unwrap();
                    let q =
                        kalsim_host_sim::wire::fixed::parse_centi_contracts(l[1].as_str().unwrap())
                            .unwrap();
                    (px, CentiContracts(q as u64))
                })
                .chain(lg.iter().map(|l| {
                    (
                        Price::new(l[0].as_u64().unwrap() as u8).unwrap(),
                        CentiContracts(l[1].as_u64().unwrap() * 100),
                    )
                }))
                .collect()
        };
        m.apply_snapshot(
            &ladder("yes_dollars_fp", "yes"),
            &ladder("no_dollars_fp", "no"),
        )
        .unwrap();
    }
    let mut rng = Rng::new(7);
    for i in 0..DELTAS {
        let k = rng.below(2) as usize;
        let side = if rng.below(2) == 0 {
            Side::Yes
        } else {
            Side::No
        };
        let c = match side {
            Side::Yes => 30 + rng.below(15) as u8,
            Side::No => 40 + rng.below(16) as u8,
        };
        let px = Price::new(c).unwrap();
        let depth = models[k].depth(side, px).0;
        let delta: i64 = if depth > 0 && rng.below(3) == 0 {
            -((rng.below(depth) + 1) as i64)
        } else if rng.below(2) == 0 {
            (rng.below(50) as i64 + 1) * 100
        } else {
            rng.below(5000) as i64 + 1
        };
        models[k].apply_delta(side, px, delta).unwrap();
        let msg = if delta % 100 == 0 && i % 2 == 0 {
            json!({"market_ticker": TICKERS[k], "side": side.name(), "price": c, "delta": delta / 100})
        } else {
            json!({"market_ticker": TICKERS[k], "side": side.name(),
                "price_dollars": format_price_dollars(px), "delta_fp": format_centi_contracts(delta)})
        };
        out.push(json!({"type": "orderbook_delta", "sid": 9, "seq": i + 3, "msg": msg}));
    }
    out
}

fn start(faults: Faults) -> Exchange {
    let mut cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    cfg.ws_script = script();
    let ex = Exchange::start(cfg).unwrap();
    ex.set_faults(faults);
    ex
}

fn client(ex: &Exchange, credentials: &Credentials) -> Result<MarketDataClient, VenueError> {
    let mut cfg =
        MarketDataConfig::new(ex.ws_url(), TICKERS.iter().map(|t| t.to_string()).collect());
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.reconnect_backoff = Duration::from_millis(20);
    MarketDataClient::connect(cfg, credentials)
}

/// Drain updates until the script is done and the stream is quiet; return what was seen.
fn run(ex: &Exchange, c: &mut MarketDataClient) -> Vec<BookUpdate> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "stream did not finish");
        match c.next_update(Duration::from_millis(300)).unwrap() {
            Some(u) => seen.push(u),
            None if ex.ws_script_done() => return seen,
            None => {}
        }
    }
}

fn assert_same_books(ex: &Exchange, c: &MarketDataClient) {
    for t in TICKERS {
        let truth = ex.ws_book(t).unwrap();
        let ours = c.book(t).unwrap_or_else(|| panic!("{t} not in sync"));
        for side in [Side::Yes, Side::No] {
            for cents in 1..=99 {
                let px = Price::new(cents).unwrap();
                assert_eq!(
                    ours.depth(side, px),
                    truth.depth(side, px),
                    "{t} {side:?} {cents}"
                );
            }
            assert_eq!(ours.best_bid(side), truth.best_bid(side));
        }
    }
}

#[test]
fn rebuilds_the_exchange_book_exactly() {
    let ex = start(Faults::default());
    let mut c = client(&ex, &creds()).unwrap();
    let seen = run(&ex, &mut c);
    assert_same_books(&ex, &c);
    let deltas = seen
        .iter()
        .filter(|u| matches!(u, BookUpdate::Delta { .. }))
        .count();
    assert_eq!(deltas, DELTAS);
    assert_eq!((c.gaps_detected(), c.reconnects()), (0, 0));
}

#[test]
fn detects_a_gap_and_resyncs() {
    let ex = start(Faults {
        ws_gap_at: Some(100),
        ..Faults::default()
    });
    let mut c = client(&ex, &creds()).unwrap();
    let seen = run(&ex, &mut c);
    assert_eq!(c.gaps_detected(), 1);
    assert!(seen.iter().any(|u| matches!(u, BookUpdate::Gap { .. })));
    // Fresh snapshots after the gap.
    let snaps = seen
        .iter()
        .filter(|u| matches!(u, BookUpdate::Snapshot { .. }))
        .count();
    assert!(snaps >= 3, "{snaps}");
    assert_same_books(&ex, &c);
}

#[test]
fn survives_a_disconnect() {
    let ex = start(Faults {
        ws_disconnect_after: Some(80),
        ..Faults::default()
    });
    let mut c = client(&ex, &creds()).unwrap();
    let seen = run(&ex, &mut c);
    assert_eq!(c.reconnects(), 1);
    assert!(seen.contains(&BookUpdate::Reconnected));
    assert_eq!(ex.stats().ws_connections, 2);
    assert_same_books(&ex, &c);
}

#[test]
fn refuses_a_bad_signature() {
    let ex = start(Faults::default());
    let wrong = Credentials::from_pem("not-our-key", TEST_KEY_PEM).unwrap();
    assert!(matches!(client(&ex, &wrong), Err(VenueError::Auth(_))));
    assert_eq!(ex.stats().unauthorized, 1);
}

#[test]
fn user_channels_and_lifecycle_arrive_and_floats_read_exactly() {
    use kalsim_core::{Contracts, Intent};
    use kalsim_host_sim::venue::ws::Channels;
    use kalsim_host_sim::venue::{KalshiConfig, KalshiVenue, OrderRequest, Venue};
    let mut s = script();
    s.truncate(40);
    s.push(
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": TICKERS[0],
        "event_type": "determined", "result": "no"}}),
    );
    s.push(
        json!({"type": "market_lifecycle_v2", "msg": {"market_ticker": "KXOTHER",
        "event_type": "determined", "result": "no"}}),
    );
    let mut cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    cfg.ws_script = s;
    cfg.ws_interval = Duration::from_millis(5);
    let ex = Exchange::start(cfg).unwrap();
    ex.set_faults(Faults {
        float_numbers: true,
        ..Faults::default()
    });
    let mut mcfg =
        MarketDataConfig::new(ex.ws_url(), TICKERS.iter().map(|t| t.to_string()).collect());
    mcfg.channels = Channels::TRADING;
    let mut c = MarketDataClient::connect(mcfg, &creds()).unwrap();
    // Wait for the first snapshot, then trade against the streamed book.
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.book(TICKERS[0]).is_none() {
        assert!(Instant::now() < deadline);
        c.next_update(Duration::from_millis(50)).unwrap();
    }
    let mut v = KalshiVenue::new(KalshiConfig::new(ex.rest_base_url()), &creds());
    let ask = c
        .book(TICKERS[0])
        .unwrap()
        .best_bid(Side::No)
        .unwrap()
        .complement();
    let ack = v
        .place_order(
            &OrderRequest::from_intent(TICKERS[0], Intent::BuyYes, Contracts(2), ask, "ws-1")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(ack.filled, Contracts(2));
    let (mut fills, mut orders, mut lifecycle) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    while (fills.is_empty() || orders.is_empty() || lifecycle.is_empty())
        && Instant::now() < deadline
    {
        match c.next_update(Duration::from_millis(100)).unwrap() {
            Some(BookUpdate::Fill(f)) => fills.push(f),
            Some(BookUpdate::Order(o)) => orders.push(o),
            Some(BookUpdate::Lifecycle(l)) => lifecycle.push(l),
            Some(BookUpdate::Unparsed { kind, error }) => panic!("{kind}: {error}"),
            _ => {}
        }
    }
    assert_eq!(fills.iter().map(|f| f.count.0).sum::<u32>(), 2, "{fills:?}");
    assert!(fills.iter().all(|f| f.price == ask && f.fee_cents > 0));
    assert_eq!(orders[0].client_order_id, "ws-1");
    assert_eq!(lifecycle.len(), 1, "only followed markets");
    assert_eq!(lifecycle[0].result, Some(Side::No));
}
