//! The `Account` ledger against a naive reference model written independently here: plain
//! integers, YES and NO lots and cash tracked separately, a YES+NO pair netted at 100¢.

use kalsim_core::account::Marks;
use kalsim_core::{Account, Cents, Side};
use kalsim_tests::price;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// The naive model: buy contracts, then redeem every YES+NO pair for 100¢.
#[derive(Debug, Default)]
struct Naive {
    cash: i64,
    yes: i64,
    no: i64,
    fees: i64,
    /// Prices of the lots opened since the position was last flat (for cost-basis bounds).
    min_open: i64,
    max_open: i64,
}

impl Naive {
    fn buy(&mut self, yes: bool, count: i64, price: i64) {
        if self.yes == 0 && self.no == 0 {
            self.min_open = i64::MAX;
            self.max_open = 0;
        }
        self.cash -= count * price;
        if yes {
            self.yes += count;
        } else {
            self.no += count;
        }
        let pairs = self.yes.min(self.no);
        self.yes -= pairs;
        self.no -= pairs;
        self.cash += 100 * pairs;
        // Contracts that remain of the bought kind were (partly) opened at `price`.
        if (yes && self.yes > 0) || (!yes && self.no > 0) {
            self.min_open = self.min_open.min(price);
            self.max_open = self.max_open.max(price);
        }
    }
}

#[derive(Clone, Debug)]
enum LedgerOp {
    Buy { yes: bool, count: u32, price: u8 },
    Fee(i64),
}

fn ledger_op() -> impl Strategy<Value = LedgerOp> {
    prop_oneof![
        4 => (any::<bool>(), 1u32..=300, 1u8..=99)
            .prop_map(|(yes, count, price)| LedgerOp::Buy { yes, count, price }),
        1 => (0i64..=500).prop_map(LedgerOp::Fee),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1_024,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/ledger_model.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn account_agrees_with_naive_lots_model(
        initial in 0i64..=1_000_000,
        ops in prop::collection::vec(ledger_op(), 0..80),
        settle in prop::option::of(any::<bool>()),
        yes_mark in 1u16..=99,
        no_mark in 1u16..=99,
    ) {
        let mut account = Account::new(Cents(initial));
        let mut model = Naive { cash: initial, ..Naive::default() };
        for op in &ops {
            match *op {
                LedgerOp::Buy { yes, count, price: p } => {
                    let side = if yes { Side::Yes } else { Side::No };
                    account.buy(side, count, price(p));
                    model.buy(yes, count as i64, p as i64);
                }
                LedgerOp::Fee(f) => {
                    account.charge_fee(Cents(f));
                    model.cash -= f;
                    model.fees += f;
                }
            }
            prop_assert_eq!(account.cash().0, model.cash);
            prop_assert_eq!(account.position(), model.yes - model.no);
            prop_assert!(model.yes == 0 || model.no == 0);
            prop_assert_eq!(account.held(Side::Yes) as i64, model.yes);
            prop_assert_eq!(account.held(Side::No) as i64, model.no);
            prop_assert_eq!(account.fees_paid().0, model.fees);
            prop_assert_eq!(account.ledger_discrepancy(), 0);
            // Average cost lies between the cheapest and dearest lot opened since flat.
            let n = (model.yes + model.no) as i128;
            let basis = account.cost_basis().0 as i128;
            if n == 0 {
                prop_assert_eq!(basis, 0);
            } else {
                prop_assert!(basis >= n * model.min_open as i128 - 1 && basis <= n * model.max_open as i128,
                    "basis {} for {} contracts opened within {}..={}", basis, n, model.min_open, model.max_open);
            }
            // Portfolio value = cash + held × mark, independently.
            let marks = Marks { yes_x2: yes_mark * 2, no_x2: no_mark * 2 };
            prop_assert_eq!(
                account.portfolio_value(marks).0,
                model.cash + model.yes * yes_mark as i64 + model.no * no_mark as i64
            );
        }
        if let Some(yes_wins) = settle {
            let payout = account.settle(if yes_wins { Side::Yes } else { Side::No }).0;
            let model_payout = 100 * if yes_wins { model.yes } else { model.no };
            prop_assert_eq!(payout, model_payout);
            prop_assert_eq!(account.cash().0, model.cash + model_payout);
            prop_assert_eq!(account.position(), 0);
            prop_assert_eq!(account.cost_basis().0, 0);
            // Flat: everything is realised; P&L net of fees is the cash gained.
            prop_assert_eq!(account.realized_pnl().0 - account.fees_paid().0, account.cash().0 - initial);
            prop_assert_eq!(account.ledger_discrepancy(), 0);
        }
    }
}
