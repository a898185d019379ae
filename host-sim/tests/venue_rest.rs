//! The Kalshi REST venue against the local exchange over loopback: signatures, order round
//! trips per intent, pacing and 429 retries, and idempotent order entry under faults.

use std::collections::HashMap;
use std::time::Duration;

use kalsim_core::{CentiContracts, Cents, Contracts, Intent, OrderBook, Price, Side};
use kalsim_host_sim::venue::auth::{
    HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, verify_signature,
};
use kalsim_host_sim::venue::exchange::{Exchange, ExchangeConfig, Faults};
use kalsim_host_sim::venue::{
    Credentials, KalshiConfig, KalshiVenue, OrderRequest, OrderStatus, RateLimits, RetryPolicy,
    Venue, VenueError,
};

/// A throwaway RSA key made for these tests only; it guards nothing.
const TEST_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";
const T: &str = "KXTEST-26NOV-A";

fn creds() -> Credentials {
    Credentials::from_pem(KEY_ID, TEST_KEY_PEM).unwrap()
}

fn p(c: u8) -> Price {
    Price::new(c).unwrap()
}

/// YES bids 40 (100), 39 (50); NO bids 55 (100), 54 (50): YES 40 / 45, NO 55 / 60.
fn book() -> OrderBook {
    let mut b = OrderBook::new();
    let lv = |c: u8, n: u64| (p(c), CentiContracts(n * 100));
    b.apply_snapshot(&[lv(40, 100), lv(39, 50)], &[lv(55, 100), lv(54, 50)])
        .unwrap();
    b
}

fn exchange(tune: impl FnOnce(&mut ExchangeConfig)) -> Exchange {
    let mut cfg = ExchangeConfig::new(KEY_ID, creds().public_key());
    cfg.books = vec![(T.to_owned(), book())];
    tune(&mut cfg);
    Exchange::start(cfg).unwrap()
}

fn venue(ex: &Exchange, tune: impl FnOnce(&mut KalshiConfig)) -> KalshiVenue {
    let mut cfg = KalshiConfig::new(ex.rest_base_url());
    cfg.request_timeout = Duration::from_secs(5);
    cfg.retry.base_backoff = Duration::from_millis(20);
    tune(&mut cfg);
    KalshiVenue::new(cfg, &creds())
}

fn order(intent: Intent, count: u32, price: u8, coid: &str) -> OrderRequest {
    OrderRequest::from_intent(T, intent, Contracts(count), p(price), coid).unwrap()
}

#[test]
fn signatures_verify_and_tampering_is_refused() {
    let c = creds();
    let signer = c.signer();
    let path = "/trade-api/v2/portfolio/balance";
    let sig = signer.sign(1_700_000_000_000, "GET", path);
    let pk = c.public_key();
    assert!(verify_signature(&pk, "1700000000000", "GET", path, &sig));
    assert!(!verify_signature(&pk, "1700000000001", "GET", path, &sig));
    assert!(!verify_signature(&pk, "1700000000000", "POST", path, &sig));
    assert!(!verify_signature(
        &pk,
        "1700000000000",
        "GET",
        "/trade-api/v2/portfolio/fills",
        &sig
    ));
    let mut bytes = sig.into_bytes();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    assert!(!verify_signature(
        &pk,
        "1700000000000",
        "GET",
        path,
        &String::from_utf8(bytes).unwrap()
    ));
    assert!(!format!("{c:?}").contains(KEY_ID), "Debug must redact");

    let ex = exchange(|_| {});
    // Headers signed for another path are refused on the wire.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut rb = agent.get(format!("{}/portfolio/positions", ex.rest_base_url()));
    for (k, v) in signer.headers("GET", path) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.call().unwrap().status().as_u16(), 401);
    let mut rb = agent.get(format!("{}/portfolio/balance", ex.rest_base_url()));
    for (k, v) in signer.headers("GET", path) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.call().unwrap().status().as_u16(), 200);
    let mut rb = agent.get(format!("{}/portfolio/balance", ex.rest_base_url()));
    rb = rb.header(HEADER_KEY, KEY_ID).header(HEADER_TIMESTAMP, "1");
    rb = rb.header(HEADER_SIGNATURE, "AAAA");
    assert_eq!(rb.call().unwrap().status().as_u16(), 401);

    // A venue with the wrong key id gets a typed Auth error.
    let mut wrong = KalshiVenue::new(
        KalshiConfig::new(ex.rest_base_url()),
        &Credentials::from_pem("someone-else", TEST_KEY_PEM).unwrap(),
    );
    assert!(matches!(wrong.balance(), Err(VenueError::Auth(_))));
    assert_eq!(ex.stats().unauthorized, 3);
}

