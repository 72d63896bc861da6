use clap::Parser;

fn main() {
    let cli = iwmo::cli::Cli::parse();
    std::process::exit(iwmo::cli::run(cli));
}
