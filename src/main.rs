use clap::Parser;

fn main() {
    let cli = iwmo::cli::Cli::parse();
    iwmo::telemetry::init(&cli);
    std::process::exit(iwmo::cli::run(cli));
}
