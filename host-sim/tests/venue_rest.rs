//! The Kalshi REST venue against the local exchange over loopback: signatures, V2 order
//! round trips per intent (with fees), batch create and cancel, cancel routing, the retired
//! legacy endpoints (410), the recorded contract checked on every request, token budgets
//! with 429 + Retry-After, float-typed numbers, price grids, and idempotent order entry
//! under faults (no duplicate, never "rejected" on a time-out or an unreadable answer).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kalsim_core::{CentiContracts, Cents, Contracts, Intent, OrderBook, Price, Side};
use kalsim_exchange::{Exchange, ExchangeConfig, Faults};
use kalsim_host_sim::venue::auth::{
    HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, verify_signature,
};
use kalsim_host_sim::venue::{
    Credentials, KalshiConfig, KalshiVenue, OrderOptions, OrderRequest, OrderStatus, RateLimits,
    RetryPolicy, TimeInForce, Venue, VenueError,
};
use serde_json::json;

/// A throwaway RSA key made for these tests only; it guards nothing.
const TEST_KEY_PEM: &str = include_str!("fixtures/TEST_ONLY_rsa2048_private_key.pem");
const KEY_ID: &str = "test-key-id";
const T: &str = "KXTEST-26NOV-A";
const D: &str = "KXDECI-26NOV-B";

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
    cfg.books = vec![(T.to_owned(), book()), (D.to_owned(), book())];
    cfg.deci_cent_markets = vec![D.to_owned()];
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

fn no_violations(ex: &Exchange) {
    assert!(
        ex.contract_violations().is_empty(),
        "the client broke the recorded contract: {:?}",
        ex.contract_violations()
    );
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
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut rb = agent.get(format!("{}/portfolio/positions", ex.rest_base_url()));
    for (k, v) in signer.headers("GET", path) {
        rb = rb.header(k, v);
    }
    assert_eq!(
        rb.call().unwrap().status().as_u16(),
        401,
        "signed for another path"
    );
    let mut rb = agent.get(format!("{}/portfolio/balance", ex.rest_base_url()));
    for (k, v) in signer.headers("GET", path) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.call().unwrap().status().as_u16(), 200);
    let mut rb = agent.get(format!("{}/portfolio/balance", ex.rest_base_url()));
    rb = rb.header(HEADER_KEY, KEY_ID).header(HEADER_TIMESTAMP, "1");
    rb = rb.header(HEADER_SIGNATURE, "AAAA");
    assert_eq!(rb.call().unwrap().status().as_u16(), 401);
    let mut wrong = KalshiVenue::new(
        KalshiConfig::new(ex.rest_base_url()),
        &Credentials::from_pem("someone-else", TEST_KEY_PEM).unwrap(),
    );
    assert!(
        matches!(wrong.balance(), Err(VenueError::Auth(m)) if m.contains("/portfolio/balance"))
    );
    assert_eq!(ex.stats().unauthorized, 3);
}

