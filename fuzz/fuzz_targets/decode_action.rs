//! Any `u32` → `decode` never panics and follows SPEC §2 exactly.
#![no_main]

use kalsim_core::action::{ActionError, decode, encode_action};
use kalsim_core::{Action, Intent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for chunk in data.chunks(4) {
        let mut b = [0u8; 4];
        b[..chunk.len()].copy_from_slice(chunk);
        let a = u32::from_le_bytes(b);
        match decode(a) {
            Ok(Action::Hold) => assert_eq!(a, 0),
            Ok(action @ Action::Trade { intent, tier }) => {
                assert!((1..=20).contains(&a), "{a} decoded to a trade");
                assert_ne!(intent, Intent::Hold);
                assert_eq!(u32::from(encode_action(action)), a, "round trip");
                assert_eq!((a - 1) / 5, intent as u32 - 1);
                assert_eq!((a - 1) % 5, tier as u32);
            }
            Err(ActionError::Reserved(r)) => {
                assert!((21..=24).contains(&a));
                assert_eq!(u32::from(r), a);
            }
            Err(ActionError::OutOfRange(r)) => {
                assert!(a >= 25);
                assert_eq!(r, a);
            }
            Err(e) => panic!("decode({a}) gave an error SPEC §2 does not allow: {e:?}"),
        }
    }
});
