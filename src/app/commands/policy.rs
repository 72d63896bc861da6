//! `iwmo policy set GEMEENTE signal|hold|reject`.

use crate::rules::state::StartPolicy;
use crate::store::Store;

/// Exit 0 when set, 2 for an unknown policy or gemeentecode, 3 when the store fails.
pub async fn set(store: &Store, gemeente: &str, policy: &str) -> i32 {
    let Some(p) = StartPolicy::parse(policy) else {
        eprintln!("iwmo policy set: beleid moet signal, hold of reject zijn");
        return 2;
    };
    if crate::domain::Gemeentecode::parse(gemeente).is_err() {
        eprintln!("iwmo policy set: gemeentecode moet 4 cijfers zijn");
        return 2;
    }
    if p == StartPolicy::Reject {
        tracing::warn!(gemeente = %gemeente, "beleid 'reject' wijkt af van OP364 (geen afkeur op ontbrekende start)");
        eprintln!(
            "let op: 'reject' wijkt af van OP364; declaratieregels zonder start worden afgekeurd"
        );
    }
    match store.set_start_policy(gemeente, p).await {
        Ok(()) => {
            println!("beleid voor gemeente {gemeente}: {}", p.as_str());
            0
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}