#[test]
fn v2_round_trip_per_intent_with_fees() {
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |_| {});
    assert_eq!(v.balance().unwrap(), Cents(100_000));
    assert_eq!(v.orderbook(T).unwrap(), (book(), 0));
    // BUY_YES at the YES ask 45: takes 10 (a bid at 0.45 on the YES book).
    let a = v
        .place_order(&order(Intent::BuyYes, 10, 45, "rt-1"))
        .unwrap();
    assert_eq!(
        (a.status, a.filled, a.remaining),
        (OrderStatus::Executed, Contracts(10), Contracts::ZERO)
    );
    // SELL_YES at the YES bid 40 (reduce-only): takes 4.
    let sell = order(Intent::SellYes, 4, 40, "rt-2").with_options(OrderOptions {
        reduce_only: true,
        ..OrderOptions::default()
    });
    assert_eq!(v.place_order(&sell).unwrap().filled, Contracts(4));
    // BUY_NO at the NO ask 60 (an ask at 0.40): closes 6 YES, opens 4 NO.
    assert_eq!(
        v.place_order(&order(Intent::BuyNo, 10, 60, "rt-3"))
            .unwrap()
            .filled,
        Contracts(10)
    );
    assert_eq!(v.positions().unwrap()[0].position_contracts, -4);
    // SELL_NO at the NO bid 55 (a bid at 0.45), reduce-only asking for more than held: the
    // exchange caps it at the 4 held, so netting cannot flip the position.
    let sell_no = order(Intent::SellNo, 9, 55, "rt-4").with_options(OrderOptions {
        reduce_only: true,
        ..OrderOptions::default()
    });
    assert_eq!(v.place_order(&sell_no).unwrap().filled, Contracts(4));
    assert!(v.positions().unwrap().is_empty());

    // Fills in YES-book terms: (contract, action, count, YES price).
    let fills = v.fills().unwrap();
    let got: Vec<(Side, &str, u32, u8)> = fills
        .iter()
        .map(|f| (f.contract, f.action.name(), f.count.0, f.price.cents()))
        .collect();
    assert_eq!(
        got,
        [
            (Side::Yes, "buy", 10, 45),
            (Side::Yes, "sell", 4, 40),
            (Side::Yes, "sell", 10, 40),
            (Side::Yes, "buy", 4, 45)
        ]
    );
    assert!(v.fills().unwrap().is_empty(), "fills are reported once");
    // Fees by Kalshi's schedule: 18 + 7 + 17 + 7, read from each fill's fee_cost.
    let fees: i64 = fills.iter().map(|f| f.fee_cents).sum();
    assert_eq!(fees, 49);
    assert_eq!(fees, ex.fees_paid());
    // Cash: −450 +160 +(6·40 − 4·60) +4·55 = −70, minus the fees.
    assert_eq!(v.balance().unwrap(), Cents(100_000 - 70 - 49));
    assert_eq!(v.balance().unwrap(), ex.balance());

    // A post-only order that rests, with an expiry, is listed and cancels (routed by ticker).
    let resting = order(Intent::BuyNo, 5, 50, "rt-5").with_options(OrderOptions {
        post_only: true,
        expiration_time_s: Some(kalsim_host_sim::venue::auth::now_ms() / 1000 + 600),
        ..OrderOptions::default()
    });
    let a = v.place_order(&resting).unwrap();
    assert_eq!(
        (a.status, a.remaining),
        (OrderStatus::Resting, Contracts(5))
    );
    let w = v.working_orders().unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].client_order_id, "rt-5");
    assert!(
        matches!(v.cancel_order(D, &a.order_id), Err(VenueError::NotFound(_))),
        "wrong market"
    );
    v.cancel_order(T, &a.order_id).unwrap();
    assert!(v.working_orders().unwrap().is_empty());
    assert!(matches!(
        v.cancel_order(T, &a.order_id),
        Err(VenueError::NotFound(_))
    ));
    // A post-only order that would cross is refused, typed, naming the endpoint.
    let cross = order(Intent::BuyYes, 1, 45, "rt-6").with_options(OrderOptions {
        post_only: true,
        ..OrderOptions::default()
    });
    match v.place_order(&cross) {
        Err(VenueError::Rejected { endpoint, code, .. }) => {
            assert_eq!(
                (endpoint.as_str(), code.as_str()),
                ("POST /portfolio/events/orders", "post_only_cross")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        v.place_order(&order(Intent::BuyYes, 1, 45, "bad id with spaces")),
        Err(VenueError::InvalidRequest(_))
    ));
    // Immediate-or-cancel: takes what is there, the rest is cancelled, nothing rests.
    let ioc = order(Intent::BuyYes, 500, 46, "rt-7").with_options(OrderOptions {
        time_in_force: TimeInForce::ImmediateOrCancel,
        ..OrderOptions::default()
    });
    let a = v.place_order(&ioc).unwrap();
    assert_eq!((a.filled, a.remaining), (Contracts(136), Contracts::ZERO));
    assert!(v.working_orders().unwrap().is_empty());
    no_violations(&ex);
}

