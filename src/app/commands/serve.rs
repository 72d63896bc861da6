//! `iwmo serve`: the worker (see [`crate::serve`]).

use crate::app::config::Config;

pub async fn run(config: Config) -> i32 {
    let today = config.today;
    crate::serve::run(config, today).await
}
