//! `iwmo dead-letters list | show N | replay N`: the RabbitMQ dead-letter queue (no database).

use crate::app::cli::DeadLetterAction;
use crate::app::config::Config;
use crate::serve::amqp::{dead_letters, DeadLetter};

/// Exit 0 when done, 1 when there is no dead letter N, 3 when RabbitMQ cannot be reached.
pub async fn run(action: &DeadLetterAction, c: &Config) -> i32 {
    let replay = match action {
        DeadLetterAction::Replay { n } => Some(*n),
        _ => None,
    };
    let list = match dead_letters(c, replay).await {
        Ok(list) => list,
        Err(e) => {
            eprintln!("iwmo dead-letters: RabbitMQ niet bereikbaar: {e}");
            return 3;
        }
    };
    match action {
        DeadLetterAction::List => {
            if list.is_empty() {
                println!("geen dead letters in {}", c.dead_letter_queue);
            }
            for d in &list {
                println!(
                    "{:>4}  {} bytes  message-id {}  reden {}",
                    d.index,
                    d.size,
                    d.message_id.as_deref().unwrap_or("-"),
                    d.reason
                );
            }
            0
        }
        DeadLetterAction::Show { n } => match find(&list, *n) {
            Some(d) => {
                println!("{}", String::from_utf8_lossy(&d.body));
                0
            }
            None => 1,
        },
        DeadLetterAction::Replay { n } => match find(&list, *n) {
            Some(_) => {
                println!("dead letter {n} opnieuw aangeboden aan {}", c.inbound_queue);
                0
            }
            None => 1,
        },
    }
}

fn find(list: &[DeadLetter], n: usize) -> Option<&DeadLetter> {
    let found = list.iter().find(|d| d.index == n);
    if found.is_none() {
        eprintln!("geen dead letter nummer {n}");
    }
    found
}