#[test]
fn batches_legacy_410_contract_and_price_grids() {
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |_| {});
    let resting = |i: u32| order(Intent::BuyYes, 1 + i, 30 + i as u8, &format!("b-{i}"));
    let mut batch: Vec<OrderRequest> = (0..3).map(resting).collect();
    let mut other = resting(3);
    other.ticker = "KXNOPE".into();
    batch.push(other);
    let acks = v.place_orders(&batch);
    assert_eq!(acks.len(), 4);
    assert!(
        acks[..3]
            .iter()
            .all(|a| a.as_ref().is_ok_and(|a| a.status == OrderStatus::Resting))
    );
    assert!(
        matches!(&acks[3], Err(VenueError::Rejected { code, .. }) if code == "market_not_found")
    );
    let ids: Vec<(String, String)> = acks[..3]
        .iter()
        .map(|a| (T.to_owned(), a.as_ref().unwrap().order_id.clone()))
        .collect();
    v.cancel_order(T, &ids[0].1).unwrap();
    let r = v.cancel_orders(&ids);
    assert!(matches!(r[0], Err(VenueError::NotFound(_))), "{:?}", r[0]);
    assert!(r[1].is_ok() && r[2].is_ok());
    assert!(v.working_orders().unwrap().is_empty());

    // The legacy write endpoints are retired: 410, typed, naming the endpoint.
    let legacy = json!({"ticker": T, "side": "yes", "action": "buy", "count": 1, "yes_price": 30,
        "type": "limit", "client_order_id": "legacy-1"});
    match v.call("POST", "/portfolio/orders", Some(&legacy)) {
        Err(VenueError::Deprecated { endpoint, message }) => {
            assert_eq!(endpoint, "POST /portfolio/orders");
            assert!(
                message.contains("deprecated_v1_order_endpoint"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        v.call("DELETE", "/portfolio/orders/ord-000001", None),
        Err(VenueError::Deprecated { .. })
    ));
    assert_eq!(ex.stats().deprecated_calls, 2);
    no_violations(&ex);
    // The contract checker is live: a body off the record is refused and counted.
    let mut off =
        kalsim_host_sim::venue::kalshi::v2::create_body(&order(Intent::BuyYes, 1, 30, "off-1"));
    off["count_fp"] = json!("1.00");
    assert!(matches!(
        v.call("POST", "/portfolio/events/orders", Some(&off)),
        Err(VenueError::Rejected { code, .. }) if code == "invalid_parameters"
    ));
    assert_eq!(ex.contract_violations().len(), 1);

    // Price grids: the deci-cent market is refused for trading, naming it.
    assert!(v.market(T).unwrap().check_tradable().is_ok());
    let e = v.market(D).unwrap().check_tradable().unwrap_err();
    assert!(
        e.to_string().contains(D) && e.to_string().contains("tapered_deci_cent"),
        "{e}"
    );
}

#[test]
fn budgets_pace_and_429s_are_retried_with_retry_after() {
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
        "default pacing stays under the Basic tier"
    );
    drop(v);
    drop(ex);

    // The exchange's write budget is far below the client's: 429 + Retry-After, honoured.
    let ex = exchange(|c| {
        c.rate_limits.write_tokens_per_sec = 50.0;
        c.rate_limits.write_burst_secs = 0.4;
        c.retry_after = true;
    });
    let mut v = venue(&ex, |c| {
        c.rate_limits = RateLimits::unlimited();
        c.retry = RetryPolicy {
            max_attempts: 12,
            base_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        };
    });
    let t0 = Instant::now();
    for i in 0..8 {
        v.place_order(&order(Intent::BuyYes, 1, 2, &format!("fast-{i}")))
            .unwrap();
    }
    let stats = ex.stats();
    assert!(stats.rate_limited > 0 && v.throttled() > 0, "{stats:?}");
    // 2 in the burst, then one per 200 ms.
    assert!(
        t0.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        t0.elapsed()
    );
    assert!(
        stats.rate_limited <= 12,
        "Retry-After was not honoured: {stats:?}"
    );
    assert_eq!(stats.orders_booked, 8);
    assert!(ex.orders_per_client_order_id().values().all(|&n| n == 1));
    no_violations(&ex);
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
        order_read_lag: Duration::from_millis(150),
        float_numbers: true,
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
    // Float-typed numbers read exactly: positions, cash and fills agree with the exchange.
    let ours: HashMap<String, i64> = v
        .positions()
        .unwrap()
        .into_iter()
        .map(|p| (p.ticker, p.position_contracts))
        .collect();
    assert_eq!(ours, ex.positions());
    assert_eq!(v.balance().unwrap(), ex.balance());
    let fills = v.fills().unwrap();
    let net: i64 = fills.iter().map(|f| f.signed_count()).sum();
    assert_eq!(net, ex.positions().get(T).copied().unwrap_or(0));
    assert_eq!(
        fills.iter().map(|f| f.fee_cents).sum::<i64>(),
        ex.fees_paid()
    );
    // An explicit resend of a known client_order_id resolves to the original order.
    let again = v
        .place_order(&order(Intent::BuyYes, 3, 45, "fault-0"))
        .unwrap();
    assert_eq!(again.order_id, ids[0]);
    assert_eq!(ex.orders_per_client_order_id()["fault-0"], 1);
    no_violations(&ex);
}

