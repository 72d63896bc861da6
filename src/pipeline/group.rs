//! How a batch of valid messages is cut into transactions and, inside a transaction, into groups
//! that can be decided together (by the keys their rooms give).

use std::collections::{HashMap, HashSet};

use super::prepare::Valid;
use crate::store::MAX_STRIPES;

/// Splits a batch (in order) into transactions that lock at most [`MAX_STRIPES`] clients
/// each, so a batch of large declarations does not need the exclusive all-clients lock; a
/// single message about more clients is a transaction of its own.
pub fn transactions(valid: &[(usize, Valid)]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut clients: HashSet<(String, String)> = Default::default();
    for (n, (_, v)) in valid.iter().enumerate() {
        let mine = v.room.keys(&v.msg).clients;
        let new = mine.iter().filter(|c| !clients.contains(*c)).count();
        if n > start && clients.len() + new > MAX_STRIPES {
            out.push(start..n);
            start = n;
            clients.clear();
        }
        clients.extend(mine);
    }
    if start < valid.len() {
        out.push(start..valid.len());
    }
    out
}

/// What a message reads and writes: its clients, the toewijzingen it names, its inbox key.
fn touches(v: &Valid) -> Vec<String> {
    let keys = v.room.keys(&v.msg);
    let mut out: Vec<String> = keys
        .clients
        .into_iter()
        .map(|(g, b)| format!("c{g}:{b}"))
        .collect();
    out.push(format!(
        "k{}:{}:{}",
        v.afzender, v.kind, v.ident.identificatie
    ));
    out.extend(
        keys.toewijzingen
            .into_iter()
            .map(|(g, n)| format!("t{g}:{n}")),
    );
    out
}

/// Splits messages into groups that can be decided together, in the order to process them.
/// A groupable message goes into the first group after every earlier message it shares a key
/// with (so per client, toewijzing and inbox key the delivery order is kept, and a burst for one
/// client does not split the others' group); any other message (a 323) is a barrier, alone in
/// its group after everything before it. Each message sees the state it would see one by one.
pub fn groups(vs: &[&Valid]) -> Vec<Vec<usize>> {
    let mut level_of_key: HashMap<String, usize> = Default::default();
    let mut levels: Vec<Vec<usize>> = Vec::new();
    let mut floor = 0;
    for (i, v) in vs.iter().enumerate() {
        let level = if v.room.keys(&v.msg).groupable {
            let keys = touches(v);
            let level = keys
                .iter()
                .filter_map(|k| level_of_key.get(k).map(|l| l + 1))
                .fold(floor, usize::max);
            for k in keys {
                level_of_key.insert(k, level);
            }
            level
        } else {
            let level = levels.len();
            floor = level + 1;
            level
        };
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push(i);
    }
    levels
}