#[test]
fn order_round_trip_per_intent() {
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |_| {});
    assert_eq!(v.balance().unwrap(), Cents(100_000));
    assert_eq!(v.orderbook(T).unwrap(), book());

    // BUY_YES at the YES ask (45 = 100 - NO bid 55): takes 10.
    let a = v
        .place_order(&order(Intent::BuyYes, 10, 45, "rt-1"))
        .unwrap();
    assert_eq!(
        (a.status, a.filled, a.remaining),
        (OrderStatus::Executed, Contracts(10), Contracts::ZERO)
    );
    // SELL_YES at the YES bid 40: takes 4.
    let a = v
        .place_order(&order(Intent::SellYes, 4, 40, "rt-2"))
        .unwrap();
    assert_eq!(a.filled, Contracts(4));
    // BUY_NO at the NO ask (60 = 100 - YES bid 40): closes 6 YES, opens 4 NO.
    let a = v
        .place_order(&order(Intent::BuyNo, 10, 60, "rt-3"))
        .unwrap();
    assert_eq!(a.filled, Contracts(10));
    assert_eq!(v.positions().unwrap()[0].position_contracts, -4);
    // SELL_NO at the NO bid 55: flat again.
    let a = v
        .place_order(&order(Intent::SellNo, 4, 55, "rt-4"))
        .unwrap();
    assert_eq!(a.filled, Contracts(4));
    assert!(v.positions().unwrap().is_empty());

    let fills = v.fills().unwrap();
    assert_eq!(fills.len(), 4);
    let got: Vec<(Side, u32, u8)> = fills
        .iter()
        .map(|f| (f.contract, f.count.0, f.price.cents()))
        .collect();
    assert_eq!(
        got,
        [
            (Side::Yes, 10, 45),
            (Side::Yes, 4, 40),
            (Side::No, 10, 60),
            (Side::No, 4, 55)
        ]
    );
    assert!(v.fills().unwrap().is_empty(), "fills are reported once");
    // Cash: -450 +160 +(6*40 - 4*60) +4*55 = -70.
    assert_eq!(v.balance().unwrap(), Cents(100_000 - 70));
    assert_eq!(v.balance().unwrap(), ex.balance());

    // A passive order rests, is listed, and cancels.
    let a = v.place_order(&order(Intent::BuyNo, 5, 50, "rt-5")).unwrap();
    assert_eq!(
        (a.status, a.remaining),
        (OrderStatus::Resting, Contracts(5))
    );
    let w = v.working_orders().unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(
        (
            w[0].contract,
            w[0].price.cents(),
            w[0].client_order_id.as_str()
        ),
        (Side::No, 50, "rt-5")
    );
    v.cancel_order(T, &a.order_id).unwrap();
    assert!(v.working_orders().unwrap().is_empty());
    assert!(matches!(
        v.cancel_order(T, &a.order_id),
        Err(VenueError::NotFound(_))
    ));
    assert!(matches!(
        v.place_order(&order(Intent::BuyYes, 1, 45, "bad id with spaces")),
        Err(VenueError::InvalidRequest(_))
    ));
}