#[test]
fn an_unanswered_submit_is_unresolved_never_rejected() {
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |c| {
        c.request_timeout = Duration::from_millis(300);
        c.retry.max_attempts = 3;
    });
    // Booked, the answer is lost, and reads lag far behind: nothing can settle it.
    ex.set_faults(Faults {
        order_drop_after_accept: 1,
        order_read_lag: Duration::from_secs(30),
        ..Faults::default()
    });
    match v.place_order(&order(Intent::BuyYes, 1, 30, "lost-1")) {
        Err(VenueError::Unresolved {
            client_order_id, ..
        }) => assert_eq!(client_order_id, "lost-1"),
        other => panic!("expected an unresolved submit, got {other:?}"),
    }
    assert_eq!(ex.orders_per_client_order_id()["lost-1"], 1, "booked once");
    // The look-ups missed it (reads lag), so it was sent again with the same id, and the
    // exchange's duplicate guard refused the second booking.
    assert!(ex.stats().duplicates_refused >= 1, "{:?}", ex.stats());
    assert_eq!(
        ex.resting_orders().len(),
        1,
        "and live: the caller must look it up"
    );
    // Reads catch up: the look-up finds it.
    ex.set_faults(Faults::default());
    let found = v.find_order_by_client_id(T, "lost-1").unwrap().unwrap();
    assert_eq!(found.status, OrderStatus::Resting);
    // The caller's retry with the same id resolves to the same order, booked once.
    let again = v
        .place_order(&order(Intent::BuyYes, 1, 30, "lost-1"))
        .unwrap();
    assert_eq!(again.order_id, found.order_id);
    assert_eq!(ex.orders_per_client_order_id()["lost-1"], 1);
    no_violations(&ex);
}

#[test]
fn an_accepted_submit_whose_answer_cannot_be_read_is_looked_up_never_failed() {
    // The exchange books the order, but its 201 answer is cut short or lacks `order_id`: no
    // clear answer, so the order is looked up by its client_order_id and adopted, never
    // reported failed (the caller would then send a second one).
    let ex = exchange(|_| {});
    let mut v = venue(&ex, |_| {});
    let resting_id = |coid: &str| {
        ex.resting_orders()
            .into_iter()
            .find(|(_, _, c)| c == coid)
            .map(|(_, id, _)| id)
    };
    ex.set_faults(Faults {
        order_truncate_after_accept: 1,
        order_strip_id_after_accept: 1,
        ..Faults::default()
    });
    for (i, coid) in ["cut-1", "noid-1"].into_iter().enumerate() {
        let ack = v
            .place_order(&order(Intent::BuyYes, 2, 30 - i as u8, coid))
            .unwrap();
        assert_eq!(
            (ack.client_order_id.as_str(), ack.status, ack.remaining),
            (coid, OrderStatus::Resting, Contracts(2))
        );
        assert_eq!(Some(ack.order_id), resting_id(coid));
    }
    assert_eq!(ex.unreadable_answers(), ["cut-1", "noid-1"]);
    assert_eq!(
        ex.stats().duplicates_refused,
        0,
        "found at once: not resent"
    );
    // Reads lag: the first look-ups (0 and ≥ 50 ms) miss it, the resend with the same id is
    // refused (409), and the look-ups after it (until ≥ 300 ms) find the order booked first.
    ex.set_faults(Faults {
        order_truncate_after_accept: 1,
        order_read_lag: Duration::from_millis(200),
        ..Faults::default()
    });
    let mut patient = venue(&ex, |c| c.retry.base_backoff = Duration::from_millis(50));
    let ack = patient
        .place_order(&order(Intent::BuyYes, 1, 27, "cut-2"))
        .unwrap();
    ex.set_faults(Faults::default());
    assert_eq!(Some(ack.order_id), resting_id("cut-2"));
    assert!(ex.stats().duplicates_refused >= 1, "{:?}", ex.stats());
    // A batch answered unreadably, whole or item by item: each order looked up, none resent.
    for (fault, tag) in [
        (
            Faults {
                order_truncate_after_accept: 1,
                ..Faults::default()
            },
            "cut",
        ),
        (
            Faults {
                order_strip_id_after_accept: 1,
                ..Faults::default()
            },
            "noid",
        ),
    ] {
        ex.set_faults(fault);
        let batch: Vec<OrderRequest> = (0..2u8)
            .map(|i| order(Intent::BuyYes, 1, 20 + i, &format!("batch-{tag}-{i}")))
            .collect();
        for (o, r) in batch.iter().zip(v.place_orders(&batch)) {
            let ack = r.unwrap();
            assert_eq!(Some(ack.order_id), resting_id(&o.client_order_id));
        }
    }
    assert_eq!(ex.unreadable_answers().len(), 7);
    let counts = ex.orders_per_client_order_id();
    assert_eq!(counts.len(), 7);
    assert!(counts.values().all(|&n| n == 1), "duplicate: {counts:?}");
    no_violations(&ex);
}

