//! The rooms, one per message kind the gemeente receives. Adding a kind: one module with its
//! room, its catalogue entries, and a line here.

use super::declaratie::Wmo323Room;
use super::room::Room;
use super::startstop::StartStopRoom;
use super::toewijzing::{Wmo301Room, Wmo302Room};
use super::verzoek::{Wmo315Room, Wmo317Room};
use crate::message::{MessageKind, StartProduct, StopProduct};

static WMO301: Wmo301Room = Wmo301Room;
static WMO302: Wmo302Room = Wmo302Room;
static WMO305: StartStopRoom<StartProduct> = StartStopRoom::new();
static WMO307: StartStopRoom<StopProduct> = StartStopRoom::new();
static WMO315: Wmo315Room = Wmo315Room;
static WMO317: Wmo317Room = Wmo317Room;
static WMO323: Wmo323Room = Wmo323Room;

/// (kind, its room).
static ROOMS: &[(MessageKind, &dyn Room)] = &[
    (MessageKind::Wmo301, &WMO301),
    (MessageKind::Wmo302, &WMO302),
    (MessageKind::Wmo305, &WMO305),
    (MessageKind::Wmo307, &WMO307),
    (MessageKind::Wmo315, &WMO315),
    (MessageKind::Wmo317, &WMO317),
    (MessageKind::Wmo323, &WMO323),
];

/// Kinds the gemeente itself sends: received, they are refused.
static SENT_BY_GEMEENTE: &[MessageKind] = &[
    MessageKind::Wmo306,
    MessageKind::Wmo308,
    MessageKind::Wmo316,
    MessageKind::Wmo318,
    MessageKind::Wmo319,
    MessageKind::Wmo325,
];

/// The room of a kind the gemeente receives and decides on.
pub fn room(kind: MessageKind) -> Option<&'static dyn Room> {
    ROOMS.iter().find(|(k, _)| *k == kind).map(|(_, r)| *r)
}

/// Whether the gemeente sends this kind itself (so it never receives one).
pub fn sent_by_gemeente(kind: MessageKind) -> bool {
    SENT_BY_GEMEENTE.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_received_with_a_room_sent_or_registered() {
        for k in MessageKind::ALL {
            let roomed = room(k).is_some();
            assert!(
                !(roomed && sent_by_gemeente(k)),
                "{k} both received and sent"
            );
            if let Some(r) = room(k) {
                assert_eq!(r.name(), k.name());
            }
        }
    }
}