#[test]
fn default_pacing_causes_no_429_and_429s_are_retried() {
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |_| {});
    for i in 0..22 {
        v.place_order(&order(Intent::BuyYes, 1, 2, &format!("burst-{i}")))
            .unwrap();
    }
    for _ in 0..30 {
        v.balance().unwrap();
    }
    assert_eq!(
        ex.stats().rate_limited,
        0,
        "default pacing stays under the exchange's limits"
    );
    drop(v);
    drop(ex);

    // A client configured far above the exchange's budget is throttled, and retries.
    let ex = exchange(|c| {
        c.rate_limits = RateLimits {
            reads_per_sec: 20.0,
            writes_per_sec: 2.0,
        }
    });
    let mut v = venue(&ex, |c| {
        c.rate_limits = RateLimits {
            reads_per_sec: 1000.0,
            writes_per_sec: 1000.0,
        };
        c.retry = RetryPolicy {
            max_attempts: 8,
            base_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
    });
    for i in 0..8 {
        v.place_order(&order(Intent::BuyYes, 1, 2, &format!("fast-{i}")))
            .unwrap();
    }
    let stats = ex.stats();
    assert!(stats.rate_limited > 0, "{stats:?}");
    assert_eq!(stats.orders_booked, 8);
    assert!(ex.orders_per_client_order_id().values().all(|&n| n == 1));
}

#[test]
fn faults_never_duplicate_orders_and_positions_reconcile() {
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |c| c.request_timeout = Duration::from_millis(400));
    ex.set_faults(Faults {
        order_5xx: 2,
        order_drop_after_accept: 2,
        order_delay_after_accept: 2,
        response_delay: Duration::from_millis(900),
        read_5xx: 2,
        ..Faults::default()
    });
    let plan = [
        (Intent::BuyYes, 3, 45),
        (Intent::BuyYes, 2, 46),
        (Intent::SellYes, 1, 40),
        (Intent::BuyNo, 2, 50),
        (Intent::BuyNo, 1, 60),
        (Intent::SellNo, 1, 55),
        (Intent::BuyYes, 4, 45),
        (Intent::SellYes, 2, 39),
    ];
    let mut ids = Vec::new();
    for (i, (intent, n, px)) in plan.into_iter().enumerate() {
        let coid = format!("fault-{i}");
        let ack = v.place_order(&order(intent, n, px, &coid)).unwrap();
        assert_eq!(ack.client_order_id, coid);
        ids.push(ack.order_id);
    }
    let left = ex.faults();
    assert_eq!(
        (
            left.order_5xx,
            left.order_drop_after_accept,
            left.order_delay_after_accept
        ),
        (0, 0, 0),
        "every fault fired"
    );
    let counts = ex.orders_per_client_order_id();
    assert_eq!(counts.len(), plan.len());
    assert!(
        counts.values().all(|&n| n == 1),
        "duplicate order: {counts:?}"
    );
    let mut uniq = ids.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), ids.len());

    // Positions, cash and fills agree with the exchange.
    let ours: HashMap<String, i64> = v
        .positions()
        .unwrap()
        .into_iter()
        .map(|p| (p.ticker, p.position_contracts))
        .collect();
    assert_eq!(ours, ex.positions());
    assert_eq!(v.balance().unwrap(), ex.balance());
    let net: i64 = v
        .fills()
        .unwrap()
        .iter()
        .map(|f| {
            let n = i64::from(f.count.0);
            match (f.contract, f.action) {
                (Side::Yes, kalsim_host_sim::venue::OrderAction::Buy)
                | (Side::No, kalsim_host_sim::venue::OrderAction::Sell) => n,
                _ => -n,
            }
        })
        .sum();
    assert_eq!(net, ex.positions().get(T).copied().unwrap_or(0));

    // An explicit resend of a known client_order_id is refused (409) and resolved to the
    // original order.
    let again = v
        .place_order(&order(Intent::BuyYes, 3, 45, "fault-0"))
        .unwrap();
    assert_eq!(again.order_id, ids[0]);
    assert_eq!(ex.orders_per_client_order_id()["fault-0"], 1);
    assert!(ex.stats().duplicates_refused >= 1);
}
