//! The V2 order-entry wire shapes (recorded with their sources in `docs/live.md`): request
//! bodies of create / batch create / batch cancel, and their answers.

use kalsim_core::Contracts;
use serde_json::{Map, Value, json};

use super::super::{OrderAck, OrderRequest, OrderStatus, TimeInForce, VenueError};
use crate::wire::fixed::{format_count_fp, format_price_dollars};
use crate::wire::orders::{count_field, proto, str_field};

/// `POST /portfolio/events/orders`.
pub const CREATE: &str = "/portfolio/events/orders";
/// `POST` (create) and `DELETE` (cancel) of batches.
pub const BATCHED: &str = "/portfolio/events/orders/batched";
/// `DELETE /portfolio/events/orders/{order_id}`, without the id.
pub const CANCEL_PREFIX: &str = "/portfolio/events/orders/";

/// The V2 create body of one order: `ticker`, `client_order_id`, `side` (bid/ask), `count`
/// and `price` (fixed-point strings), `time_in_force`, `self_trade_prevention_type`, and the
/// optional `expiration_time`, `post_only`, `reduce_only`, `cancel_order_on_pause`.
pub fn create_body(order: &OrderRequest) -> Value {
    let o = &order.options;
    let mut body = Map::new();
    body.insert("ticker".into(), json!(order.ticker));
    body.insert("client_order_id".into(), json!(order.client_order_id));
    body.insert("side".into(), json!(order.book_side().name()));
    body.insert("count".into(), json!(format_count_fp(order.count)));
    body.insert(
        "price".into(),
        json!(format_price_dollars(order.yes_book_price())),
    );
    body.insert("time_in_force".into(), json!(o.time_in_force.name()));
    body.insert(
        "self_trade_prevention_type".into(),
        json!(o.self_trade_prevention.name()),
    );
    if let (TimeInForce::GoodTillCanceled, Some(t)) = (o.time_in_force, o.expiration_time_s) {
        body.insert("expiration_time".into(), json!(t));
    }
    if o.post_only {
        body.insert("post_only".into(), json!(true));
    }
    if o.reduce_only {
        body.insert("reduce_only".into(), json!(true));
    }
    body.insert(
        "cancel_order_on_pause".into(),
        json!(o.cancel_order_on_pause),
    );
    Value::Object(body)
}

/// The V2 batch-create body.
pub fn batch_create_body(orders: &[OrderRequest]) -> Value {
    json!({ "orders": orders.iter().map(create_body).collect::<Vec<_>>() })
}

/// The V2 batch-cancel body.
pub fn batch_cancel_body(order_ids: &[&str]) -> Value {
    json!({ "orders": order_ids.iter().map(|id| json!({"order_id": id})).collect::<Vec<_>>() })
}

/// The acknowledgement in a create answer (`order_id`, `fill_count`, `remaining_count`; the
/// status follows from the counts: an order with nothing left is done).
pub fn parse_create_answer(v: &Value, fallback_coid: &str) -> Result<OrderAck, VenueError> {
    let v = v.get("order").unwrap_or(v);
    let filled = count_field(v, "fill_count")?.unwrap_or(Contracts::ZERO);
    let remaining = count_field(v, "remaining_count")?.unwrap_or(Contracts::ZERO);
    Ok(OrderAck {
        order_id: str_field(v, "order_id")?.to_owned(),
        client_order_id: v
            .get("client_order_id")
            .and_then(Value::as_str)
            .unwrap_or(fallback_coid)
            .to_owned(),
        status: if remaining.0 > 0 {
            OrderStatus::Resting
        } else {
            OrderStatus::Executed
        },
        filled,
        remaining,
    })
}

/// The items of a batch answer (`{"orders": [...]}`), checked to match the request's length.
pub fn batch_items(v: &Value, expected: usize, what: &str) -> Result<Vec<Value>, VenueError> {
    let items = v
        .get("orders")
        .and_then(Value::as_array)
        .ok_or_else(|| proto(format!("{what}: answer without orders")))?;
    if items.len() != expected {
        return Err(proto(format!(
            "{what}: {} answers for {expected} orders",
            items.len()
        )));
    }
    Ok(items.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::{OrderOptions, SelfTradePrevention};
    use kalsim_core::{Intent, Price};

    #[test]
    fn bodies_follow_the_v2_contract() {
        let o = OrderRequest::from_intent(
            "KX-1",
            Intent::BuyNo,
            Contracts(10),
            Price::new(44).unwrap(),
            "c-1",
        )
        .unwrap()
        .with_options(OrderOptions {
            expiration_time_s: Some(1_800_000_000),
            post_only: true,
            self_trade_prevention: SelfTradePrevention::Maker,
            ..OrderOptions::default()
        });
        let b = create_body(&o);
        assert_eq!(b["side"], "ask");
        assert_eq!(b["price"], "0.5600");
        assert_eq!(b["count"], "10.00");
        assert_eq!(b["time_in_force"], "good_till_canceled");
        assert_eq!(b["expiration_time"], 1_800_000_000u64);
        assert_eq!(b["post_only"], true);
        assert_eq!(b["self_trade_prevention_type"], "maker");
        assert!(b.get("reduce_only").is_none() && b.get("action").is_none());
        let ioc = o.with_options(OrderOptions {
            time_in_force: TimeInForce::ImmediateOrCancel,
            expiration_time_s: Some(5),
            reduce_only: true,
            ..OrderOptions::default()
        });
        let b = create_body(&ioc);
        assert!(b.get("expiration_time").is_none(), "IOC carries no expiry");
        assert_eq!(b["reduce_only"], true);
        let a = parse_create_answer(
            &json!({"order_id": "o", "fill_count": "3.00", "remaining_count": 7.0}),
            "c-1",
        )
        .unwrap();
        assert_eq!(
            (a.status, a.filled, a.remaining, a.client_order_id.as_str()),
            (OrderStatus::Resting, Contracts(3), Contracts(7), "c-1")
        );
    }
}
