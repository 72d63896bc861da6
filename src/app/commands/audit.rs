//! `iwmo audit verify`: seals what is pending, then checks the whole hash chain (messages and the
//! actions of people).

use crate::store::{ChainItem, Store};

/// Exit 0 when the chain is intact, 1 at a broken link, 3 when the store fails.
pub async fn verify(store: &Store) -> i32 {
    match store.verify_links().await {
        Ok(c) => match c.verbroken {
            None => {
                println!(
                    "hashketen intact: {} bericht(en), {} actie(s)",
                    c.berichten, c.acties
                );
                0
            }
            Some(ChainItem::Bericht(id)) => {
                println!("hashketen verbroken bij bericht {id}");
                1
            }
            Some(ChainItem::Actie(id)) => {
                println!("hashketen verbroken bij actie {id}");
                1
            }
        },
        Err(e) => {
            eprintln!("iwmo: {e}");
            3
        }
    }
}
