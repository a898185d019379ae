//! The action codec over its whole input space (SPEC §2).

use kalsim_core::action::{decode, encode, encode_action};
use kalsim_core::{Action, ActionError, Intent, Tier};
use proptest::prelude::*;

#[test]
fn all_21_valid_actions_round_trip() {
    let mut seen = [false; 21];
    for id in 0u8..=20 {
        let a = decode(id as u32).unwrap();
        assert_eq!(encode_action(a), id);
        seen[id as usize] = true;
    }
    for intent in Intent::TRADES {
        for tier in Tier::ALL {
            let id = encode(intent, tier);
            assert_eq!(id, (intent as u8 - 1) * 5 + tier as u8 + 1);
            assert_eq!(decode(id as u32), Ok(Action::Trade { intent, tier }));
        }
    }
    assert_eq!(encode(Intent::Hold, Tier::Giant), 0);
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn every_u8_decodes_to_the_right_result() {
    for id in 0u8..=255 {
        let got = decode(id as u32);
        match id {
            0 => assert_eq!(got, Ok(Action::Hold)),
            1..=20 => assert_eq!(encode_action(got.unwrap()), id),
            21..=24 => assert_eq!(got, Err(ActionError::Reserved(id))),
            _ => assert_eq!(got, Err(ActionError::OutOfRange(id as u32))),
        }
    }
}

proptest! {
    #[test]
    fn every_u32_decodes_to_the_right_result(id in any::<u32>()) {
        let got = decode(id);
        match id {
            0 => prop_assert_eq!(got, Ok(Action::Hold)),
            1..=20 => {
                let a = got.unwrap();
                prop_assert_eq!(encode_action(a) as u32, id);
                let Action::Trade { intent, tier } = a else { panic!("trade expected") };
                prop_assert_eq!(intent as u32, (id - 1) / 5 + 1);
                prop_assert_eq!(tier as u32, (id - 1) % 5);
            }
            21..=24 => prop_assert_eq!(got, Err(ActionError::Reserved(id as u8))),
            _ => prop_assert_eq!(got, Err(ActionError::OutOfRange(id))),
        }
    }

    #[test]
    fn intent_and_tier_numbers_decode_with_typed_errors(v in any::<u8>()) {
        match Intent::try_from(v) {
            Ok(i) => prop_assert_eq!(i as u8, v),
            Err(e) => { prop_assert!(v > 4); prop_assert_eq!(e, ActionError::UnknownIntent(v)); }
        }
        match Tier::try_from(v) {
            Ok(t) => prop_assert_eq!(t as u8, v),
            Err(e) => { prop_assert!(v > 4); prop_assert_eq!(e, ActionError::UnknownTier(v)); }
        }
    }
}