#[test]
fn sub_cent_fees_are_read_exactly_and_no_fill_is_lost() {
    // A direct member's account: Kalshi rounds each trade fee up to $0.0001 (*Fee Rounding*)
    // and keeps the balance to $0.0001, so one contract at 45¢ costs a `fee_cost` of "0.0174"
    // (7 × 45 × 55 / 100 = 173.25 centicents, rounded up).
    let ex = exchange(|c| c.sub_cent_fees = true);
    let mut v = venue(&ex, |_| {});
    for (i, float) in [false, false, true].into_iter().enumerate() {
        ex.set_faults(Faults {
            float_numbers: float,
            ..Faults::default()
        });
        let ack = v
            .place_order(&order(Intent::BuyYes, 1, 45, &format!("sub-{i}")))
            .unwrap();
        assert_eq!(ack.filled, Contracts(1));
    }
    assert_eq!(ex.fees_paid_centicents(), 3 * 174);
    // Every fill is reported, its fee exact and rounded up to the cent for the account.
    let fills = v.fills().unwrap();
    assert_eq!(
        fills
            .iter()
            .map(|f| (f.count.0, f.fee_micros, f.fee_cents))
            .collect::<Vec<_>>(),
        [(1, 17_400, 2); 3],
        "{:?}",
        v.drain_warnings()
    );
    assert!(v.drain_warnings().is_empty());
    // The balance keeps the fraction; it is read rounded down: $1 000 − 1.35 − 0.0522.
    assert_eq!(v.balance().unwrap(), Cents(100_000 - 135 - 6));
    assert_eq!(v.balance().unwrap(), ex.balance());
    no_violations(&ex);
}

#[test]
fn listings_page_with_an_opaque_cursor_sent_back_exactly() {
    // Pages of two items, so every listing spans pages; each cursor holds `+ / =`, `& % # ?`,
    // a space and a non-ASCII letter, and must reach the exchange exactly as it was given.
    let ex = exchange(|c| c.max_page = 2);
    let mut v = venue(&ex, |_| {});
    for i in 0..5u8 {
        let bid = order(Intent::BuyYes, 1, 30 - i, &format!("page-rest-{i}"));
        let a = v.place_order(&bid).unwrap();
        assert_eq!(a.status, OrderStatus::Resting);
    }
    for i in 0..3 {
        let take = order(Intent::BuyYes, 1, 45, &format!("page-take-{i}"));
        assert_eq!(v.place_order(&take).unwrap().filled, Contracts(1));
    }
    let mut resting: Vec<String> = v
        .working_orders()
        .unwrap()
        .into_iter()
        .map(|w| w.client_order_id)
        .collect();
    resting.sort();
    let want: Vec<String> = (0..5).map(|i| format!("page-rest-{i}")).collect();
    assert_eq!(resting, want);
    assert_eq!(v.fills().unwrap().len(), 3);
    // The look-up pages through the market's eight orders to the last one placed.
    let last = v.find_order_by_client_id(T, "page-take-2").unwrap();
    assert_eq!(last.map(|a| a.filled), Some(Contracts(1)));
    no_violations(&ex);
}
