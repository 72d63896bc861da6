//! `iwmo audit verify`: seals what is pending, then checks the whole hash chain.

use crate::store::Store;

/// Exit 0 when the chain is intact, 1 at a broken link, 3 when the store fails.
pub async fn verify(store: &Store) -> i32 {
    match store.verify_chain().await {
        Ok(Ok(n)) => {
            println!("hashketen intact: {n} bericht(en)");
            0
        }
        Ok(Err(id)) => {
            println!("hashketen verbroken bij bericht {id}");
            1
        }
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}
